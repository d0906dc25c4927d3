"""State that several replicas share through the database: conversation slots, marks, rate limits.

All three live in the reminders' database (SQLite file, or PostgreSQL when DATABASE_URL is set),
in tables of migration 2 (`bot.reminders.migrations`); times are wall-clock milliseconds since the
epoch, so every replica reads the same expiry.

- `SqlStateStore` implements `bot.state.StateStore` (the open question, the follow-up context,
  the user's profile).
- `Marks` remember what was already taken in, so that something is handled once by whichever
  replica gets it first: a Slack event id, a Slack message (channel + ts), a Teams welcome.
  `take` hands out a lease; `done` makes the mark final. A mark whose lease ran out without
  `done` (its replica died) can be taken again, so a retry of an event nobody finished is
  answered once, and a retry of one that was answered is not.
- `SqlRateLimiter` is `bot.ratelimit.RateLimiter`'s sliding window, counted over all replicas.
  Inside a message's turn its check goes in the transaction that reads the turn's slots.

A message's work is short transactions (`Database.transaction(short=True)`): on SQLite they run
on the event loop's thread whenever the file's write lock is free.

`SharedState.cleanup` deletes expired rows every `CLEANUP_EVERY` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from bot.reminders.store import Connection, Database
from bot.state import JsonDict

log = logging.getLogger(__name__)

CLEANUP_EVERY = 10 * 60.0  # seconds between deletions of expired rows
MARK_KEEP = 7 * 24 * 3600.0  # seconds a done mark is remembered (Slack retries within hours)
MAX_MEMORY_MARKS = 100_000
RATE_LOCK = 4242003  # advisory lock class of the per-user rate-limit windows (PostgreSQL)

WallClock = Callable[[], float]  # seconds since the epoch
T = TypeVar("T")


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


@dataclass
class _Turn:
    """The slots of one message's keys, read when first needed; the writes to make at its end."""

    keys: tuple[str, ...]
    slots: dict[tuple[str, str], str] = field(default_factory=dict)  # (key, name) -> JSON text
    writes: dict[tuple[str, str], tuple[str, int] | None] = field(default_factory=dict)
    open: bool = True
    read: bool = False

    def loaded(self, slots: Mapping[tuple[str, str], str]) -> None:
        """Take in the slots read from the database; those this turn wrote keep its value."""
        for slot, text in slots.items():
            if slot not in self.writes:
                self.slots[slot] = text
        self.read = True

    def holds(self, key: str) -> bool:
        """Whether `key` is read and written through this turn (a task started inside the turn
        that outlives it writes directly)."""
        return self.open and key in self.keys


class SqlStateStore:
    """`bot.state.StateStore` in the `conversation_state` table; values are stored as JSON.

    Inside `turn(keys)` the slots of `keys` are read in one query when the turn first needs
    them (its first `get`, or work given to `with_read`, such as the rate-limit check), and the
    puts and deletes are written in one transaction when it ends (also when it ends with an
    error): a message costs two transactions, however many slots it reads and writes. Outside a
    turn each call is its own transaction. The turn belongs to the task that opened it (a
    context variable), so messages handled concurrently never share one.
    """

    def __init__(self, *, database: Database, clock: WallClock = time.time) -> None:
        self._db = database
        self._clock = clock
        self._turn: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar(
            f"state_turn_{id(self)}", default=None
        )

    @contextlib.asynccontextmanager
    async def turn(self, keys: Sequence[str]) -> AsyncIterator[None]:
        if self._turn.get() is not None:  # nested: the outer turn reads and writes
            yield
            return
        turn = _Turn(tuple(dict.fromkeys(keys)))
        token = self._turn.set(turn)
        try:
            yield
        finally:
            self._turn.reset(token)
            turn.open = False
            if turn.writes:
                await self._write(turn.writes)

    async def with_read(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """`work(conn)` in one short transaction with the read of this task's turn's slots when
        the turn has not read them yet; else in a short transaction of its own."""
        turn = self._turn.get()
        unread = turn if turn is not None and turn.open and not turn.read and turn.keys else None
        async with self._db.transaction(short=True) as conn:
            result = await work(conn)
            slots = await self._select(conn, unread.keys) if unread is not None else {}
        if unread is not None:
            unread.loaded(slots)
        return result

    async def get(self, key: str, name: str) -> JsonDict | None:
        turn = self._turn.get()
        if turn is not None and turn.holds(key):
            if not turn.read:
                async with self._db.transaction(short=True) as conn:
                    turn.loaded(await self._select(conn, turn.keys))
            text = turn.slots.get((key, name))
            return None if text is None else _as_dict(text)
        async with self._db.transaction(short=True) as conn:
            rows = await conn.fetch(
                "SELECT value FROM conversation_state WHERE state_key = $1 AND name = $2"
                " AND expires_ms > $3",
                key,
                name,
                _ms(self._clock()),
            )
        return _as_dict(rows[0]["value"]) if rows else None

    async def put(self, key: str, name: str, value: Mapping[str, Any], ttl: float) -> None:
        """Raises TypeError when `value` is not JSON-serialisable (nothing is stored then)."""
        text = json.dumps(dict(value), ensure_ascii=False)
        expires = _ms(self._clock() + ttl)
        turn = self._turn.get()
        if turn is not None and turn.holds(key):
            turn.slots[(key, name)] = text
            turn.writes[(key, name)] = (text, expires)
            return
        await self._write({(key, name): (text, expires)})

    async def delete(self, key: str, name: str) -> None:
        turn = self._turn.get()
        if turn is not None and turn.holds(key):
            turn.slots.pop((key, name), None)
            turn.writes[(key, name)] = None
            return
        await self._write({(key, name): None})

    async def _select(self, conn: Connection, keys: Sequence[str]) -> dict[tuple[str, str], str]:
        places = ", ".join(f"${n}" for n in range(2, len(keys) + 2))
        rows = await conn.fetch(
            "SELECT state_key, name, value FROM conversation_state"
            f" WHERE expires_ms > $1 AND state_key IN ({places})",
            _ms(self._clock()),
            *keys,
        )
        return {(row["state_key"], row["name"]): row["value"] for row in rows}

    async def _write(self, writes: Mapping[tuple[str, str], tuple[str, int] | None]) -> None:
        """Each slot's put (value text, expiry) or delete (None), in one transaction."""
        async with self._db.transaction(short=True) as conn:
            for (key, name), put in writes.items():
                if put is None:
                    await conn.execute(
                        "DELETE FROM conversation_state WHERE state_key = $1 AND name = $2",
                        key,
                        name,
                    )
                    continue
                await conn.execute(
                    "INSERT INTO conversation_state (state_key, name, value, expires_ms)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (state_key, name)"
                    " DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms",
                    key,
                    name,
                    *put,
                )

    async def purge(self) -> int:
        """Delete expired slots; the number deleted."""
        async with self._db.transaction() as conn:
            return await conn.execute(
                "DELETE FROM conversation_state WHERE expires_ms <= $1", _ms(self._clock())
            )


def _as_dict(text: str) -> JsonDict | None:
    value = json.loads(text)
    return value if isinstance(value, dict) else None


class Marks(Protocol):
    async def take(self, kind: str, key: str, *, lease: float) -> str | None:
        """A token when `key` is now ours to handle (new, or its last taker's lease of `lease`
        seconds ran out without `done`); None when it was handled or is being handled."""
        ...

    async def done(self, kind: str, key: str, token: str) -> None:
        """`key` is handled: never taken again while remembered (`MARK_KEEP` seconds)."""
        ...


@dataclass(slots=True)
class _Mark:
    token: str
    done: bool
    lease_until: float
    expires: float


class MemoryMarks:
    """`Marks` of this process only (tests, one process without a database); bounded."""

    def __init__(self, *, limit: int = MAX_MEMORY_MARKS, clock: WallClock = time.time) -> None:
        self._marks: OrderedDict[tuple[str, str], _Mark] = OrderedDict()
        self._limit = limit
        self._clock = clock

    async def take(self, kind: str, key: str, *, lease: float) -> str | None:
        now = self._clock()
        mark = self._marks.get((kind, key))
        if mark is not None and mark.expires > now and (mark.done or mark.lease_until > now):
            return None
        token = uuid.uuid4().hex
        self._marks.pop((kind, key), None)
        self._marks[(kind, key)] = _Mark(token, False, now + lease, now + max(lease, MARK_KEEP))
        while len(self._marks) > self._limit:
            self._marks.popitem(last=False)
        return token

    async def done(self, kind: str, key: str, token: str) -> None:
        mark = self._marks.get((kind, key))
        if mark is not None and mark.token == token:
            mark.done = True
            mark.expires = self._clock() + MARK_KEEP


class SqlMarks:
    """`Marks` in the `marks` table: one row per (kind, key); taking is one atomic statement."""

    def __init__(self, *, database: Database, clock: WallClock = time.time) -> None:
        self._db = database
        self._clock = clock

    async def take(self, kind: str, key: str, *, lease: float) -> str | None:
        now = self._clock()
        token = uuid.uuid4().hex
        args = (kind, key, token, _ms(now + lease), _ms(now + max(lease, MARK_KEEP)), _ms(now))
        async with self._db.transaction(short=True) as conn:
            inserted = await conn.execute(
                "INSERT INTO marks (kind, mark_key, token, done, lease_until_ms, expires_ms)"
                " VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (kind, mark_key) DO NOTHING",
                *args[:5],
            )
            if inserted:
                return token
            taken = await conn.execute(
                "UPDATE marks SET token = $3, done = 0, lease_until_ms = $4, expires_ms = $5"
                " WHERE kind = $1 AND mark_key = $2"
                " AND (expires_ms <= $6 OR (done = 0 AND lease_until_ms <= $6))",
                *args,
            )
        return token if taken else None

    async def done(self, kind: str, key: str, token: str) -> None:
        async with self._db.transaction(short=True) as conn:
            await conn.execute(
                "UPDATE marks SET done = 1, expires_ms = $4"
                " WHERE kind = $1 AND mark_key = $2 AND token = $3",
                kind,
                key,
                token,
                _ms(self._clock() + MARK_KEEP),
            )

    async def purge(self) -> int:
        async with self._db.transaction() as conn:
            return await conn.execute(
                "DELETE FROM marks WHERE expires_ms <= $1", _ms(self._clock())
            )


class SqlRateLimiter:
    """At most `limit` messages per user in any `window` seconds, counted over every replica.

    Same rule as `bot.ratelimit.RateLimiter`: refused messages do not count. Each admitted message
    is a row of `rate_events`; a user's check-and-count is one transaction, serialized
    (PostgreSQL: an advisory transaction lock per user; SQLite: the write lock every transaction
    takes). With `state` (on the same database), a check made inside a turn of that store goes in
    the transaction that reads the turn's slots (`SqlStateStore.with_read`).
    """

    def __init__(
        self,
        *,
        database: Database,
        limit: int,
        window: float,
        clock: WallClock = time.time,
        state: SqlStateStore | None = None,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self._db = database
        self._limit = limit
        self._window = window
        self._clock = clock
        self._state = state

    async def admit(self, user: str) -> float | None:
        """Count one message of `user`: None when admitted, else the seconds until they may."""
        now = _ms(self._clock())
        if self._state is not None:
            return await self._state.with_read(lambda conn: self._count(conn, user, now))
        async with self._db.transaction(short=True) as conn:
            return await self._count(conn, user, now)

    async def _count(self, conn: Connection, user: str, now: int) -> float | None:
        """Admit and count in one statement when the user is under the limit; expired rows are
        not counted (the periodic `purge` deletes them)."""
        since = now - _ms(self._window)
        if self._db.dialect == "postgres":
            await conn.execute(f"SELECT pg_advisory_xact_lock({RATE_LOCK}, hashtext($1))", user)
        admitted = await conn.execute(
            "INSERT INTO rate_events (user_key, at_ms) SELECT CAST($1 AS TEXT), CAST($2 AS BIGINT)"
            " WHERE (SELECT COUNT(*) FROM rate_events WHERE user_key = $1 AND at_ms > $3)"
            " < CAST($4 AS BIGINT)",
            user,
            now,
            since,
            self._limit,
        )
        if admitted:
            return None
        # The user may send again when fewer than `limit` messages are left in the window: when
        # the limit-th newest leaves it (more than `limit` are counted after the limit was
        # lowered; the oldest would leave too early).
        rows = await conn.fetch(
            "SELECT at_ms FROM rate_events WHERE user_key = $1 AND at_ms > $2"
            " ORDER BY at_ms DESC LIMIT 1 OFFSET $3",
            user,
            since,
            self._limit - 1,
        )
        return max(0.0, (int(rows[0]["at_ms"]) - since) / 1000) if rows else 0.0

    async def purge(self) -> int:
        since = _ms(self._clock() - self._window)
        async with self._db.transaction() as conn:
            return await conn.execute("DELETE FROM rate_events WHERE at_ms <= $1", since)


class SharedState:
    """The three shared stores on one database, and their periodic clean-up."""

    def __init__(
        self, *, database: Database, limit: int, window: float, clock: WallClock = time.time
    ) -> None:
        self.state = SqlStateStore(database=database, clock=clock)
        self.marks = SqlMarks(database=database, clock=clock)
        self.limiter = SqlRateLimiter(
            database=database, limit=limit, window=window, clock=clock, state=self.state
        )

    async def purge(self) -> int:
        """Delete every expired row; how many were deleted."""
        return (
            await self.state.purge() + await self.marks.purge() + await self.limiter.purge()
        )

    async def cleanup(self, stop: asyncio.Event, every: float = CLEANUP_EVERY) -> None:
        """`purge` every `every` seconds until `stop` is set; a failed round is logged."""
        while not stop.is_set():
            try:
                deleted = await self.purge()
                if deleted:
                    log.info("deleted %d expired rows of shared state", deleted)
            except Exception:
                log.exception("could not delete expired shared state; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
