"""The engine pickled in pieces, so that loading it and freeing it run in short steps.

One `pickle.loads` of a whole engine (7,200 entries at 100x the real base: 21 MB) is one C call
that holds the GIL for long stretches: the event loop's thread waited up to 200 ms at a time
although the load ran in another thread. Dropping the last reference to an engine frees its
300,000 objects in one go (80 ms at 100x), on whichever thread drops it.

So a pickle here is a stream of pickles that share one memo: first the elements of the engine's
large containers, `PIECE` at a time, then the engine itself, which only refers to what was read
before it. `load` reads one piece at a time and lets other threads run in between; `release`
frees an engine the same way, after the big containers' elements are held piece by piece.
The engine's behaviour does not change: it is the same object graph, pickled in another order.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from types import MappingProxyType
from typing import IO

from pydantic import BaseModel

from bot.answering.engine import Engine

PIECE = 50  # objects per piece: a few ms of unpickling at most (an entry is its whole model)
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


def load(file: IO[bytes]) -> object:
    """What `dumps` wrote, read from `file` one piece at a time, other threads running between
    pieces. Raises what `pickle` raises for a file cut short or not ours."""
    unpickler = pickle.Unpickler(file)
    count = unpickler.load()
    if not isinstance(count, int):
        raise pickle.UnpicklingError("not an engine pickled in pieces")
    for _ in range(count):
        unpickler.load()  # between two, the event loop's thread can take the GIL
    return unpickler.load()


def release(engines: list[Engine]) -> None:
    """Free the engines in `engines` (the list is emptied: it must hold their last references)
    piece by piece, other threads running between pieces. Meant for a worker thread."""
    parts = [part for engine in engines for part in pieces(engine)]
    engines.clear()  # frees the containers; their elements are still held by `parts`
    while parts:
        parts.pop()


def pieces(engine: Engine) -> list[list[object]]:
    """The elements of every container of more than `PIECE` elements that the engine holds
    (through its own objects, not through the entries' models), `PIECE` at a time, dict keys
    and values alike."""
    found: list[list[object]] = []
    _walk(engine, found, set())
    return found


def _walk(obj: object, found: list[list[object]], seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, _CONTAINERS):
        elements = _elements(obj)
        if len(elements) > PIECE:
            found.extend(elements[i : i + PIECE] for i in range(0, len(elements), PIECE))
    elif _ours(obj):
        elements = list(_attributes(obj))
    else:
        return
    for element in elements:
        if _ours(element) or (isinstance(element, _CONTAINERS) and _ours(obj)):
            _walk(element, found, seen)
    if not isinstance(obj, MappingProxyType):  # a read-only view pickles only with its owner
        found.append([obj])


def _elements(container: object) -> list[object]:
    if isinstance(container, dict | MappingProxyType):
        return [*container.keys(), *container.values()]
    assert isinstance(container, list | tuple | set | frozenset)
    return list(container)


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
