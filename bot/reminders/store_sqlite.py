"""SQLite `Database` for the reminder store: one file, WAL, two connections per process.

Writers on the same file (several processes) are serialized by SQLite itself: every transaction
starts with BEGIN IMMEDIATE, which takes the file's one write lock.

A transaction runs on aiosqlite's thread, where BEGIN IMMEDIATE waits up to `busy_timeout` for
the write lock, and every statement is a round trip (a thread switch each way). A *short*
transaction (`transaction(short=True)`: a message's state, a mark, a rate-limit check) first
tries the event loop's own thread, on a second connection whose busy_timeout is 0: when the
write lock is free it runs there without a thread switch. Every transaction of every process
on the file, short or on the thread, first takes a `WriterLock` (flock on `<database>-writer`),
which a waiter gets as soon as it is let go, where SQLite's own lock is tried again only after
sleeps of 1, 2, 5 ... ms; when a writer without that lock (the sqlite3 shell, a backup) still
holds SQLite's lock, BEGIN IMMEDIATE fails at once with SQLITE_BUSY and the transaction goes to
the thread, which waits. The loop never blocks on a lock, and it never checkpoints the WAL
(`wal_autocheckpoint=0` there): every `CHECKPOINT_EVERY` short transactions a passive
checkpoint runs on the thread instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from bot.reminders.store import Connection, Row, SqlReminderStore

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$(\d+)")
BUSY_TIMEOUT_MS = 30_000  # how long a transaction on the thread waits for the write lock
CHECKPOINT_EVERY = 200  # short transactions committed on the loop between WAL checkpoints
SPIN_SECONDS = 0.002  # how long the loop tries again for the writer lock before a thread waits
WRITER_WAIT_SECONDS = BUSY_TIMEOUT_MS / 1000  # then how long for the thread, before SQLite's wait


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


class WriterLock:
    """A lock that every process's transactions take before BEGIN IMMEDIATE: flock(2) on a file
    beside the database (`<database>-writer`), released by the kernel if its holder dies.

    It only makes waiting cheap; SQLite's own write lock still decides (a transaction that got
    this lock but not SQLite's goes to the thread, as before). SQLite's lock cannot be waited for
    without sleeping: its busy handler sleeps 1, 2, 5, 10 ms ... between tries, and while one
    worker's transaction slept the worker's other transactions queued behind it, for another
    worker's transaction of about 0.06 ms. This lock is taken on the loop when free; when
    another process holds it, the loop tries again between its other work (`asyncio.sleep(0)`)
    for up to `SPIN_SECONDS`, and after that a thread waits in flock, which wakes as soon as
    the lock is released; after `WRITER_WAIT_SECONDS` the transaction waits on SQLite's lock on
    aiosqlite's thread instead (its busy timeout then ends the wait, as without this lock). A
    caller that gives up while the thread waits leaves that wait to the next caller, or, when
    nobody takes it over, the lock is let go as soon as the thread has it. Linux and the BSDs;
    None where fcntl is missing (every transaction then waits on SQLite's lock as before).
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._closed = False
        # A thread still waiting in flock (or done waiting) whose caller gave up: the next
        # `acquire` takes it over, so that there is one waiting thread at most and no thread
        # lets go of a lock that a later caller holds. Unclaimed when it gets the lock: let go.
        self._orphan: asyncio.Future[None] | None = None

    @classmethod
    def beside(cls, path: Path) -> WriterLock | None:
        """The lock of the database at `path`; None without fcntl, or when the file cannot be
        opened (logged; transactions then wait on SQLite's lock alone)."""
        if fcntl is None:
            return None
        try:
            return cls(os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        except OSError as error:
            log.warning("no writer lock beside %s (%s); waiting on SQLite's lock", path, error)
            return None

    def _take(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    async def acquire(self) -> bool:
        """Take the lock: True once held; False when it was not let go within
        `WRITER_WAIT_SECONDS` (SQLite's busy timeout), and the caller waits on SQLite's lock on
        its thread, as without this lock. One caller at a time (the database's lock)."""
        waiting, self._orphan = self._orphan, None
        if waiting is None:
            if self._take():
                return True
            loop = asyncio.get_running_loop()
            until = loop.time() + SPIN_SECONDS
            while loop.time() < until:
                await asyncio.sleep(0)
                if self._take():
                    return True
            waiting = _flock_in_thread(loop, self._fd)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), WRITER_WAIT_SECONDS)
        except asyncio.CancelledError:
            self._abandon(waiting)
            raise
        except TimeoutError:
            self._abandon(waiting)
            log.warning("the SQLite writer lock was not let go in time; waiting on SQLite's lock")
            return False
        except OSError:
            log.warning("could not take the SQLite writer lock; waiting on SQLite's lock",
                        exc_info=True)  # fmt: skip
            return False
        return True

    def _abandon(self, waiting: asyncio.Future[None]) -> None:
        self._orphan = waiting
        waiting.add_done_callback(self._unclaimed)

    def _unclaimed(self, waiting: asyncio.Future[None]) -> None:
        if self._orphan is waiting:  # nobody took the wait over: let go of what it got
            self._orphan = None
            if not waiting.cancelled() and waiting.exception() is None:
                self.release()

    def release(self) -> None:
        if not self._closed:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)


def _flock_in_thread(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.Future[None]:
    """flock(fd, LOCK_EX) in a daemon thread of its own (never the loop's default executor, and
    never holding up the interpreter's exit); the future is done once the lock is held."""
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: OSError | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def wait() -> None:
        error: OSError | None = None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as failed:
            error = failed
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=wait, name="sqlite-writer-lock", daemon=True).start()
    return done


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(
        self, conn: aiosqlite.Connection, here: sqlite3.Connection | None,
        writer: WriterLock | None = None,
    ) -> None:  # fmt: skip
        """`here`: the connection for short transactions on the loop's thread (None: every
        transaction on `conn`'s thread)."""
        self._conn = conn
        self._here = here
        self._writer = writer
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
        if not wal:
            return cls(conn, None)
        return cls(conn, _loop_connection(path), WriterLock.beside(path))

    @asynccontextmanager
    async def transaction(self, *, short: bool = False) -> AsyncIterator[Connection]:
        """BEGIN IMMEDIATE, the statements, COMMIT (ROLLBACK when the block raises). On the
        thread, BEGIN travels with the first statement: a transaction of one statement is two
        round trips. `short`: on the loop's thread when the write lock is free (no round trip);
        the block must then await nothing but its statements, or it holds the lock meanwhile.
        Every transaction, short or not, holds the writer lock (`WriterLock`) from before its
        BEGIN to after its end: a transaction on the thread is then waited for like a short one,
        and its BEGIN never finds SQLite's lock taken by a stream of other workers' short
        transactions that hand the writer lock on to each other."""
        async with self._lock:
            if short and self._here is not None and self._unchecked >= CHECKPOINT_EVERY:
                await self._checkpoint()
            held = self._writer is not None and await self._writer.acquire()
            try:
                here = self._begin_here() if short else None
                if here is not None:
                    with _on_loop(here) as on_loop:
                        yield on_loop
                    self._unchecked += 1
                    return
                async with _on_thread(self._conn) as on_thread:
                    yield on_thread
            finally:
                if held:
                    self._let_go()

    def _begin_here(self) -> sqlite3.Connection | None:
        """The loop's connection with its transaction begun; None when SQLite's write lock is
        held elsewhere (batch work of a process without the writer lock), or there is no such
        connection: the transaction then waits on the thread."""
        if self._here is None:
            return None
        return self._here if _begin_now(self._here) else None

    def _let_go(self) -> None:
        if self._writer is not None:
            self._writer.release()

    async def _checkpoint(self) -> None:
        self._unchecked = 0
        try:
            await _call(self._conn, _checkpoint)
        except sqlite3.Error:
            log.warning("could not checkpoint the SQLite WAL; trying again later", exc_info=True)

    async def close(self) -> None:
        if self._here is not None:
            self._here.close()
        if self._writer is not None:
            self._writer.close()
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
