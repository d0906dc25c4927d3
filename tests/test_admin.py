"""Admin chat commands: only configured coordinators, per platform; everyone else is refused politely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.admin import AdminCommands, Admins, ReloadOutcome, parse_admin_command
from bot.answering.engine import Engine
from bot.app import build_runtime
from bot.messages import Lang, Message
from bot.reminders.clock import FakeClock
from bot.render_text import render_text
from bot.service import Service
from bot.settings import Settings, load_settings

ADMINS = "slack:T1:UCOORD, teams:29:abc-def ,console:*"


def said(text: str, *, platform: str, user: str) -> Message:
    return Message(text=text, user_id=user, conversation_id=f"{platform}-{user}", platform=platform)


def test_admin_ids_are_per_platform() -> None:
    admins = Admins.parse(ADMINS)
    assert admins.allows("slack", "T1:UCOORD")
    assert admins.allows("teams", "29:abc-def")
    assert admins.allows("console", "console:anyone")
    assert not admins.allows("slack", "T1:U-ANNA")
    assert not admins.allows("teams", "T1:UCOORD")  # the same id on another platform
    assert not admins.allows("slack", "T2:UCOORD")  # another workspace
    assert Admins.parse("").members == frozenset()
    assert Admins.parse("nonsense, slack:, :U1").members == frozenset()


@pytest.mark.parametrize(
    ("text", "action", "lang"),
    [
        ("admin reload", "reload", "en"),
        ("admin ladda om", "reload", "sv"),
        ("/admin rapport", "report", "sv"),
        ("Admin Report", "report", "en"),
        ("admin statistik", "stats", "sv"),
        ("admin", "help", "sv"),
        ("admin whatever", "help", "sv"),
    ],
)
def test_parse_admin_command(text: str, action: str, lang: str) -> None:
    command = parse_admin_command(text)
    assert command is not None and (command.action, command.lang) == (action, lang)


@pytest.mark.parametrize("text", ["administratör", "hur blir jag admin?", "", "reload"])
def test_other_messages_are_not_admin_commands(text: str) -> None:
    assert parse_admin_command(text) is None


async def test_everyone_else_gets_a_polite_refusal_and_nothing_happens(engine: Engine) -> None:
    reloads: list[None] = []

    async def reload() -> ReloadOutcome:
        reloads.append(None)
        return ReloadOutcome("v", 1)

    async def report(lang: Lang) -> str:
        return "SECRET REPORT"

    admin = AdminCommands(admins=Admins.parse(ADMINS), reload=reload, report=report)
    service = Service(engine=engine, commands=[admin])
    for platform, user in (("slack", "T1:U-ANNA"), ("teams", "T1:UCOORD"), ("web", "x")):
        refused = await service.handle(said("admin reload", platform=platform, user=user))
        assert "utbildningssamordnarna" not in render_text(
            refused
        )  # English command, English reply
        assert "coordinators who maintain the knowledge base" in render_text(refused)
        reply = await service.handle(said("admin rapport", platform=platform, user=user))
        assert "utbildningssamordnarna" in render_text(reply)
        assert "SECRET REPORT" not in render_text(reply)
    assert reloads == []
    allowed = await service.handle(said("admin report", platform="slack", user="T1:UCOORD"))
    assert render_text(allowed) == "SECRET REPORT"


@pytest.fixture
def runtime_settings(tmp_path: Path) -> Settings:
    return load_settings(env_file=None).model_copy(
        update={"sqlite_path": tmp_path / "bot.sqlite3", "admins": ADMINS, "watch_knowledge": False}
    )


async def test_admin_report_and_stats_in_chat(runtime_settings: Settings, engine: Engine) -> None:
    runtime = await build_runtime(
        runtime_settings, {}, clock=FakeClock(datetime.now(UTC)), engine=engine
    )
    try:
        service = runtime.service
        for text in ("Vad kostar kursen?", "vad kostar kursen", "Finns det parkering 070-1234567?"):
            await service.handle(said(text, platform="slack", user="T1:U-ANNA"))
        report = render_text(
            await service.handle(said("admin rapport", platform="slack", user="T1:UCOORD"))
        )
        assert "2 × Vad kostar kursen?" in report
        assert "1 × Finns det parkering [telefon]?" in report
        stats = render_text(
            await service.handle(said("admin stats", platform="console", user="console:me"))
        )
        assert f"version {engine.version}" in stats and "no_match: 3" in stats
    finally:
        await runtime.aclose()
