"""Builds the engine without stalling the server: from the cache, in a child process, or in a thread.

Building a knowledge base allocates many objects and runs long C calls (libyaml, pydantic's
validation, the BM25 index) that hold the GIL; in the server's own interpreter every request
waits for them (seconds at 100x the real base, most of it Python's full garbage collections;
up to 0.2 s at 1x even in a thread). So:

- an engine cached for the same files, code and settings is unpickled (`enginecache`);
- a reload (`build()`) of a base of at least `child_above` bytes of YAML (default: any) runs in
  a child process forked from a server that has the engine's modules imported already
  (multiprocessing's forkserver); the child writes the cache and sends the engine pickled, and
  the server only unpickles;
- start-up (`build(serving=False)`, nothing to stall yet) and a smaller base build in a worker
  thread.

Unpickling runs on the event loop in short slices (`bot.enginepickle`: in a worker thread it
held up requests more, see there). Whatever builds or unpickles in this process does so with
the collector paused, and the new engine's objects are then frozen (`gc.freeze`) so later full
collections do not walk them again. The event loop itself never builds: `build` is awaited,
and the old engine answers until it returns.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

from bot import enginepickle
from bot.answering.engine import Engine
from bot.enginecache import EngineCache, cache_key
from bot.settings import Settings

CHILD_ABOVE = 0  # bytes of YAML from which a reload runs in a child process

T = TypeVar("T")
_BUILT, _FAILED = b"built", b"failed"
_PAUSE = threading.Lock()  # gc.disable is process-wide: one paused section at a time


class EngineBuilder:
    def __init__(
        self,
        *,
        settings: Settings,
        compile: Callable[[Settings], Engine],
        cache: EngineCache | None = None,
        child_above: int | None = CHILD_ABOVE,
    ) -> None:
        """`compile` loads and builds in this process (`bot.app.build_engine`); it must be an
        importable function when a child process may run it; `child_above=None` never starts
        one."""
        self._settings = settings
        self._compile = compile
        self._cache = cache
        self._child_above = child_above

    async def build(self, *, serving: bool = True) -> Engine:
        """A new engine for the knowledge directory as it is now; raises what `compile` raises
        (`KnowledgeError` for a broken base). Never blocks the event loop; `serving=False` (at
        start-up) builds in this process, which is faster when there are no requests to stall."""
        key = await asyncio.to_thread(self._key)
        if self._cache is not None:
            data = await asyncio.to_thread(self._cache.read, key)
            if data is not None:
                with _collector_paused():
                    engine = await self._cache.unpickle(key, data, serving=serving)
                if engine is not None:
                    return engine
        limit = self._child_above
        if serving and limit is not None and await asyncio.to_thread(self._size) >= limit:
            return await self._in_child(key)
        engine = await asyncio.to_thread(_paused, lambda: self._compile(self._settings))
        if self._cache is not None:
            await asyncio.to_thread(self._cache.store, key, engine)
        return engine

    def warm(self) -> None:
        """Start the forkserver now (it imports the engine's modules in its own process), so
        that the first reload does not wait for it."""
        if self._child_above is not None:
            _context()
            multiprocessing.forkserver.ensure_running()

    async def _in_child(self, key: str) -> Engine:
        """Starting, waiting for and joining the child all block: each happens in a thread (the
        first start waits for the forkserver's imports). Cancelled, the child is killed."""
        context = _context()
        target = self._cache.path(key) if self._cache is not None else None
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_build_pickled,
            args=(send, self._compile, self._settings, target),
            name="handledarbot-engine-build",
            daemon=True,
        )
        try:
            await asyncio.to_thread(child.start)
            send.close()
            status, data = await asyncio.to_thread(_receive, receive)
        finally:
            child.kill()
            await asyncio.to_thread(child.join)
            receive.close()
        if status == _FAILED:
            raise pickle.loads(data)
        with _collector_paused():
            loaded = await enginepickle.load(data)
        assert isinstance(loaded, Engine)
        return loaded

    def _key(self) -> str:
        s = self._settings
        options = (s.contact_text_sv, s.contact_text_en, s.region)
        return cache_key(s.knowledge_dir, options)

    def _size(self) -> int:
        return sum(p.stat().st_size for p in self._settings.knowledge_dir.glob("*.yaml"))


def _context() -> multiprocessing.context.ForkServerContext:
    """Children forked from a server process that has the engine's modules imported already (a
    fresh interpreter would spend a second importing them), and nothing else of this one."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bot.app"])
    return context


def _paused(build: Callable[[], T]) -> T:
    """Run `build` (in a worker thread) with the collector paused (`_collector_paused`)."""
    with _PAUSE, _collector_paused():
        return build()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The collector paused, then what was made (and everything else alive) frozen out of its
    sight: a full collection during a 100x load would walk the 300,000 new objects at once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _receive(connection: Connection) -> tuple[bytes, bytes]:
    try:
        return connection.recv_bytes(), connection.recv_bytes()
    except EOFError:
        raise RuntimeError("the engine build process ended without a result") from None


def _build_pickled(
    connection: Connection,
    compile: Callable[[Settings], Engine],
    settings: Settings,
    cache_file: Path | None,
) -> None:
    """In the child process: build, store in the cache for the next start-up, send pickled.
    At a lower CPU priority: on a machine with few cores the server's requests come first."""
    os.nice(10)
    gc.disable()
    try:
        data = enginepickle.dumps(compile(settings))
    except Exception as error:
        connection.send_bytes(_FAILED)
        connection.send_bytes(pickle.dumps(error))
        return
    if cache_file is not None:
        EngineCache(directory=cache_file.parent).write(cache_file.stem.removeprefix("engine-"), data)
    connection.send_bytes(_BUILT)
    connection.send_bytes(data)
