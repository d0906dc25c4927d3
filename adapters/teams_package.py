"""`handledarbot teams-package`: the zip to upload to Teams (manifest.json + two icons).

The manifest template in `manifests/teams/manifest.json` names the bot as `{{MICROSOFT_APP_ID}}`;
the package gets the configured Azure Bot app id there (also used as the Teams app id). Edit the
template's `developer` URLs and `version` before publishing to an organisation's app catalogue.
The app id must be a GUID (the manifest schema's `id` and `botId` pattern, Teams refuses others);
tests/test_teams.py validates what this writes against Microsoft's schema v1.17.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from bot.settings import Settings

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifests" / "teams"
PLACEHOLDER = "{{MICROSOFT_APP_ID}}"
DEFAULT_OUT = Path("handledarbot-teams.zip")
# The manifest schema's GUID pattern for `id` and `bots[].botId` (v1.17).
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def build_package(
    settings: Settings, out_path: Path | str = DEFAULT_OUT, *, manifest_dir: Path = MANIFEST_DIR
) -> Path:
    """Write the Teams app package to `out_path` and return its path.

    Raises ValueError when MICROSOFT_APP_ID is not set or not a GUID (Teams needs the bot's app
    id) or an icon is missing (run `python manifests/teams/make_icons.py`).
    """
    app_id = (settings.microsoft_app_id or "").strip()
    if not app_id:
        raise ValueError(
            "MICROSOFT_APP_ID is not set: the Teams app package needs the Azure Bot's "
            "Microsoft App ID. Set it in the environment or in .env."
        )
    if not GUID.match(app_id):
        raise ValueError(
            f"MICROSOFT_APP_ID must be the Azure Bot's Microsoft App ID, a GUID such as "
            f"00000000-0000-0000-0000-000000000000; got {app_id!r}."
        )
    template = (manifest_dir / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(template.replace(PLACEHOLDER, app_id))
    icons = [manifest["icons"]["color"], manifest["icons"]["outline"]]
    missing = [name for name in icons if not (manifest_dir / name).is_file()]
    if missing:
        raise ValueError(
            f"Icon(s) {', '.join(missing)} missing in {manifest_dir}; "
            "run `python manifests/teams/make_icons.py`."
        )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name in icons:
            package.write(manifest_dir / name, arcname=name)
    return out
