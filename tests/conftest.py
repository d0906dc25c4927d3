from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_service
from bot.knowledge.loader import load_knowledge
from bot.matching import Engine
from bot.service import Service
from bot.settings import Settings, load_settings
from bot.testing import Chat

ROOT = Path(__file__).resolve().parent.parent
# What the tests use from the team's shared folder, vendored (see its SOURCE.md).
SHARED = ROOT / "tests" / "fixtures" / "shared"
KNOWLEDGE = ROOT / "knowledge"
ENV_PREFIXES = ("HANDLEDARBOT_", "SLACK_", "MICROSOFT_", "DATABASE_URL", "PORT")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see the developer's own tokens or settings."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
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
