"""The console chat: a reminder printed in it is snoozed or skipped by typing its number."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from adapters.console import chat, to_message
from bot.answering.engine import Engine
from bot.reminders import build
from bot.reminders.clock import FakeClock
from bot.reminders.console_sender import ConsoleSender
from bot.service import Service
from bot.settings import load_settings

NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # Sunday; the first meeting is Monday 08:00


async def test_a_number_typed_after_a_reminder_picks_its_option(
    engine: Engine, tmp_path: Path
) -> None:
    settings = load_settings(env_file=None).model_copy(
        update={"sqlite_path": tmp_path / "r.db"})
    clock = FakeClock(NOW)
    printed = io.StringIO()
    printer = ConsoleSender(out=printed)
    reminders = await build(settings, topics=engine.knowledge.topics,
                            sources=engine.knowledge.sources, senders={"console": printer},
                            clock=clock)
    service = Service(engine=engine, commands=[reminders.commands])
    try:
        for text in ("påminn mig varje måndag kl 8 om handledning med Erik", "ja"):
            await service.handle(to_message(text, user="anna"))
        clock.set(datetime(2026, 11, 23, 7, 0, 1, tzinfo=UTC))
        assert await reminders.scheduler.run_once() == 1
        assert printer.last is not None
        labels = [o.label for o in printer.last.options]
        skip = next(n for n, label in enumerate(labels, start=1) if "Hoppa" in label)

        out = io.StringIO()
        await chat(service, stdin=io.StringIO(f"{skip}\n"), stdout=out, user="anna",
                   delivered=printer)
        assert "hoppas över" in out.getvalue()
    finally:
        await reminders.aclose()
