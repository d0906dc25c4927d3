"""How long a transaction on aiosqlite's thread (a reminder claim, the journal) waits while
other workers run a stream of short transactions (messages) on the same SQLite file.

    .venv/bin/python bench/bench_thread_wait.py [--seconds 8] [--root DIR]

Two worker processes each run 20 concurrent loops of short transactions (one INSERT each, as
a message's rate-limit check is) on a fresh file; this process runs one transaction on the
thread every 20 ms and times each from asking to its COMMIT. Prints the short transactions per
second and the thread transactions' wait (median, p90, max). `--root` measures another
checkout's `bot` (for a before/after in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

STREAMS = 20  # concurrent short-transaction loops per worker
WORKERS = 2


async def _stream(path: Path, until: float) -> int:
    from bot.reminders.store_sqlite import open_sqlite_store

    store = await open_sqlite_store(path)
    count = 0

    async def loop(k: int) -> None:
        nonlocal count
        while time.time() < until:
            async with store.database.transaction(short=True) as conn:
                await conn.execute(
                    "INSERT INTO rate_events (user_key, at_ms) VALUES ($1, 1)", f"{os.getpid()}-{k}"
                )
            count += 1
            await asyncio.sleep(0)

    await asyncio.gather(*(loop(k) for k in range(STREAMS)))
    await store.close()
    return count


def _worker(root: str, path: Path, until: float, results: multiprocessing.Queue[int]) -> None:
    sys.path.insert(0, root)
    results.put(asyncio.run(_stream(path, until)))


async def measure(root: str, path: Path, seconds: float) -> str:
    from bot.reminders.store_sqlite import open_sqlite_store

    store = await open_sqlite_store(path)
    until = time.time() + seconds + 1
    results: multiprocessing.Queue[int] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_worker, args=(root, path, until, results))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    await asyncio.sleep(1)  # the workers' streams running
    waits: list[float] = []
    while time.time() < until - 0.2:
        started = time.perf_counter()
        async with store.database.transaction() as conn:
            await conn.execute("INSERT INTO rate_events (user_key, at_ms) VALUES ('batch', 2)")
        waits.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)
    short = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    await store.close()
    waits.sort()
    return (
        f"short transactions {short / seconds:,.0f}/s; on the thread: {len(waits)}, wait median "
        f"{statistics.median(waits):.1f} ms, p90 {waits[int(len(waits) * 0.9)]:.1f} ms, "
        f"max {waits[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    with tempfile.TemporaryDirectory() as scratch:
        print(asyncio.run(measure(args.root, Path(scratch) / "bot.sqlite3", args.seconds)))


if __name__ == "__main__":
    main()
