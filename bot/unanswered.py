"""What the bot could not answer, and how users rated what it did answer, for coordinators.

Stored in the reminders' database (SQLite file, or PostgreSQL when DATABASE_URL is set) in tables
of its own, versioned in `feedback_schema_version` so it never collides with the reminders'
`schema_version`. A question is stored masked (`bot.privacy.mask`) and with no user identity:
no user id, no conversation, no platform. Rows older than the retention are deleted at each write
and each report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot.ports import Clock
from bot.privacy import mask
from bot.reminders.model import from_epoch, to_epoch
from bot.reminders.store import Connection, Database
from bot.reminders.store_postgres import PostgresDatabase
from bot.reminders.store_sqlite import SqliteDatabase
from bot.settings import Settings

MAX_STORED_TEXT = 500  # characters of a question kept
ADVISORY_LOCK = 4242002  # the reminders use 4242001

_SERIAL = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "BIGSERIAL PRIMARY KEY"}
_V1 = (
    """CREATE TABLE unanswered (
        id {serial},
        created_at BIGINT NOT NULL,
        kind TEXT NOT NULL,
        lang TEXT NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX unanswered_created ON unanswered (created_at)",
    """CREATE TABLE ratings (
        id {serial},
        created_at BIGINT NOT NULL,
        entry_id TEXT NOT NULL,
        vote INTEGER NOT NULL
    )""",
    "CREATE INDEX ratings_created ON ratings (created_at)",
)
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ((1, _V1),)


class Journal(Protocol):
    """Where the service notes what it could not answer and the ratings users give."""

    async def unanswered(self, text: str, *, kind: str, lang: str) -> None: ...
    async def rate(self, entry_id: str, *, up: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class Unanswered:
    text: str
    kind: str  # "no_match" or "abandoned" (a clarifying question left unanswered)
    lang: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Rating:
    entry_id: str
    up: int
    down: int


class FeedbackStore:
    """Implements `Journal`; `questions` and `ratings` feed the coordinators' report."""

    def __init__(self, *, database: Database, clock: Clock, retention_days: int = 90) -> None:
        self._db = database
        self._clock = clock
        self._retention = timedelta(days=retention_days)

    async def migrate(self) -> None:
        async with self._db.transaction() as conn:
            if self._db.dialect == "postgres":  # lock first: replicas may start together
                await conn.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS feedback_schema_version (version INTEGER PRIMARY KEY)"
            )
            rows = await conn.fetch("SELECT MAX(version) AS v FROM feedback_schema_version")
            current = rows[0]["v"] or 0
            for version, sqls in MIGRATIONS:
                if version > current:
                    for sql in sqls:
                        await conn.execute(sql.format(serial=_SERIAL[self._db.dialect]))
                    await conn.execute(
                        "INSERT INTO feedback_schema_version (version) VALUES ($1)", version
                    )

    async def unanswered(self, text: str, *, kind: str, lang: str) -> None:
        cleaned = " ".join(mask(text).split())[:MAX_STORED_TEXT]
        if not cleaned:
            return
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO unanswered (created_at, kind, lang, text) VALUES ($1, $2, $3, $4)",
                to_epoch(now),
                kind,
                lang,
                cleaned,
            )
            await self._purge(conn, now)

    async def rate(self, entry_id: str, *, up: bool) -> None:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO ratings (created_at, entry_id, vote) VALUES ($1, $2, $3)",
                to_epoch(now),
                entry_id[:200],
                1 if up else -1,
            )
            await self._purge(conn, now)

    async def questions(self) -> list[Unanswered]:
        async with self._db.transaction() as conn:
            await self._purge(conn, self._clock.now())
            rows = await conn.fetch(
                "SELECT created_at, kind, lang, text FROM unanswered ORDER BY created_at, id"
            )
        return [
            Unanswered(r["text"], r["kind"], r["lang"], from_epoch(r["created_at"])) for r in rows
        ]

    async def ratings(self) -> list[Rating]:
        async with self._db.transaction() as conn:
            await self._purge(conn, self._clock.now())
            rows = await conn.fetch(
                "SELECT entry_id, SUM(CASE WHEN vote > 0 THEN 1 ELSE 0 END) AS up,"
                " SUM(CASE WHEN vote < 0 THEN 1 ELSE 0 END) AS down"
                " FROM ratings GROUP BY entry_id ORDER BY entry_id"
            )
        return [Rating(r["entry_id"], int(r["up"]), int(r["down"])) for r in rows]

    async def close(self) -> None:
        await self._db.close()

    async def _purge(self, conn: Connection, now: datetime) -> None:
        cutoff = to_epoch(now - self._retention)
        for table in ("unanswered", "ratings"):
            await conn.execute(f"DELETE FROM {table} WHERE created_at < $1", cutoff)


async def open_feedback_store(
    settings: Settings, *, clock: Clock, schema: str | None = None
) -> FeedbackStore:
    """PostgreSQL when DATABASE_URL is set, else the SQLite file the reminders use."""
    database: Database
    if settings.database_url:
        database = await PostgresDatabase.open(settings.database_url, schema=schema, size=2)
    else:
        database = await SqliteDatabase.open(Path(settings.sqlite_path))
    store = FeedbackStore(
        database=database, clock=clock, retention_days=settings.unanswered_retention_days
    )
    await store.migrate()
    return store
