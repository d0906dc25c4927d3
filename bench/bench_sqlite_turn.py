"""CPU per question of the shared state's SQLite work, through `SqliteDatabase` (aiosqlite's
thread) and the same statements on the calling thread, in one run.

    .venv/bin/python bench/bench_sqlite_turn.py [--questions 2000] [--runs 3]

A question's store work as `serve` does it on SQLite: the rate-limit check (`SqlRateLimiter`), the
conversation's state slots read and one written (`SqlStateStore.turn`). The second row runs the
same SQL with the standard library's sqlite3 on this thread, one BEGIN IMMEDIATE ... COMMIT per
transaction, as a transaction could when the write lock is free: the difference is what the
round trips to aiosqlite's thread cost.
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


async def through_the_store(path: Path, questions: int) -> float:
    store = await open_sqlite_store(path)
    shared = SharedState(database=store.database, limit=10**9, window=60.0)

    async def one(n: int) -> None:
        await shared.limiter.admit(f"user-{n}")
        async with shared.state.turn([f"conv-{n}", f"user-{n}"]):
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
    print("| run | SqliteDatabase (aiosqlite's thread) µs | same SQL on this thread µs | ratio |")
    print("|---:|---:|---:|---:|")
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.sqlite3"
            threaded = asyncio.run(through_the_store(path, questions))
            direct = on_this_thread(path, questions)
        print(f"| {run} | {threaded * 1e6:,.0f} | {direct * 1e6:,.0f} | {threaded / direct:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    main(args.questions, args.runs)
