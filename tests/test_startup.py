"""Start-up mistakes as an operator makes them: each is one line on stderr naming the setting and
what to do, exit status 2, no traceback, and no process left alive that never listens."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import __version__
from tests.conftest import KNOWLEDGE, ROOT

START_TIMEOUT = 60  # seconds; a start-up that hangs fails the test instead of hanging it


def start(tmp: Path, *args: str, env: dict[str, str] | None = None,
          user: str | None = None) -> subprocess.CompletedProcess[str]:
    """`handledarbot serve` (or `args`) in `tmp` with the web page on and a SQLite file there."""
    environment = {**os.environ, "HANDLEDARBOT_WEB": "true", "HANDLEDARBOT_PORT": str(free_port()),
                   "HANDLEDARBOT_SQLITE_PATH": str(tmp / "bot.sqlite3"), **(env or {})}
    command = [sys.executable, "-m", "adapters.cli", *(args or ("serve",))]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, env=environment, cwd=tmp, capture_output=True, text=True,
                          timeout=START_TIMEOUT)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused start; fails unless exit 2, one line, no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert "listening" not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize(("variable", "value"), [
    ("HANDLEDARBOT_PORT", "abc"),
    ("PORT", "70000"),
    ("HANDLEDARBOT_PORT", "-1"),
    ("HANDLEDARBOT_WEB", "ja"),
    ("HANDLEDARBOT_TIMEZONE", "Stockholm"),
    ("HANDLEDARBOT_RATE_LIMIT_SECONDS", "en minut"),
    ("HANDLEDARBOT_LOG_FORMAT", "xml"),
    ("DATABASE_URL", "mysql://bot@db/handledarbot"),
])
def test_an_unusable_value_is_named_with_what_to_set(tmp_path: Path, variable: str,
                                                     value: str) -> None:
    line = one_line(start(tmp_path, env={variable: value}))
    assert line.startswith(f"handledarbot: {variable}")
    if variable != "DATABASE_URL":  # may hold a password: never echoed
        assert repr(value) in line


def test_a_bad_value_from_the_environment_is_not_blamed_on_the_env_file(tmp_path: Path) -> None:
    """The environment wins over `.env`: the error names where the used value came from."""
    (tmp_path / ".env").write_text("HANDLEDARBOT_PORT=3978\n", encoding="utf-8")
    line = one_line(start(tmp_path, env={"HANDLEDARBOT_PORT": "abc"}))
    assert line.startswith("handledarbot: HANDLEDARBOT_PORT='abc'"), line
    assert ".env" not in line


def test_a_time_zone_that_is_not_one_is_refused_before_any_reminder(tmp_path: Path) -> None:
    line = one_line(start(tmp_path, "ask", "hej", env={"HANDLEDARBOT_TIMEZONE": "Stockholm"}))
    assert "Europe/Stockholm" in line


def test_a_password_in_a_bad_database_url_is_not_printed(tmp_path: Path) -> None:
    line = one_line(start(tmp_path, env={"DATABASE_URL": "mysql://bot:S3cretPass@db/x"}))
    assert "S3cretPass" not in line and "postgresql://" in line


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = one_line(start(tmp_path, env={"HANDLEDARBOT_PORT": port}))
    assert f"HANDLEDARBOT_PORT={port}" in line and "in use" in line


def test_an_unreachable_database_is_named(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/handledarbot"
    line = one_line(start(tmp_path, env={"DATABASE_URL": url}))
    assert line.startswith("handledarbot: DATABASE_URL: cannot reach PostgreSQL on 127.0.0.1")


@pytest.mark.postgres
def test_a_missing_database_is_named(tmp_path: Path) -> None:
    name = f"missing_{uuid.uuid4().hex[:8]}"
    line = one_line(start(tmp_path, env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1/{name}"}))
    assert "DATABASE_URL: the database does not exist" in line and name in line


def test_a_missing_knowledge_folder_names_the_variable(tmp_path: Path) -> None:
    line = one_line(start(tmp_path, env={"HANDLEDARBOT_KNOWLEDGE_DIR": str(tmp_path / "kb")}))
    assert f"HANDLEDARBOT_KNOWLEDGE_DIR={tmp_path / 'kb'}: no such folder" in line


def test_a_knowledge_folder_without_yaml_names_the_option(tmp_path: Path) -> None:
    line = one_line(start(tmp_path, "--knowledge", str(tmp_path), "ask", "hej"))
    assert f"--knowledge={tmp_path}" in line and "*.yaml" in line


def test_a_sqlite_file_in_a_missing_folder_is_named(tmp_path: Path) -> None:
    path = tmp_path / "no" / "bot.sqlite3"
    line = one_line(start(tmp_path, env={"HANDLEDARBOT_SQLITE_PATH": str(path)}))
    assert f"HANDLEDARBOT_SQLITE_PATH={path}" in line and "does not exist" in line


@pytest.fixture
def unprivileged() -> Iterator[tuple[Path, str | None]]:
    """A folder and a user that file permissions apply to: this user, or `nobody` (via setpriv)
    when the tests run as root, in a folder nobody can enter."""
    if os.geteuid() != 0:
        with tempfile.TemporaryDirectory() as folder:
            yield Path(folder), None
        return
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    can_read = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
         "import adapters.cli"],
        cwd=ROOT, capture_output=True,
    )  # fmt: skip
    if can_read.returncode != 0:
        # A clone inside a private folder (mktemp -d is mode 700): `nobody` cannot run it.
        pytest.skip(f"user 'nobody' cannot read the project at {ROOT}; clone it under a folder "
                    "others may enter to run this check")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o777)
        yield Path(folder), "65534"


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_sqlite_store_stops_the_start_instead_of_hanging(
    unprivileged: tuple[Path, str | None], read_only: str
) -> None:
    folder, user = unprivileged
    path = folder / "data" / "bot.sqlite3"
    path.parent.mkdir()
    if read_only == "file":
        path.parent.chmod(0o777)
        path.write_bytes(b"")
        path.chmod(0o444)
    else:
        path.parent.chmod(0o555)
    line = one_line(start(folder, env={"HANDLEDARBOT_SQLITE_PATH": str(path)}, user=user))
    assert line.startswith(f"handledarbot: HANDLEDARBOT_SQLITE_PATH={path}: cannot ")


def test_teams_local_mode_refuses_a_public_address(tmp_path: Path) -> None:
    line = one_line(start(tmp_path, env={"HANDLEDARBOT_TEAMS": "true",
                                         "HANDLEDARBOT_HOST": "0.0.0.0"}))
    assert "HANDLEDARBOT_TEAMS=true" in line and "HANDLEDARBOT_HOST=0.0.0.0" in line


def test_typos_are_warned_about_and_the_log_says_what_is_in_use(tmp_path: Path) -> None:
    """`DATABSE_URL` in .env and `SLACK_SIGNIN_SECRET` in the environment are named; the start
    line says the store (SQLite, so the typo shows), the adapters and the knowledge base."""
    (tmp_path / ".env").write_text("DATABSE_URL=postgresql://postgres@127.0.0.1/test\n",
                                   encoding="utf-8")
    environment = {**os.environ, "HANDLEDARBOT_WEB": "true", "HANDLEDARBOT_PORT": "0",
                   "HANDLEDARBOT_SQLITE_PATH": str(tmp_path / "bot.sqlite3"),
                   "SLACK_SIGNIN_SECRET": "x", "HANDLEDARBOT_WEBB": "true"}
    lines: list[str] = []
    with subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve"], env=environment,
                          cwd=tmp_path, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        try:
            while not any("started: store" in line for line in lines):
                line = process.stderr.readline()
                assert line, "".join(lines)
                lines.append(line)
        finally:
            process.terminate()
            process.wait(timeout=START_TIMEOUT)
    text = "".join(lines)
    assert re.search(r"DATABSE_URL \(in \.env\).*did you mean DATABASE_URL\?", text)
    assert re.search(r"SLACK_SIGNIN_SECRET \(in the environment\).*SLACK_SIGNING_SECRET", text)
    assert "HANDLEDARBOT_WEBB (in the environment) is not a Handledarbot setting" in text
    started = next(line for line in lines if "started: store" in line)
    assert f"handledarbot {__version__} started" in started
    assert f"store SQLite {tmp_path / 'bot.sqlite3'}" in started
    assert "adapters web" in started and f"knowledge {KNOWLEDGE}" in started
    assert "(version " in started


@pytest.mark.parametrize("app_type", ["SingleTenant", "UserAssignedMSI"])
def test_a_tenant_bound_teams_registration_without_its_tenant_is_named(
    tmp_path: Path, app_type: str
) -> None:
    line = one_line(start(tmp_path, env={"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
                                         "MICROSOFT_APP_PASSWORD": "not-used-for-msi",
                                         "MICROSOFT_APP_TYPE": app_type}))
    assert f"MICROSOFT_APP_TYPE={app_type} needs MICROSOFT_APP_TENANT_ID" in line
