"""SQLite's short transactions on the event loop's thread: when another user of the file holds the
write lock they wait on aiosqlite's thread instead, and nothing is lost or done twice; what they
write is on disk; the WAL they fill is checkpointed. Real SQLite files; two `SqliteDatabase`s on
one file stand for two workers."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.answering.engine import Engine
from bot.messages import Message, Status
from bot.reminders import store_sqlite
from bot.reminders.store_sqlite import SqliteDatabase, open_sqlite_store
from bot.safety import Guard
from bot.service import Service
from bot.sharedstate import SharedState
from bot.state import CONTEXT, key_of

QUESTION = "Vilken utbildning behöver en ST-handledare?"


def _service(engine: Engine, shared: SharedState) -> Service:
    return Service(engine=engine, guard=Guard(limiter=shared.limiter), state=shared.state)


def _asked(user: str) -> Message:
    return Message(text=QUESTION, user_id=user, conversation_id=f"C-{user}", platform="slack")


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_messages_wait_while_another_worker_holds_the_write_lock_and_none_is_lost(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "bot.sqlite3"
    other = await open_sqlite_store(path)  # the worker holding the lock
    stores = [await open_sqlite_store(path) for _ in range(2)]
    services = [_service(engine, SharedState(database=s.database, limit=5, window=60))
                for s in stores]  # fmt: skip
    users = [f"U{n}" for n in range(20)]
    async with other.database.transaction() as conn:
        await conn.execute(
            "INSERT INTO marks (kind, mark_key, token, done, lease_until_ms, expires_ms)"
            " VALUES ('slack:event', 'Ev1', 't', 1, 0, 9999999999999)"
        )
        handled = [asyncio.create_task(services[n % 2].handle(_asked(u)))
                   for n, u in enumerate(users)]  # fmt: skip
        for _ in range(5):
            await asyncio.sleep(0)
        assert not any(task.done() for task in handled)  # the lock is the other worker's
        assert await conn.fetch("SELECT COUNT(*) AS n FROM rate_events") == [{"n": 0}]
    replies = await asyncio.wait_for(asyncio.gather(*handled), 30)
    assert all(r.status is Status.ANSWER for r in replies)
    for store in (other, *stores):
        await store.close()
    assert _count(path, "SELECT COUNT(*) FROM marks") == 1
    assert _count(path, "SELECT COUNT(*) FROM rate_events") == len(users)  # each counted once
    assert _count(path, "SELECT COUNT(*) FROM conversation_state WHERE name = 'context'") == len(
        users
    )


async def test_a_worker_refuses_what_the_others_counted_while_one_holds_the_lock(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "bot.sqlite3"
    holder, a, b = [await open_sqlite_store(path) for _ in range(3)]
    one, two = (_service(engine, SharedState(database=s.database, limit=3, window=60))
                for s in (a, b))  # fmt: skip
    async with holder.database.transaction() as conn:
        await conn.execute("DELETE FROM rate_events")
        handled = [asyncio.create_task(s.handle(_asked("U1"))) for s in (one, two, one, two, one)]
        await asyncio.sleep(0)
    replies = await asyncio.wait_for(asyncio.gather(*handled), 30)
    assert [r.kind for r in replies].count("rate_limited") == 2  # 3 admitted of 5
    for store in (holder, a, b):
        await store.close()


async def test_state_written_on_the_loop_is_in_the_file_after_a_restart(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await open_sqlite_store(path)
    shared = SharedState(database=store.database, limit=5, window=60)
    reply = await _service(engine, shared).handle(_asked("U1"))
    assert reply.status is Status.ANSWER and reply.context is not None
    await store.close()

    assert _count(path, "SELECT COUNT(*) FROM conversation_state") == 1  # another program reads it
    store = await open_sqlite_store(path)
    shared = SharedState(database=store.database, limit=5, window=60)
    assert await shared.state.get(key_of("slack", "U1", "C-U1"), CONTEXT) == reply.context
    await store.close()


async def test_the_wal_of_transactions_on_the_loop_is_checkpointed(tmp_path: Path) -> None:
    """The loop never checkpoints; every CHECKPOINT_EVERY short transactions the thread does, so
    the WAL file stops growing (it is written again from its start)."""
    path = tmp_path / "bot.sqlite3"
    store = await open_sqlite_store(path)
    shared = SharedState(database=store.database, limit=5, window=60)
    wal = Path(f"{path}-wal")
    every = store_sqlite.CHECKPOINT_EVERY
    for n in range(every + 10):
        await shared.state.put(f"k{n}", CONTEXT, {"role": "st"}, ttl=60)
    first = wal.stat().st_size
    for n in range(5 * every):
        await shared.state.put(f"k{n}", CONTEXT, {"role": "at"}, ttl=60)
    assert wal.stat().st_size < 2 * first  # without checkpoints: about 6 times
    await store.close()


async def test_without_wal_every_transaction_runs_on_the_thread(tmp_path: Path) -> None:
    """A file that cannot be in WAL mode (here: in memory) has no loop connection, and works."""
    database = await SqliteDatabase.open(Path(":memory:"))
    async with database.transaction(short=True) as conn:
        await conn.execute("CREATE TABLE t (n INTEGER)")
        await conn.execute("INSERT INTO t VALUES ($1)", 7)
    async with database.transaction(short=True) as conn:
        assert await conn.fetch("SELECT n FROM t") == [{"n": 7}]
    await database.close()
