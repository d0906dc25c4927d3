"""Reminders of supervision topics: parse requests, store them, deliver them exactly once.

Wiring (the one entry point calls this):

    reminders = await build(settings, topics=kb.topics, sources=kb.sources,
                            senders={"slack": ..., "teams": ..., "console": ConsoleSender()})
    service = Service(engine=..., commands=[reminders.commands])
    reminders.scheduler.start()
    ...
    await reminders.aclose()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.knowledge.schema import Source, Topic
from bot.ports import Clock, Sender
from bot.reminders.clock import SystemClock
from bot.reminders.commands import ReminderCommands
from bot.reminders.render import Knowledge
from bot.reminders.scheduler import Scheduler, SchedulerConfig
from bot.reminders.store import ReminderStore, SqlReminderStore
from bot.reminders.store_postgres import open_postgres_store
from bot.reminders.store_sqlite import open_sqlite_store
from bot.settings import Settings
from bot.state import StateStore

__all__ = ["Reminders", "build", "open_store"]


@dataclass(frozen=True, slots=True)
class Reminders:
    commands: ReminderCommands
    scheduler: Scheduler
    store: ReminderStore

    async def aclose(self) -> None:
        await self.scheduler.stop()
        await self.store.close()


async def open_store(settings: Settings) -> SqlReminderStore:
    """PostgreSQL when DATABASE_URL is set, else the SQLite file HANDLEDARBOT_SQLITE_PATH."""
    if settings.database_url:
        return await open_postgres_store(settings.database_url)
    return await open_sqlite_store(settings.sqlite_path)


async def build(
    settings: Settings,
    *,
    topics: Sequence[Topic],
    sources: Mapping[str, Source],
    senders: Mapping[str, Sender],
    clock: Clock | None = None,
    config: SchedulerConfig | None = None,
    store: SqlReminderStore | None = None,
    state: StateStore | None = None,
) -> Reminders:
    """`store` defaults to `open_store(settings)`; `state` keeps each conversation's pending
    reminder question (slot AWAITING; default: this process only; pass the SQL state store so
    that a confirmation survives a restart and works across replicas)."""
    clock = clock or SystemClock()
    store = store or await open_store(settings)
    knowledge = Knowledge(topics=tuple(topics), sources=sources)
    commands = ReminderCommands(
        store=store, clock=clock, knowledge=knowledge, timezone=settings.timezone, state=state
    )
    scheduler = Scheduler(
        store=store, senders=senders, clock=clock, knowledge=knowledge, config=config
    )
    return Reminders(commands=commands, scheduler=scheduler, store=store)
