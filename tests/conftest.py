from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.app import build_service
from bot.knowledge.loader import load_knowledge
from bot.service import Service
from bot.settings import Settings, load_settings
from bot.testing import Chat

ROOT = Path(__file__).resolve().parent.parent
# What the tests use from the team's shared folder, vendored (see its SOURCE.md).
SHARED = ROOT / "tests" / "fixtures" / "shared"
KNOWLEDGE = ROOT / "knowledge"
ENV_PREFIXES = ("HANDLEDARBOT_", "SLACK_", "MICROSOFT_", "DATABASE_URL", "PORT")


POSTGRES = ("127.0.0.1", 5432)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` need the server on 127.0.0.1:5432 (user postgres, database test,
    trust auth). Without it they are skipped, saying so, on a developer's machine; with CI=true
    they run anyway and fail, so CI never passes without them."""
    if os.environ.get("CI", "").lower() == "true" or _reachable(POSTGRES):
        return
    skip = pytest.mark.skip(
        reason="PostgreSQL is not reachable on 127.0.0.1:5432: start it (user postgres, database "
        "test, trust authentication; e.g. Debian's postgresql package) to run these tests; CI "
        "(CI=true) runs them and fails without it"
    )
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


def _reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Tests never see the developer's own tokens or settings, nor write to their engine cache."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HANDLEDARBOT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    yield


@pytest.fixture
def settings() -> Settings:
    return load_settings(env_file=None)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(load_knowledge(KNOWLEDGE))


@pytest.fixture
def service(settings: Settings) -> Service:
    return build_service(settings)


@pytest.fixture
def chat(service: Service) -> Chat:
    return Chat(service)
