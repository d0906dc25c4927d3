"""The reminder store: a Protocol, and one SQL implementation over a small `Database` port.

`store_sqlite.py` (aiosqlite, WAL, one file) and `store_postgres.py` (asyncpg pool) provide the
`Database`; every query below runs unchanged on both, except the claim, which on PostgreSQL
locks candidate rows with FOR UPDATE SKIP LOCKED so replicas never pick the same delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from bot.messages import Lang
from bot.reminders.migrations import MIGRATIONS, statements
from bot.reminders.model import (
    Claim,
    Failed,
    NewReminder,
    Outcome,
    Owner,
    Recurrence,
    Reminder,
    ReminderStatus,
    Retry,
    Schedule,
    Sent,
    from_epoch,
    to_epoch,
)

log = logging.getLogger(__name__)
ADVISORY_LOCK = 4242001  # held while migrating; the feedback tables use 4242002
Row = Mapping[str, Any]
_T = TypeVar("_T")
_CHUNK = 400  # rows per multi-row statement (SQLite allows 32,766 parameters)
_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, _CHUNK)  # list lengths a statement is built for


class Connection(Protocol):
    async def fetch(self, sql: str, *args: object) -> list[Row]: ...
    async def execute(self, sql: str, *args: object) -> int: ...


class Database(Protocol):
    dialect: str

    def transaction(self, *, short: bool = False) -> AbstractAsyncContextManager[Connection]:
        """BEGIN ... COMMIT, or ROLLBACK when the block raises. `short`: a few statements on a
        handful of rows, and nothing else awaited inside (a message's state, a mark, a rate-limit
        check); SQLite then runs it on the event loop's thread when its write lock is free."""
        ...

    async def close(self) -> None: ...


class ReminderStore(Protocol):
    async def add(self, new: NewReminder, *, first: datetime, now: datetime) -> Reminder: ...
    async def mine(self, owner: Owner) -> list[Reminder]: ...
    async def save(
        self, owner: Owner, reminder: Reminder, *, next_occurrence: datetime | None, now: datetime
    ) -> bool: ...
    async def delete(self, owner: Owner, reminder_id: int) -> bool: ...
    async def snooze(
        self, owner: Owner, reminder_id: int, occurrence: datetime, seq: int, due: datetime
    ) -> bool: ...
    async def claim(
        self, token: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[Claim]: ...
    async def settle(self, outcomes: Sequence[Outcome], *, now: datetime) -> int: ...
    async def close(self) -> None: ...


_COLUMNS = (
    "r.id, r.platform, r.user_id, r.address, r.label, r.lang, r.rule, r.start_local, r.timezone, "
    "r.st_start, r.status, r.skipped"
)
_PENDING_FREE = "state = 'pending' AND seq = 0 AND (lease_until IS NULL OR lease_until < $2)"


class SqlReminderStore:
    """Implements `ReminderStore`; owner checks are part of every user-facing query."""

    def __init__(self, *, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        """The database this store uses, for the other tables of the same schema."""
        return self._db

    async def migrate(self) -> None:
        """Apply the migrations not yet applied. On PostgreSQL the advisory lock comes first, so
        replicas starting together on a new database wait for each other instead of racing to
        create `schema_version` (which fails with UniqueViolationError on pg_type)."""
        async with self._db.transaction() as conn:
            if self._db.dialect == "postgres":
                await conn.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)"
            )
            rows = await conn.fetch("SELECT MAX(version) AS v FROM schema_version")
            current = rows[0]["v"] or 0
            for version, sqls in MIGRATIONS:
                if version > current:
                    for sql in statements(sqls, self._db.dialect):
                        await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)

    async def add(self, new: NewReminder, *, first: datetime, now: datetime) -> Reminder:
        s = new.schedule
        async with self._db.transaction() as conn:
            rows = await conn.fetch(
                "INSERT INTO reminders (platform, user_id, address, label, lang, rule, start_local,"
                " timezone, st_start, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
                " RETURNING id",
                new.owner.platform,
                new.owner.user_id,
                new.address,
                new.label,
                new.lang,
                s.recurrence.to_rule(),
                s.start.isoformat(),
                s.timezone,
                new.st_start.isoformat() if new.st_start else None,
                to_epoch(now),
            )
            rid = int(rows[0]["id"])
            await _insert_delivery(conn, rid, first, 0, first)
        return Reminder(
            rid, new.owner, new.address, new.label, new.lang, s, new.st_start, "active", frozenset()
        )

    async def mine(self, owner: Owner) -> list[Reminder]:
        async with self._db.transaction() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM reminders r WHERE r.platform = $1 AND r.user_id = $2"
                " ORDER BY r.id",
                owner.platform,
                owner.user_id,
            )
        return [_reminder(row) for row in rows]

    async def save(
        self, owner: Owner, reminder: Reminder, *, next_occurrence: datetime | None, now: datetime
    ) -> bool:
        """Store changed schedule/status/skips and replace the pending (unleased) delivery."""
        s = reminder.schedule
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE reminders SET rule = $1, start_local = $2, status = $3, skipped = $4,"
                " paused_reason = NULL WHERE id = $5 AND platform = $6 AND user_id = $7",
                s.recurrence.to_rule(),
                s.start.isoformat(),
                reminder.status,
                ",".join(str(x) for x in sorted(reminder.skipped)),
                reminder.id,
                owner.platform,
                owner.user_id,
            )
            if not changed:
                return False
            await conn.execute(
                f"DELETE FROM deliveries WHERE reminder_id = $1 AND {_PENDING_FREE}",
                reminder.id,
                to_epoch(now),
            )
            if next_occurrence is not None and reminder.status == "active":
                await _insert_next(conn, [(reminder.id, next_occurrence)])
        return True

    async def delete(self, owner: Owner, reminder_id: int) -> bool:
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM deliveries WHERE reminder_id IN (SELECT id FROM reminders"
                " WHERE id = $1 AND platform = $2 AND user_id = $3)",
                reminder_id,
                owner.platform,
                owner.user_id,
            )
            return bool(
                await conn.execute(
                    "DELETE FROM reminders WHERE id = $1 AND platform = $2 AND user_id = $3",
                    reminder_id,
                    owner.platform,
                    owner.user_id,
                )
            )

    async def snooze(
        self, owner: Owner, reminder_id: int, occurrence: datetime, seq: int, due: datetime
    ) -> bool:
        async with self._db.transaction() as conn:
            return bool(
                await conn.execute(
                    "INSERT INTO deliveries (reminder_id, occurrence, seq, scheduled_at, due_at)"
                    " SELECT id, CAST($4 AS BIGINT), CAST($5 AS INTEGER), CAST($6 AS BIGINT),"
                    " CAST($6 AS BIGINT) FROM reminders WHERE id = $1 AND platform = $2"
                    " AND user_id = $3 ON CONFLICT DO NOTHING",
                    reminder_id,
                    owner.platform,
                    owner.user_id,
                    to_epoch(occurrence),
                    seq,
                    to_epoch(due),
                )
            )

    async def claim(
        self, token: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[Claim]:
        """Lease up to `limit` due deliveries, oldest first. The rows are read back by primary
        key, so the cost per batch does not grow with the number pending."""
        lock = " FOR UPDATE OF d SKIP LOCKED" if self._db.dialect == "postgres" else ""
        async with self._db.transaction() as conn:
            leased = await conn.fetch(
                "UPDATE deliveries SET lease_token = $1, lease_until = $2 WHERE id IN ("
                " SELECT d.id FROM deliveries d JOIN reminders r ON r.id = d.reminder_id"
                " WHERE d.state = 'pending' AND d.due_at <= $3 AND r.status = 'active'"
                " AND (d.lease_until IS NULL OR d.lease_until < $3)"
                f" ORDER BY d.due_at LIMIT $4{lock}) RETURNING id",
                token,
                to_epoch(lease_until),
                to_epoch(now),
                limit,
            )
            if not leased:
                return []
            ids = _padded([row["id"] for row in leased])
            listed = ", ".join(f"${n + 1}" for n in range(len(ids)))
            rows = await conn.fetch(
                f"SELECT d.id AS job_id, d.occurrence, d.seq, d.scheduled_at, d.attempts, {_COLUMNS}"
                " FROM deliveries d JOIN reminders r ON r.id = d.reminder_id"
                f" WHERE d.id IN ({listed}) ORDER BY d.due_at",
                *ids,
            )
        return [_claim(row, token) for row in rows]

    async def settle(self, outcomes: Sequence[Outcome], *, now: datetime) -> int:
        """Record a batch of outcomes in one transaction, each only while its claim's lease
        token still holds: sent ones are marked sent at `now` and their next meeting queued,
        retries become due again, failures pause their reminder. Returns how many were recorded;
        one whose lease was lost (another scheduler took it over) is logged and left alone."""
        sent = [o for o in outcomes if isinstance(o, Sent)]
        async with self._db.transaction() as conn:
            marked = await _mark_sent(conn, sent, now)
            await _insert_next(
                conn,
                [
                    (o.claim.reminder.id, o.following)
                    for o in sent
                    if o.claim.job_id in marked and o.claim.seq == 0 and o.following is not None
                ],
            )
            recorded = len(marked)
            for outcome in outcomes:
                if isinstance(outcome, Retry):
                    recorded += await _retry(conn, outcome)
                elif isinstance(outcome, Failed):
                    recorded += await _fail(conn, outcome)
        for lost in (o for o in sent if o.claim.job_id not in marked):
            log.warning(
                "delivery %s: lease lost before commit; another replica may resend",
                lost.claim.job_id,
            )
        return recorded

    async def close(self) -> None:
        await self._db.close()


async def _insert_delivery(
    conn: Connection, rid: int, occurrence: datetime, seq: int, due: datetime
) -> None:
    await conn.execute(
        "INSERT INTO deliveries (reminder_id, occurrence, seq, scheduled_at, due_at)"
        " VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
        rid,
        to_epoch(occurrence),
        seq,
        to_epoch(due),
    )


async def _insert_next(conn: Connection, following: Sequence[tuple[int, datetime]]) -> None:
    """Queue each (reminder id, occurrence) unless a seq-0 delivery is already pending for it."""
    for first in range(0, len(following), _CHUNK):
        chunk = _padded(following[first : first + _CHUNK])  # a repeated row: ON CONFLICT
        rows = ", ".join(
            f"(CAST(${2 * n + 1} AS BIGINT), CAST(${2 * n + 2} AS BIGINT))"
            for n in range(len(chunk))
        )
        await conn.execute(
            "INSERT INTO deliveries (reminder_id, occurrence, seq, scheduled_at, due_at)"
            f" SELECT v.column1, v.column2, 0, v.column2, v.column2 FROM (VALUES {rows}) AS v"
            " WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.reminder_id = v.column1"
            " AND d.seq = 0 AND d.state = 'pending') ON CONFLICT DO NOTHING",
            *(value for rid, occurrence in chunk for value in (rid, to_epoch(occurrence))),
        )


async def _mark_sent(conn: Connection, sent: Sequence[Sent], now: datetime) -> set[int]:
    """Mark pending deliveries sent where the lease token still holds; the ids marked."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for outcome in sent:
        groups.setdefault((outcome.claim.token, outcome.late), []).append(outcome.claim.job_id)
    marked: set[int] = set()
    for (token, late), ids in groups.items():
        for first in range(0, len(ids), _CHUNK):
            chunk = _padded(ids[first : first + _CHUNK])
            listed = ", ".join(f"${n + 4}" for n in range(len(chunk)))
            rows = await conn.fetch(
                "UPDATE deliveries SET state = 'sent', sent_at = $1, late = $2, lease_until = NULL"
                f" WHERE lease_token = $3 AND state = 'pending' AND id IN ({listed}) RETURNING id",
                to_epoch(now),
                int(late),
                token,
                *chunk,
            )
            marked.update(int(row["id"]) for row in rows)
    return marked


def _padded(values: Sequence[_T]) -> list[_T]:
    """`values` (not empty) with its last one repeated up to the next of `_SIZES`, for a statement
    whose text lists them: batches of any size then make a few statement texts, not one per
    size, so the drivers' statement caches stay small (asyncpg keeps up to 100 per connection,
    about 15 KB each at 400 parameters; they grew with the length of a run)."""
    size = next((size for size in _SIZES if size >= len(values)), len(values))
    return [*values, *[values[-1]] * (size - len(values))]


async def _retry(conn: Connection, retry: Retry) -> int:
    return await conn.execute(
        "UPDATE deliveries SET due_at = $1, attempts = attempts + 1, lease_token = NULL,"
        " lease_until = NULL WHERE id = $2 AND lease_token = $3 AND state = 'pending'",
        to_epoch(retry.due),
        retry.claim.job_id,
        retry.claim.token,
    )


async def _fail(conn: Connection, failed: Failed) -> int:
    done = await conn.execute(
        "UPDATE deliveries SET state = 'failed', lease_until = NULL"
        " WHERE id = $1 AND lease_token = $2 AND state = 'pending'",
        failed.claim.job_id,
        failed.claim.token,
    )
    if done:
        await conn.execute(
            "UPDATE reminders SET status = 'paused', paused_reason = $1 WHERE id = $2",
            failed.reason[:500],
            failed.claim.reminder.id,
        )
    return done


def _reminder(row: Row) -> Reminder:
    status: ReminderStatus = "paused" if row["status"] == "paused" else "active"
    schedule = Schedule(
        Recurrence.from_rule(row["rule"]),
        datetime.fromisoformat(row["start_local"]),
        row["timezone"],
    )
    skipped = frozenset(int(x) for x in row["skipped"].split(",") if x)
    st = date.fromisoformat(row["st_start"]) if row["st_start"] else None
    lang: Lang = "en" if row["lang"] == "en" else "sv"
    return Reminder(
        int(row["id"]),
        Owner(row["platform"], row["user_id"]),
        row["address"],
        row["label"],
        lang,
        schedule,
        st,
        status,
        skipped,
    )


def _claim(row: Row, token: str) -> Claim:
    return Claim(
        int(row["job_id"]),
        _reminder(row),
        from_epoch(int(row["occurrence"])),
        int(row["seq"]),
        from_epoch(int(row["scheduled_at"])),
        int(row["attempts"]),
        token,
    )
