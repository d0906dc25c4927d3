"""SQLite `Database` for the reminder store: one file, WAL, two connections per process.

Writers on the same file (several processes) are serialized by SQLite itself: every transaction
starts with BEGIN IMMEDIATE, which takes the file's one write lock.

A transaction runs on aiosqlite's thread, where BEGIN IMMEDIATE waits up to `busy_timeout` for
the write lock, and every statement is a round trip (a thread switch each way). A *short*
transaction (`transaction(short=True)`: a message's state, a mark, a rate-limit check) first
tries the event loop's own thread, on a second connection whose busy_timeout is 0: when the
write lock is free it runs there without a thread switch; when another connection holds it
(another worker, replica or store on the file) BEGIN IMMEDIATE fails at once with SQLITE_BUSY
and the transaction goes to the thread, which waits. The loop never waits for a lock, and it
never checkpoints the WAL (`wal_autocheckpoint=0` there): every `CHECKPOINT_EVERY` short
transactions a passive checkpoint runs on the thread instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.reminders.store import Connection, Row, SqlReminderStore

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$(\d+)")
BUSY_TIMEOUT_MS = 30_000  # how long a transaction on the thread waits for the write lock
CHECKPOINT_EVERY = 200  # short transactions committed on the loop between WAL checkpoints


@functools.lru_cache(maxsize=512)
def _qmarks(sql: str) -> str:
    """`$1` placeholders (the `Database` port's, PostgreSQL's) as SQLite's `?1`."""
    return _PLACEHOLDER.sub(r"?\1", sql)


class _SqliteConnection:
    """One transaction's statements; each is one round trip to aiosqlite's thread (statement,
    rows and cursor in one call), and the first one carries the BEGIN IMMEDIATE."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.begun = False

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        rows: list[Row] = await self._run(_fetch, sql, args)
        return rows

    async def execute(self, sql: str, *args: object) -> int:
        count: int = await self._run(_execute, sql, args)
        return count

    async def _run(self, statement: Any, sql: str, args: tuple[object, ...]) -> Any:
        begin = not self.begun
        self.begun = True
        # aiosqlite's own queue to its thread, one call per statement (its public API takes a
        # round trip each for execute, fetchall and close).
        return await _call(self._conn, statement, _qmarks(sql), args, begin)


class _LoopConnection:
    """A short transaction's statements on the event loop's thread: the write lock is already
    ours (BEGIN IMMEDIATE went through), so no statement waits; none suspends the caller."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        return _fetch(self._conn, _qmarks(sql), args, False)

    async def execute(self, sql: str, *args: object) -> int:
        return _execute(self._conn, _qmarks(sql), args, False)


async def _call(conn: aiosqlite.Connection, function: Any, *args: object) -> Any:
    """`function(<the sqlite3 connection>, *args)` on the connection's thread, one round trip."""
    return await conn._execute(function, conn._conn, *args)  # type: ignore[no-untyped-call]


def _fetch(conn: sqlite3.Connection, sql: str, args: tuple[object, ...], begin: bool) -> list[Row]:
    if begin:
        conn.execute("BEGIN IMMEDIATE")
    cursor = conn.execute(sql, args)
    try:
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _execute(conn: sqlite3.Connection, sql: str, args: tuple[object, ...], begin: bool) -> int:
    if begin:
        conn.execute("BEGIN IMMEDIATE")
    cursor = conn.execute(sql, args)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _end(conn: sqlite3.Connection, commit: bool) -> None:
    """COMMIT or ROLLBACK the transaction, if its BEGIN went through (a COMMIT that fails leaves
    it open: it is rolled back, and the error raised)."""
    if not conn.in_transaction:
        return
    try:
        conn.execute("COMMIT" if commit else "ROLLBACK")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _begin_now(conn: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE without waiting: False when another connection holds the write lock."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
            return False
        raise
    return True


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy what the WAL holds into the database file, as far as readers allow; never waits."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()


def _loop_connection(path: Path) -> sqlite3.Connection:
    """The connection used on the event loop's thread (serialized by `SqliteDatabase`'s lock)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("busy_timeout=0", "synchronous=NORMAL", "foreign_keys=ON",
                   "wal_autocheckpoint=0"):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    return conn


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, here: sqlite3.Connection | None) -> None:
        """`here`: the connection for short transactions on the loop's thread (None: every
        transaction on `conn`'s thread)."""
        self._conn = conn
        self._here = here
        self._lock = asyncio.Lock()
        self._unchecked = 0  # short transactions committed on the loop since the last checkpoint

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: openers wait
        async with conn.execute("PRAGMA journal_mode=WAL") as cursor:
            mode = await cursor.fetchone()
        for pragma in ("synchronous=NORMAL", "foreign_keys=ON"):
            await conn.execute(f"PRAGMA {pragma}")
        # Only in WAL mode does a COMMIT never wait for readers (the loop must not wait).
        wal = mode is not None and str(mode[0]).lower() == "wal"
        return cls(conn, _loop_connection(path) if wal else None)

    @asynccontextmanager
    async def transaction(self, *, short: bool = False) -> AsyncIterator[Connection]:
        """BEGIN IMMEDIATE, the statements, COMMIT (ROLLBACK when the block raises). On the
        thread, BEGIN travels with the first statement: a transaction of one statement is two
        round trips. `short`: on the loop's thread when the write lock is free (no round trip);
        the block must then await nothing but its statements, or it holds the lock meanwhile."""
        async with self._lock:
            here = await self._begin_here() if short else None
            if here is not None:
                with _on_loop(here) as on_loop:
                    yield on_loop
                self._unchecked += 1
                return
            async with _on_thread(self._conn) as on_thread:
                yield on_thread

    async def _begin_here(self) -> sqlite3.Connection | None:
        """The loop's connection with its transaction begun; None when the write lock is taken
        (or there is no such connection)."""
        if self._here is None:
            return None
        if self._unchecked >= CHECKPOINT_EVERY:
            await self._checkpoint()
        return self._here if _begin_now(self._here) else None

    async def _checkpoint(self) -> None:
        self._unchecked = 0
        try:
            await _call(self._conn, _checkpoint)
        except sqlite3.Error:
            log.warning("could not checkpoint the SQLite WAL; trying again later", exc_info=True)

    async def close(self) -> None:
        if self._here is not None:
            self._here.close()
        await self._conn.close()


@contextmanager
def _on_loop(conn: sqlite3.Connection) -> Iterator[_LoopConnection]:
    """The transaction begun on `conn`: COMMIT when the block ends, ROLLBACK when it raises."""
    try:
        yield _LoopConnection(conn)
    except BaseException:
        _end(conn, False)
        raise
    _end(conn, True)


@asynccontextmanager
async def _on_thread(conn: aiosqlite.Connection) -> AsyncIterator[_SqliteConnection]:
    """A transaction on `conn`'s thread: BEGIN with the first statement, COMMIT or ROLLBACK."""
    connection = _SqliteConnection(conn)
    try:
        yield connection
    except BaseException:
        if connection.begun:
            await _call(conn, _end, False)
        raise
    if connection.begun:
        await _call(conn, _end, True)


async def open_sqlite_store(path: Path) -> SqlReminderStore:
    """Open (creating if needed) the reminder database at `path` and apply migrations."""
    store = SqlReminderStore(database=await SqliteDatabase.open(path))
    await store.migrate()
    return store
