"""SQLite `Database` for the reminder store: one file, WAL, one connection per process.

Writers on the same file (several processes) are serialized by SQLite itself: every transaction
starts with BEGIN IMMEDIATE and waits up to `busy_timeout` for the write lock.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.reminders.store import Row, SqlReminderStore

_PLACEHOLDER = re.compile(r"\$(\d+)")


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
        return await _call(self._conn, statement, _PLACEHOLDER.sub(r"?\1", sql), args, begin)


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
    """COMMIT or ROLLBACK the transaction, if its BEGIN went through."""
    if conn.in_transaction:
        conn.execute("COMMIT" if commit else "ROLLBACK")


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        for pragma in (  # busy_timeout first: processes opening the file together wait
            "busy_timeout=30000",
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            await conn.execute(f"PRAGMA {pragma}")
        return cls(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteConnection]:
        """BEGIN IMMEDIATE (with the first statement), the statements, COMMIT: a transaction of
        one statement is two round trips to the connection's thread."""
        async with self._lock:
            connection = _SqliteConnection(self._conn)
            try:
                yield connection
            except BaseException:
                if connection.begun:
                    await _call(self._conn, _end, False)
                raise
            if connection.begun:
                await _call(self._conn, _end, True)

    async def close(self) -> None:
        await self._conn.close()


async def open_sqlite_store(path: Path) -> SqlReminderStore:
    """Open (creating if needed) the reminder database at `path` and apply migrations."""
    store = SqlReminderStore(database=await SqliteDatabase.open(path))
    await store.migrate()
    return store
