"""Builds the core from settings: knowledge base, matching engine, service.

`build_service` is the bare service (tests); `build_batch_service` is the one for `ask` and `eval`
(the patient-data guard and length cap, no rate limit, nothing stored); `build_runtime` is what a
running bot uses: the service with its guard (rate limit, length cap, patient data), the
unanswered-question journal, the admin and reminder commands, the knowledge reloader, the
metrics, and the state shared with other replicas through the database (conversation slots,
marks, rate-limit windows). `build_runtime` raises `StartupError` (one line) when the store
cannot be opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bot.admin import AdminCommands, Admins
from bot.answering.engine import Engine
from bot.enginebuild import EngineBuilder
from bot.enginecache import EngineCache
from bot.knowledge.loader import KnowledgeError, Problem, load_knowledge
from bot.messages import Lang
from bot.metrics import CountingSender, Metrics
from bot.ports import Clock, CommandHandler, Sender
from bot.reload import KnowledgeReloader
from bot.reminders import Reminders, open_store
from bot.reminders import build as build_reminders
from bot.reminders.clock import SystemClock
from bot.reminders.phrases import reminder_help
from bot.report import format_report
from bot.safety import Guard
from bot.service import Service
from bot.settings import Settings
from bot.sharedstate import SharedState
from bot.startup import StartupError, check_sqlite, describe_store_error
from bot.unanswered import FeedbackStore, open_feedback_store
from bot.wording import WORDING

log = logging.getLogger(__name__)


def build_engine(settings: Settings) -> Engine:
    """Load the knowledge base named by the settings; raises `KnowledgeError` if it is broken."""
    knowledge = load_knowledge(settings.knowledge_dir)
    if settings.region is not None and settings.region not in knowledge.scopes:
        known = ", ".join(s for s in knowledge.scopes if s != "national")
        raise KnowledgeError([Problem(
            "HANDLEDARBOT_REGION", None,
            f"'{settings.region}' is no region of the knowledge base; use one of: {known}",
        )])
    return Engine(
        knowledge,
        contact_sv=settings.contact_text_sv,
        contact_en=settings.contact_text_en,
        default_region=settings.region,
        help_extra=reminder_help,
    )


def engine_builder(settings: Settings) -> EngineBuilder:
    """What a running bot starts and reloads with: the cache in `settings.cache_dir`, reloads
    built in a child process (`bot.enginebuild`)."""
    cache = EngineCache(directory=settings.cache_dir) if settings.cache_dir else None
    return EngineBuilder(settings=settings, compile=build_engine, cache=cache)


def build_service(settings: Settings, *, commands: Sequence[CommandHandler] = ()) -> Service:
    return Service(engine=build_engine(settings), commands=commands)


def build_batch_service(settings: Settings) -> Service:
    """The service for questions from a file or a pipe (`ask`, `eval`): the same guard as a
    running bot minus the rate limit (a question set of any size runs in one go), no commands
    (nothing is stored) and no journal (a test question is not a user's unanswered question)."""
    guard = Guard(limiter=None, max_length=settings.max_message_length)
    return Service(engine=build_engine(settings), guard=guard)


class _CountedSenders(Mapping[str, Sender]):
    """A live view of `senders` (filled in once the server exists) that counts deliveries."""

    def __init__(self, senders: Mapping[str, Sender], metrics: Metrics) -> None:
        self._senders = senders
        self._metrics = metrics

    def __getitem__(self, platform: str) -> Sender:
        return CountingSender(self._senders[platform], self._metrics)

    def __iter__(self) -> Iterator[str]:
        return iter(self._senders)

    def __len__(self) -> int:
        return len(self._senders)


@dataclass
class Runtime:
    settings: Settings
    service: Service
    reminders: Reminders
    feedback: FeedbackStore
    reloader: KnowledgeReloader
    metrics: Metrics
    shared: SharedState | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _watcher: asyncio.Task[None] | None = None
    _cleaner: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start delivering reminders, deleting expired shared state and, unless turned off,
        watching the knowledge base."""
        self.reminders.scheduler.start()
        self._stop.clear()
        if self.shared is not None:
            self._cleaner = asyncio.create_task(
                self.shared.cleanup(self._stop), name="shared-state-cleanup"
            )
        if self.settings.watch_knowledge:
            self._watcher = asyncio.create_task(
                self.reloader.watch(stop=self._stop), name="knowledge-watch"
            )

    async def aclose(self) -> None:
        self._stop.set()
        for task in (self._watcher, self._cleaner):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watcher = self._cleaner = None
        await self.reminders.aclose()
        await self.feedback.close()

    async def report(self, lang: Lang) -> str:
        return format_report(
            await self.feedback.questions(),
            await self.feedback.ratings(),
            days=self.settings.unanswered_retention_days,
            lang=lang,
        )

    async def stats(self, lang: Lang) -> str:
        engine = self.service.engine
        asked = self.metrics.questions
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(asked.items())) or "–"
        unanswered = len(await self.feedback.questions())
        ratings = await self.feedback.ratings()
        up, down = sum(r.up for r in ratings), sum(r.down for r in ratings)
        return WORDING[lang].stats.format(
            version=engine.version, entries=len(engine.knowledge.entries), outcomes=outcomes,
            days=self.settings.unanswered_retention_days, unanswered=unanswered, up=up,
            down=down, sent=self.metrics.reminders_sent,
        )


async def build_runtime(
    settings: Settings,
    senders: Mapping[str, Sender],
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    warm: bool = False,
) -> Runtime:
    """Everything a running bot needs; `senders` may be filled in later (by the server).
    `warm`: start the process that reloads are built in now (the server), not at the first
    reload (the console chat, which many short runs start).

    Raises `StartupError` when the store cannot be opened (database unreachable or missing,
    SQLite file not writable), `KnowledgeError` when the knowledge base is broken.
    """
    clock = clock or SystemClock()
    builder = engine_builder(settings)
    engine = engine or await builder.build(serving=False)
    if warm:
        await asyncio.to_thread(builder.warm)
    metrics = Metrics()
    metrics.knowledge_loaded(engine.version, reload=False)
    knowledge = engine.knowledge
    if not settings.database_url:
        check_sqlite(settings.sqlite_path)
    try:
        store = await open_store(settings)
    except Exception as error:
        _raise_startup_error(error, settings)
        raise
    shared = SharedState(
        database=store.database,
        limit=settings.rate_limit_messages,
        window=settings.rate_limit_seconds,
    )
    try:
        reminders = await build_reminders(
            settings,
            topics=knowledge.topics,
            sources=knowledge.sources,
            senders=_CountedSenders(senders, metrics),
            clock=clock,
            store=store,
            state=shared.state,
        )
    except Exception as error:
        _raise_startup_error(error, settings)
        raise
    try:
        feedback = await open_feedback_store(settings, clock=clock)
    except Exception as error:
        await reminders.aclose()
        _raise_startup_error(error, settings)
        raise
    guard = Guard(limiter=shared.limiter, max_length=settings.max_message_length)
    admin = AdminCommands(admins=Admins.parse(settings.admins))
    service = Service(
        engine=engine,
        commands=[admin, reminders.commands],
        guard=guard,
        journal=feedback,
        metrics=metrics,
        state=shared.state,
    )
    reloader = KnowledgeReloader(
        service=service,
        directory=settings.knowledge_dir,
        build=builder.build,
        metrics=metrics,
    )
    runtime = Runtime(settings, service, reminders, feedback, reloader, metrics, shared)
    admin.connect(reload=reloader.reload, report=runtime.report, stats=runtime.stats)
    return runtime


def _raise_startup_error(error: Exception, settings: Settings) -> None:
    line = describe_store_error(error, settings)
    if line is not None:
        raise StartupError(line) from error
