"""CPU per question of the shared state's SQLite work, through `SqliteDatabase` with every
transaction on aiosqlite's thread, through `SqliteDatabase` as `serve` runs it (short transactions
on the event loop's thread when the write lock is free), and the same statements on the calling
thread, in one run.

    .venv/bin/python bench/bench_sqlite_turn.py [--questions 2000] [--runs 3]

A question's store work as `serve` does it on SQLite: one `SqlStateStore.turn` in which the
rate-limit check (`SqlRateLimiter`, read with the turn's slots) and a slot read are made and one
slot written: two transactions. The last column runs the SQL of the three transactions a
question took before the check was folded into the read (rate limit, state read, state write)
with the standard library's sqlite3 on this thread, one BEGIN IMMEDIATE ... COMMIT each.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.reminders.store_sqlite import open_sqlite_store  # noqa: E402
from bot.sharedstate import SharedState  # noqa: E402
from bot.state import CONTEXT  # noqa: E402

RATE = (
    ("DELETE FROM rate_events WHERE user_key = ? AND at_ms <= ?", 2),
    ("SELECT COUNT(*) AS n, MIN(at_ms) AS first FROM rate_events WHERE user_key = ?", 1),
    ("INSERT INTO rate_events (user_key, at_ms) VALUES (?, ?)", 2),
)
LOAD = (
    "SELECT state_key, name, value FROM conversation_state"
    " WHERE expires_ms > ? AND state_key IN (?, ?)"
)
WRITE = (
    "INSERT INTO conversation_state (state_key, name, value, expires_ms) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (state_key, name) DO UPDATE SET value = excluded.value,"
    " expires_ms = excluded.expires_ms"
)


async def through_the_store(path: Path, questions: int, *, loop: bool) -> float:
    store = await open_sqlite_store(path)
    if not loop:  # as without a loop connection (a file not in WAL mode): all on the thread
        store.database._here.close()  # type: ignore[attr-defined]
        store.database._here = None  # type: ignore[attr-defined]
    shared = SharedState(database=store.database, limit=10**9, window=60.0)

    async def one(n: int) -> None:
        async with shared.state.turn([f"conv-{n}", f"user-{n}"]):
            await shared.limiter.admit(f"user-{n}")
            await shared.state.get(f"conv-{n}", CONTEXT)
            await shared.state.put(f"conv-{n}", CONTEXT, {"role": "st"}, 60)

    for n in range(200):
        await one(n)
    begun = time.process_time()
    for n in range(200, 200 + questions):
        await one(n)
    cpu = time.process_time() - begun
    await store.close()
    return cpu / questions


def on_this_thread(path: Path, questions: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    now = int(time.time() * 1000)

    def transaction(statements: list[tuple[str, tuple[object, ...]]]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for sql, args in statements:
            conn.execute(sql, args).fetchall()
        conn.execute("COMMIT")

    begun = time.process_time()
    for n in range(10**6, 10**6 + questions):
        user = f"user-{n}"
        transaction([(RATE[0][0], (user, now - 60_000)), (RATE[1][0], (user,)),
                     (RATE[2][0], (user, now))])  # fmt: skip
        transaction([(LOAD, (now, f"conv-{n}", user))])
        transaction([(WRITE, (f"conv-{n}", "context", '{"role": "st"}', now + 60_000))])
    cpu = time.process_time() - begun
    conn.close()
    return cpu / questions


def main(questions: int, runs: int) -> None:
    print("| run | SqliteDatabase, all on aiosqlite's thread µs | SqliteDatabase, short on the loop"
          " µs | same SQL on this thread µs | thread / loop | loop / this thread |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            threaded = asyncio.run(through_the_store(Path(tmp) / "a.sqlite3", questions, loop=False))
            looped = asyncio.run(through_the_store(Path(tmp) / "b.sqlite3", questions, loop=True))
            direct = on_this_thread(Path(tmp) / "b.sqlite3", questions)
        print(f"| {run} | {threaded * 1e6:,.0f} | {looped * 1e6:,.0f} | {direct * 1e6:,.0f}"
              f" | {threaded / looped:.1f} | {looped / direct:.1f} |")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    main(args.questions, args.runs)
