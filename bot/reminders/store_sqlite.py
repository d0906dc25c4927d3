"""SQLite `Database` for the reminder store: one file, WAL, one connection per process.

Writers on the same file (several processes) are serialized by SQLite itself: every transaction
starts with BEGIN IMMEDIATE and waits up to `busy_timeout` for the write lock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.reminders.store import Row, SqlReminderStore

_PLACEHOLDER = re.compile(r"\$(\d+)")


class _SqliteConnection:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        async with self._conn.execute(_PLACEHOLDER.sub(r"?\1", sql), args) as cursor:
            rows = await cursor.fetchall()
            names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    async def execute(self, sql: str, *args: object) -> int:
        async with self._conn.execute(_PLACEHOLDER.sub(r"?\1", sql), args) as cursor:
            return cursor.rowcount


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
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteConnection(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def close(self) -> None:
        await self._conn.close()


async def open_sqlite_store(path: Path) -> SqlReminderStore:
    """Open (creating if needed) the reminder database at `path` and apply migrations."""
    store = SqlReminderStore(database=await SqliteDatabase.open(path))
    await store.migrate()
    return store
