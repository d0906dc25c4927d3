"""Versioned schema, applied in order at start; `schema_version` records what is applied.

Times are whole seconds since the epoch (UTC) in BIGINT columns, so SQLite and PostgreSQL share
every query. A `deliveries` row is one delivery of one meeting occurrence (`seq` 0, or a snooze):
UNIQUE (reminder_id, occurrence, seq) plus the pending → sent transition make it happen once.

Version 2 adds the state several replicas share (`bot.sharedstate`), with times in milliseconds
since the epoch: `conversation_state` (the `bot.state` slots), `marks` (what was already taken in:
Slack events and messages, Teams welcomes) and `rate_events` (the rate limit's sliding windows).
Every row carries its expiry; expired rows are ignored at once and deleted periodically.
"""

from __future__ import annotations

_SERIAL = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "BIGSERIAL PRIMARY KEY"}

_V1 = (
    """CREATE TABLE reminders (
        id {serial},
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        address TEXT NOT NULL,
        label TEXT NOT NULL,
        lang TEXT NOT NULL,
        rule TEXT NOT NULL,
        start_local TEXT NOT NULL,
        timezone TEXT NOT NULL,
        st_start TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        paused_reason TEXT,
        skipped TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL
    )""",
    "CREATE INDEX reminders_owner ON reminders (platform, user_id, id)",
    """CREATE TABLE deliveries (
        id {serial},
        reminder_id BIGINT NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
        occurrence BIGINT NOT NULL,
        seq INTEGER NOT NULL,
        scheduled_at BIGINT NOT NULL,
        due_at BIGINT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_token TEXT,
        lease_until BIGINT,
        sent_at BIGINT,
        late INTEGER NOT NULL DEFAULT 0,
        UNIQUE (reminder_id, occurrence, seq)
    )""",
    "CREATE INDEX deliveries_pending ON deliveries (due_at) WHERE state = 'pending'",
    "CREATE INDEX deliveries_lease ON deliveries (lease_token)",
)

_V2 = (
    """CREATE TABLE conversation_state (
        state_key TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_ms BIGINT NOT NULL,
        PRIMARY KEY (state_key, name)
    )""",
    "CREATE INDEX conversation_state_expiry ON conversation_state (expires_ms)",
    """CREATE TABLE marks (
        kind TEXT NOT NULL,
        mark_key TEXT NOT NULL,
        token TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        lease_until_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL,
        PRIMARY KEY (kind, mark_key)
    )""",
    "CREATE INDEX marks_expiry ON marks (expires_ms)",
    """CREATE TABLE rate_events (
        user_key TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    )""",
    "CREATE INDEX rate_events_user ON rate_events (user_key, at_ms)",
    "CREATE INDEX rate_events_at ON rate_events (at_ms)",
)

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ((1, _V1), (2, _V2))


def statements(version_sql: tuple[str, ...], dialect: str) -> list[str]:
    return [sql.format(serial=_SERIAL[dialect]) for sql in version_sql]
