"""The engine pickled in pieces, so that loading it and freeing it run in short steps.

One `pickle.loads` of a whole engine (7,200 entries at 100x the real base: 21 MB, 0.3-0.5 s) is
one C call that holds the GIL for stretches of 100-250 ms, and dropping the last reference to
an engine frees its 300,000 objects in one go (50-90 ms). In a worker thread, that is no
better: every time the event loop's thread lets go of the GIL (each socket call, each SQLite
call handed to its thread) it waits for the worker's next switch interval to get it back, and
a chat request during the load took up to 240 ms.

So a pickle here is a stream of pickles that share one memo: first the elements of the engine's
large containers, in pieces of about `PIECE` weight, then each container and each of the
engine's own objects, then the engine, which only refers to what came before. `load` and
`release` run on the event loop, a piece at a time, and pause every `SLICE` seconds. The
engine's behaviour does not change: it is the same object graph, pickled in another order.
"""

from __future__ import annotations

import asyncio
import io
import math
import pickle
import time
from collections.abc import Iterable, Iterator
from types import MappingProxyType

from pydantic import BaseModel

from bot.answering.engine import Engine

PIECE = 500  # weight of a piece (`_weight`): 1 ms or so of unpickling
MODEL = 10  # the weight of an entry's model (with its texts and facts)
SLICE = 0.002  # seconds of work between two pauses
# A pause sleeps, not only yields: the event loop then waits in epoll with the GIL released, and
# the threads requests hand work to (aiosqlite's) get it at once. With `asyncio.sleep(0)` they
# waited for the GIL's 5 ms switch interval each time, and a chat request during the load for
# 45-80 ms; with a sleep, 30-40 ms (as much as the machine's noise that day).
NAP = 0.001
_CONTAINERS = (dict, MappingProxyType, list, tuple, set, frozenset)


def dumps(engine: Engine) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    parts = pieces(engine)
    pickler.dump(len(parts))
    for part in parts:
        pickler.dump(part)
    pickler.dump(engine)
    return buffer.getvalue()


async def load(data: bytes, *, serving: bool = True) -> object:
    """What `dumps` wrote, pausing every `SLICE` seconds while `serving` (at start-up there is
    nothing to wait for). Raises what `pickle` raises for data cut short or not ours."""
    unpickler = pickle.Unpickler(io.BytesIO(data))
    count = unpickler.load()
    if not isinstance(count, int):
        raise pickle.UnpicklingError("not an engine pickled in pieces")
    pause = _Pause(SLICE if serving else math.inf)
    for _ in range(count):
        unpickler.load()
        await pause()
    return unpickler.load()


async def release(engines: list[Engine]) -> None:
    """Free the engines in `engines` (the list is emptied: it must hold their last references)
    piece by piece, pausing every `SLICE` seconds."""
    pause = _Pause()
    parts: list[list[object]] = []
    for index in range(len(engines)):  # no variable left holding an engine or a piece
        walk = _pieces(engines[index], set())
        while (part := next(walk, None)) is not None:
            parts.append(part)
            await pause()
    engines.clear()
    while parts:
        parts.pop()
        await pause()


class _Pause:
    """Awaited often; once `slice` seconds have run since the last time, sleeps `NAP` seconds."""

    def __init__(self, slice: float = SLICE) -> None:
        self._slice = slice
        self._until = time.perf_counter() + slice

    async def __call__(self) -> None:
        if time.perf_counter() >= self._until:
            await asyncio.sleep(NAP)
            self._until = time.perf_counter() + self._slice


def pieces(engine: Engine) -> list[list[object]]:
    """The elements of every container that the engine's own objects hold as attributes (not
    what the entries' models hold), in pieces of about `PIECE` weight, dict keys and values
    alike; then, innermost first, each such container and each of those objects, one a piece."""
    return list(_pieces(engine, set()))


def _pieces(obj: object, seen: set[int]) -> Iterator[list[object]]:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, dict | MappingProxyType):
        yield from _chunks(list(obj.keys()))
        yield from _chunks(list(obj.values()))
    elif isinstance(obj, _CONTAINERS):
        yield from _chunks(list(obj))
    else:
        for value in _attributes(obj):
            if isinstance(value, _CONTAINERS) or _ours(value):
                yield from _pieces(value, seen)
    if not isinstance(obj, MappingProxyType):  # a read-only view pickles only with its owner
        yield [obj]


def _chunks(elements: list[object]) -> Iterator[list[object]]:
    """`elements` (alike: a table's keys, or its values) in pieces of about `PIECE` weight,
    reckoned by the first one; none if they all fit in one."""
    if elements:
        size = max(1, PIECE // _weight(elements[0]))
        if len(elements) > size:
            yield from (elements[i : i + size] for i in range(0, len(elements), size))


def _weight(element: object) -> int:
    """About how long an element takes to unpickle, in strings' worth."""
    if isinstance(element, _CONTAINERS):
        return 1 + len(element)
    return MODEL if isinstance(element, BaseModel) else 1


def _ours(obj: object) -> bool:
    """An object of the engine's own classes (not an entry's model, a leaf here)."""
    return type(obj).__module__.startswith("bot.") and not isinstance(obj, BaseModel | type)


def _attributes(obj: object) -> Iterable[object]:
    if hasattr(obj, "__dict__"):
        yield from vars(obj).values()
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if hasattr(obj, name):
                yield getattr(obj, name)
