"""Builds the engine without stalling the server: from the cache, in a thread, or in a child process.

Building a large knowledge base allocates millions of objects; in the server's own interpreter
that holds the GIL for seconds at a time (most of it Python's full garbage collections), and
every request waits. So:

- an engine cached for the same files, code and settings is unpickled (`enginecache`);
- a base of at least `child_above` bytes of YAML is built in a child process (spawned, so it
  shares nothing with the server), which also writes the cache; the server only unpickles;
- a smaller one is built in a worker thread.

Whatever runs in this process does so with the collector paused, and the new engine's objects
are then frozen (`gc.freeze`) so later full collections do not walk them again. The event loop
itself never builds: `build` is awaited, and the old engine answers until it returns.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

from bot.answering.engine import Engine
from bot.enginecache import EngineCache, cache_key
from bot.settings import Settings

CHILD_ABOVE = 2_000_000  # bytes of YAML from which a build runs in a child process

T = TypeVar("T")
_PAUSE = threading.Lock()  # gc.disable is process-wide: one paused section at a time


class EngineBuilder:
    def __init__(
        self,
        *,
        settings: Settings,
        compile: Callable[[Settings], Engine],
        cache: EngineCache | None = None,
        child_above: int = CHILD_ABOVE,
    ) -> None:
        """`compile` loads and builds in this process (`bot.app.build_engine`); it must be an
        importable function when a child process may run it."""
        self._settings = settings
        self._compile = compile
        self._cache = cache
        self._child_above = child_above

    async def build(self) -> Engine:
        """A new engine for the knowledge directory as it is now; raises what `compile` raises
        (`KnowledgeError` for a broken base). Never blocks the event loop."""
        key = await asyncio.to_thread(self._key)
        if self._cache is not None:
            data = await asyncio.to_thread(self._cache.read, key)
            if data is not None:
                engine = await asyncio.to_thread(_paused, lambda: self._cache_load(key, data))
                if engine is not None:
                    return engine
        if await asyncio.to_thread(self._size) >= self._child_above:
            return await self._in_child(key)
        engine = await asyncio.to_thread(_paused, lambda: self._compile(self._settings))
        if self._cache is not None:
            await asyncio.to_thread(self._cache.store, key, engine)
        return engine

    def _cache_load(self, key: str, data: bytes) -> Engine | None:
        assert self._cache is not None
        return self._cache.unpickle(key, data)

    async def _in_child(self, key: str) -> Engine:
        context = multiprocessing.get_context("spawn")
        target = self._cache.path(key) if self._cache is not None else None
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            data = await asyncio.get_running_loop().run_in_executor(
                pool, _build_pickled, self._compile, self._settings, target
            )
        engine: Engine = await asyncio.to_thread(_paused, lambda: pickle.loads(data))
        return engine

    def _key(self) -> str:
        s = self._settings
        options = (s.contact_text_sv, s.contact_text_en, s.region)
        return cache_key(s.knowledge_dir, options)

    def _size(self) -> int:
        return sum(p.stat().st_size for p in self._settings.knowledge_dir.glob("*.yaml"))


def _paused(build: Callable[[], T]) -> T:
    """Run `build` with the collector paused, then freeze what it made (and everything else
    alive) out of the collector's sight."""
    with _PAUSE:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return build()
        finally:
            gc.freeze()
            if was_enabled:
                gc.enable()


def _build_pickled(
    compile: Callable[[Settings], Engine], settings: Settings, cache_file: Path | None
) -> bytes:
    """In the child process: build, pickle, and store in the cache for the next start-up."""
    gc.disable()
    data = pickle.dumps(compile(settings), protocol=pickle.HIGHEST_PROTOCOL)
    if cache_file is not None:
        EngineCache(directory=cache_file.parent).write(cache_file.stem.removeprefix("engine-"), data)
    return data
