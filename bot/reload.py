"""Reloads the knowledge base into a running service: on a file change, or on a coordinator's command.

A reload builds a whole new engine first, off the event loop (`bot.enginebuild`: from the cache,
in a thread, or in a child process for a large base), and swaps it in only when that succeeded;
the old engine answers until then. The old engine is then freed in short slices on the event
loop (`bot.enginepickle.release`): dropped at once, a 100x base's engine took 50-90 ms to free,
all requests waiting. An edit that fails validation is refused, the previous
knowledge base keeps answering, and every problem (file, line, what to fix) is logged and
returned to whoever asked.

`watch` follows the directory with watchfiles (inotify, or polling where that is unavailable)
and reloads after each batch of changes to `*.yaml` files; editors that save through a temporary
file produce one batch, not a reload per write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

from bot.admin import ReloadOutcome
from bot.answering.engine import Engine
from bot.enginepickle import release
from bot.knowledge.loader import KnowledgeError
from bot.metrics import Metrics
from bot.service import Service

log = logging.getLogger(__name__)

DEBOUNCE_MS = 400


class KnowledgeReloader:
    def __init__(
        self,
        *,
        service: Service,
        directory: Path,
        build: Callable[[], Awaitable[Engine]],
        metrics: Metrics | None = None,
    ) -> None:
        self._service = service
        self._directory = directory
        self._build = build
        self._metrics = metrics
        self._lock = asyncio.Lock()
        self._released: asyncio.Task[None] | None = None  # the engine replaced last, being freed
        self.last: ReloadOutcome = _outcome(service.engine)

    async def reload(self) -> ReloadOutcome:
        """Load the knowledge base again; keep the current one if the new one is broken."""
        async with self._lock:
            if self._released is not None:
                await self._released  # one engine freed at a time
            try:
                engine = await self._build()
            except KnowledgeError as error:
                return self._refused(tuple(self._where(str(p)) for p in error.problems))
            except Exception as error:  # the loader let something through: still refuse it
                log.exception("knowledge base could not be loaded")
                return self._refused((self._where(f"{type(error).__name__}: {error}"),))
            previous = self._service.engine.version
            old = [self._service.engine]
            self._service.replace_engine(engine)
            self._released = asyncio.create_task(release(old))
            if self._metrics is not None:
                self._metrics.knowledge_loaded(engine.version, reload=True)
            log.info("knowledge base reloaded: version %s (was %s)", engine.version, previous)
            self.last = _outcome(engine)
            return self.last

    def _refused(self, problems: tuple[str, ...]) -> ReloadOutcome:
        log.error(
            "knowledge base edit refused (still answering from version %s): %d problem(s)\n%s",
            self._service.engine.version,
            len(problems),
            "\n".join(problems),
        )
        if self._metrics is not None:
            self._metrics.knowledge_failed()
        self.last = _outcome(self._service.engine, problems)
        return self.last

    def _where(self, problem: str) -> str:
        """A problem with its file named relative to the knowledge directory."""
        prefix = str(self._directory.resolve()) + "/"
        return problem.replace(prefix, "").replace(str(self._directory) + "/", "")

    async def watch(
        self,
        *,
        stop: asyncio.Event | None = None,
        debounce_ms: int = DEBOUNCE_MS,
        force_polling: bool | None = None,
    ) -> None:
        """Reload after each change of a `*.yaml` file under the directory, until `stop` is set."""
        log.info("watching %s for knowledge base edits", self._directory)
        async for _ in awatch(
            self._directory,
            watch_filter=_yaml_only,
            stop_event=stop,
            debounce=debounce_ms,
            step=min(50, debounce_ms),
            force_polling=force_polling,
            recursive=False,
        ):
            await self.reload()


def _yaml_only(change: Change, path: str) -> bool:
    return path.endswith(".yaml")


def _outcome(engine: Engine, problems: tuple[str, ...] = ()) -> ReloadOutcome:
    return ReloadOutcome(
        version=engine.version, entries=len(engine.knowledge.entries), problems=problems
    )
