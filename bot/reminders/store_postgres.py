"""PostgreSQL `Database` for the reminder store (asyncpg pool), used when DATABASE_URL is set.

`schema` puts every table in that schema (tests use a fresh one each, so runs never collide).
asyncpg is imported when a pool is opened: a bot on SQLite never loads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.reminders.store import Row, SqlReminderStore

if TYPE_CHECKING:
    import asyncpg


class _PgConnection:
    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        return [dict(r) for r in await self._conn.fetch(sql, *args)]

    async def execute(self, sql: str, *args: object) -> int:
        status = await self._conn.execute(sql, *args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0


class PostgresDatabase:
    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, schema: str | None = None, size: int = 4) -> PostgresDatabase:
        import asyncpg

        settings = {"search_path": schema} if schema else {}
        pool = await asyncpg.create_pool(url, min_size=1, max_size=size, server_settings=settings)
        return cls(pool)

    @asynccontextmanager
    async def transaction(self, *, short: bool = False) -> AsyncIterator[_PgConnection]:
        """`short` changes nothing here (every statement is a round trip to the server)."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PgConnection(conn)

    async def close(self) -> None:
        await self._pool.close()


async def open_postgres_store(url: str, *, schema: str | None = None) -> SqlReminderStore:
    store = SqlReminderStore(database=await PostgresDatabase.open(url, schema=schema))
    await store.migrate()
    return store
