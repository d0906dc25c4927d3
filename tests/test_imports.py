"""The core knows nothing of Slack, Teams or the web server: importing it loads none of them; and
the server loads a platform's SDK only when that platform is configured."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE

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


# Run in a child process: `handledarbot serve` until /healthz answers, then SIGTERM to itself
# (a graceful stop), then the libraries it had imported by then, as JSON on stdout.
SERVE_AND_LIST = """
import json, os, signal, sys, threading, time, urllib.request
from adapters import cli

def stop_when_up():
    url = f"http://127.0.0.1:{os.environ['HANDLEDARBOT_PORT']}/healthz"
    while True:
        try:
            health = json.loads(urllib.request.urlopen(url, timeout=1).read())
            break
        except OSError:
            time.sleep(0.05)
    print(json.dumps({"adapters": health["adapters"]}), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=stop_when_up, daemon=True).start()
status = cli.main(["serve"])
print(json.dumps({"status": status, "modules": sorted({n.split(".")[0] for n in sys.modules})}))
"""
SDKS = {"slack_bolt", "botbuilder"}
ON_FIRST_USE = {"dateparser", "icalendar", "asyncpg"}  # dates read, calendars, PostgreSQL


@pytest.mark.parametrize(("platforms", "adapters", "sdks"), [
    ({}, ["web"], set()),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret"}, ["slack-http", "web"],
     {"slack_bolt"}),
    ({"HANDLEDARBOT_TEAMS": "true"}, ["teams", "web"], {"botbuilder"}),
])
def test_serve_imports_only_the_platforms_configured(
    tmp_path: Path, platforms: dict[str, str], adapters: list[str], sdks: set[str]
) -> None:
    """Start-up time: a server without Slack or Teams does not load slack_bolt or botbuilder
    (0.3 s of imports before it answers), nor the reminders' date parsing and calendar, nor
    asyncpg on SQLite; with one configured, that one's SDK is loaded and the adapter served."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HANDLEDARBOT_KNOWLEDGE_DIR": str(KNOWLEDGE),
        "HANDLEDARBOT_SQLITE_PATH": str(tmp_path / "bot.sqlite3"),
        "HANDLEDARBOT_HOST": "127.0.0.1",
        "HANDLEDARBOT_PORT": str(port),
        "HANDLEDARBOT_WEB": "true",
        "HANDLEDARBOT_WATCH_KNOWLEDGE": "false",
        **platforms,
    }
    result = subprocess.run([sys.executable, "-c", SERVE_AND_LIST], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0 and len(lines) == 2, result.stderr
    assert lines[0]["adapters"] == adapters
    assert lines[1]["status"] == 0
    loaded = set(lines[1]["modules"])
    assert loaded & SDKS == sdks
    assert not loaded & ON_FIRST_USE
