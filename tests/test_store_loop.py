"""SQLite's short transactions on the event loop's thread: when another user of the file holds the
write lock they wait on aiosqlite's thread instead, and nothing is lost or done twice; what they
write is on disk; the WAL they fill is checkpointed. Another worker's short transaction (its
writer lock) is waited for without stopping the loop, also when that worker dies or the
waiting request is given up. Real SQLite files; two `SqliteDatabase`s on
one file stand for two workers."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.messages import Message, Status
from bot.reminders import store_sqlite
from bot.reminders.store import SqlReminderStore
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


def _hold_writer_lock(path: Path) -> int:
    """Another process's short transaction, as the writer lock sees it: the lock file opened
    anew (flock locks belong to an open file) and locked."""
    fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _another_worker_can_lock(path: Path) -> bool:
    """Whether another worker's next short transaction would get the writer lock now."""
    probe = os.open(f"{path}-writer", os.O_RDWR)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(probe)  # let go of it again, if taken
    return True


async def _worker(path: Path, engine: Engine) -> tuple[SqlReminderStore, Service]:
    """One worker on the file at `path`: its store and the service answering through it."""
    store = await open_sqlite_store(path)
    return store, _service(engine, SharedState(database=store.database, limit=5, window=60))


async def test_a_message_waits_for_another_workers_short_transaction_without_stopping_the_loop(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "bot.sqlite3"
    store, service = await _worker(path, engine)
    fd = _hold_writer_lock(path)
    handled = asyncio.create_task(service.handle(_asked("U1")))
    ticks = 0
    for _ in range(20):  # well past the time the loop tries again before a thread waits
        await asyncio.sleep(0.005)
        ticks += 1
    assert ticks == 20 and not handled.done()  # the loop went on; the message waits
    os.close(fd)  # the other worker commits
    reply = await asyncio.wait_for(handled, 10)
    assert reply.status is Status.ANSWER
    await store.close()
    assert _count(path, "SELECT COUNT(*) FROM rate_events") == 1


async def test_a_worker_that_dies_in_its_transaction_does_not_hold_up_the_others(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "bot.sqlite3"
    store, service = await _worker(path, engine)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(path) + '-writer'!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(600)\n",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
    handled = asyncio.create_task(service.handle(_asked("U1")))
    await asyncio.sleep(0.1)
    assert not handled.done()
    holder.kill()  # the process dies with the lock: the kernel lets it go
    await holder.wait()
    assert (await asyncio.wait_for(handled, 10)).status is Status.ANSWER
    await store.close()


async def test_a_message_given_up_while_waiting_leaves_the_lock_free(
    tmp_path: Path, engine: Engine
) -> None:
    """A request cancelled while its transaction waits (the client went away) must not keep the
    lock that the waiting thread takes afterwards: the other workers get it."""
    path = tmp_path / "bot.sqlite3"
    store, service = await _worker(path, engine)
    fd = _hold_writer_lock(path)
    given_up = asyncio.create_task(service.handle(_asked("U1")))
    await asyncio.sleep(0.05)  # waiting in the thread by now
    given_up.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await given_up
    os.close(fd)
    await asyncio.sleep(0.1)  # the waiting thread has the lock by now
    for _ in range(100):
        if _another_worker_can_lock(path):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the given-up message's thread kept the writer lock")
    reply = await asyncio.wait_for(service.handle(_asked("U2")), 10)
    assert reply.status is Status.ANSWER
    await store.close()


async def test_a_transaction_after_a_given_up_one_holds_the_lock_until_it_ends(
    tmp_path: Path,
) -> None:
    """The wait that a given-up transaction left is taken over by the next one, whose lock must
    not be let go under it when that wait ends."""
    path = tmp_path / "bot.sqlite3"
    store = await open_sqlite_store(path)
    database = store.database
    fd = _hold_writer_lock(path)

    async def write(n: int) -> bool:
        """Whether another worker could take the writer lock while this transaction ran."""
        async with database.transaction(short=True) as conn:
            await conn.execute("INSERT INTO rate_events (user_key, at_ms) VALUES ($1, 1)", f"u{n}")
            await asyncio.sleep(0.05)  # the moment the given-up wait ends and is looked at
            return _another_worker_can_lock(path)

    given_up = asyncio.create_task(write(1))
    await asyncio.sleep(0.05)  # waiting in the thread by now
    given_up.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await given_up
    second = asyncio.create_task(write(2))
    await asyncio.sleep(0.05)
    os.close(fd)
    assert await asyncio.wait_for(second, 10) is False  # no other worker got in
    await store.close()
    assert _count(path, "SELECT COUNT(*) FROM rate_events") == 1


async def test_a_writer_lock_never_let_go_only_delays_messages(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stuck while holding the writer lock (stopped, its loop blocked) but not SQLite's:
    after the wait, messages wait on SQLite's lock instead, and are answered."""
    monkeypatch.setattr(store_sqlite, "WRITER_WAIT_SECONDS", 0.2)
    path = tmp_path / "bot.sqlite3"
    store, service = await _worker(path, engine)
    fd = _hold_writer_lock(path)
    replies = await asyncio.wait_for(
        asyncio.gather(*(service.handle(_asked(f"U{n}")) for n in range(3))), 10
    )
    assert all(r.status is Status.ANSWER for r in replies)
    await store.close()
    os.close(fd)


async def test_a_transaction_on_the_thread_takes_its_turn_at_the_writer_lock(
    tmp_path: Path,
) -> None:
    """Reminder claims, the journal and purges run on aiosqlite's thread. They queue for the
    writer lock like a message does, and hold it to their end: otherwise a stream of other
    workers' short transactions, handing the lock on to each other, keeps SQLite's lock taken
    whenever the thread's busy handler looks, and a reminder waits seconds for its turn."""
    path = tmp_path / "bot.sqlite3"
    store = await open_sqlite_store(path)
    fd = _hold_writer_lock(path)  # another worker's short transaction

    async def batch() -> bool:
        """Whether another worker could take the writer lock while this batch ran."""
        async with store.database.transaction() as conn:
            await conn.execute("INSERT INTO rate_events (user_key, at_ms) VALUES ('u1', 1)")
            await asyncio.sleep(0.05)  # statements of a batch are round trips: others run
            await conn.execute("INSERT INTO rate_events (user_key, at_ms) VALUES ('u2', 1)")
            return _another_worker_can_lock(path)

    running = asyncio.create_task(batch())
    await asyncio.sleep(0.1)
    assert not running.done()  # its turn comes after the other worker's transaction
    assert _count(path, "SELECT COUNT(*) FROM rate_events") == 0
    os.close(fd)
    assert await asyncio.wait_for(running, 10) is False  # no other worker got in meanwhile
    assert _another_worker_can_lock(path)  # and let go at its end
    await store.close()
    assert _count(path, "SELECT COUNT(*) FROM rate_events") == 2
