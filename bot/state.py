"""Conversation state: what the bot is waiting for in each conversation, and what was last said.

One protocol, several stores: `MemoryStateStore` for one process (tests, the console), and SQL
stores (SQLite, PostgreSQL) so that state survives a restart and is shared by several replicas.

Keys and values:
- A *slot* is one JSON-serialisable dict stored under `(conversation_key, name)` with an expiry
  in seconds. `conversation_key` is `f"{platform}:{user_id}:{conversation_id}"` (see `key_of`).
- Slot `AWAITING` holds the one question the bot has just asked in that conversation and is
  waiting for an answer to: a clarification (`{"kind": "clarify", ...}`), a reminder
  confirmation (`{"kind": "reminder_confirm", ...}`), a delete confirmation, ... Whoever asks
  next overwrites it, so a yes/no or an option number only ever answers the question just asked.
- Slot `CONTEXT` holds the subject of the last knowledge answer (the engine's follow-up context:
  role, course, entry, region, facet), so that "hur lång är den?" can use it.
- Slot `PROFILE` (keyed by `profile_key`, per user, not per conversation) holds what a user told
  about themselves, e.g. `{"region": "skane"}`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

AWAITING = "awaiting"
CONTEXT = "context"
PROFILE = "profile"

# Defaults, in seconds.
AWAITING_TTL = 30 * 60
CONTEXT_TTL = 15 * 60
PROFILE_TTL = 365 * 24 * 3600

JsonDict = dict[str, Any]


def key_of(platform: str, user_id: str, conversation_id: str) -> str:
    """The conversation key of a message: platform, user and conversation (thread)."""
    return f"{platform}:{user_id}:{conversation_id}"


def profile_key(platform: str, user_id: str) -> str:
    """The per-user key of the `PROFILE` slot."""
    return f"{platform}:{user_id}"


class StateStore(Protocol):
    async def get(self, key: str, name: str) -> JsonDict | None:
        """The slot's value, or None when it is absent or expired."""
        ...

    async def put(self, key: str, name: str, value: Mapping[str, Any], ttl: float) -> None:
        """Store `value` (JSON-serialisable) in the slot, replacing it; expires after `ttl` s."""
        ...

    async def delete(self, key: str, name: str) -> None:
        """Remove the slot (no error when absent)."""
        ...

    def turn(self, keys: Sequence[str]) -> AbstractAsyncContextManager[None]:
        """One message's handling: inside it, a store may read every slot of `keys` at once
        and write what changed at the end (a database's store: one read and one write per
        message, whatever the number of slots). Reads inside see the writes made inside."""
        ...


class MemoryStateStore:
    """State in this process only: bounded, oldest slots dropped first."""

    def __init__(self, *, max_slots: int = 100_000, clock: Any = time.monotonic) -> None:
        self._slots: OrderedDict[tuple[str, str], tuple[float, JsonDict]] = OrderedDict()
        self._max = max_slots
        self._clock = clock

    async def get(self, key: str, name: str) -> JsonDict | None:
        item = self._slots.get((key, name))
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._slots[(key, name)]
            return None
        return dict(value)

    async def put(self, key: str, name: str, value: Mapping[str, Any], ttl: float) -> None:
        self._slots.pop((key, name), None)
        self._slots[(key, name)] = (self._clock() + ttl, dict(value))
        while len(self._slots) > self._max:
            self._slots.popitem(last=False)

    async def delete(self, key: str, name: str) -> None:
        self._slots.pop((key, name), None)

    @asynccontextmanager
    async def turn(self, keys: Sequence[str]) -> AsyncIterator[None]:
        yield
