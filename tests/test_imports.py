"""The core knows nothing of Slack, Teams or the web server: importing it loads none of them."""

from __future__ import annotations

import subprocess
import sys

PLATFORM_MODULES = ("slack_bolt", "slack_sdk", "botbuilder", "aiohttp")


def test_the_core_imports_no_platform_library() -> None:
    code = (
        "import sys, pkgutil, importlib, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {PLATFORM_MODULES!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
