"""Reminder delivery benchmark: N stored reminders, all due, delivered to a local fake endpoint.

    .venv/bin/python bench/bench_reminders.py [--count 100000] [--postgres URL]

Prints the delivery rate and the process's peak memory (tracemalloc peak of Python objects during
delivery, and ru_maxrss). Claims are streamed in batches, so memory depends on the batch size,
not on the number stored: run with --count 10000 and 100000 and compare the peaks.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.reminders.clock import SystemClock
from bot.reminders.model import Recurrence, Schedule, to_epoch
from bot.reminders.scheduler import Scheduler, SchedulerConfig
from bot.reminders.store import SqlReminderStore
from bot.reminders.store_postgres import open_postgres_store
from bot.reminders.store_sqlite import open_sqlite_store
from tests.reminder_worker import KNOWLEDGE, HttpSender


async def endpoint() -> tuple[web.AppRunner, str, list[int]]:
    received = [0]

    async def deliver(request: web.Request) -> web.Response:
        await request.read()
        received[0] += 1
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/deliver", deliver)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/deliver", received


async def fill(store: SqlReminderStore, count: int) -> None:
    """Bulk insert `count` due reminders (one pending delivery each) in chunks."""
    now = datetime.now(UTC)
    rule = Recurrence("weekly", 0).to_rule()
    due = to_epoch(now - timedelta(minutes=1))
    async with store._db.transaction() as conn:
        for first in range(0, count, 5000):
            for n in range(first, min(count, first + 5000)):
                rows = await conn.fetch(
                    "INSERT INTO reminders (platform, user_id, address, label, lang, rule,"
                    " start_local, timezone, created_at) VALUES ('bench', $1, $2, $3, 'sv', $4,"
                    " '2025-09-01T08:00:00', 'Europe/Stockholm', $5) RETURNING id",
                    f"u{n % 1000}",
                    f"a{n}",
                    f"T{n}",
                    rule,
                    due,
                )
                await conn.execute(
                    "INSERT INTO deliveries (reminder_id, occurrence, seq, scheduled_at, due_at)"
                    " VALUES ($1, $2, 0, $2, $2)",
                    rows[0]["id"],
                    due,
                )
    _ = Schedule


async def run(count: int, postgres: str | None, trace: bool = True) -> None:
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        import asyncpg

        conn = await asyncpg.connect(postgres)
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.close()
        store = await open_postgres_store(postgres, schema=schema)
    else:
        tmp = tempfile.mkdtemp()
        store = await open_sqlite_store(Path(tmp) / "bench.sqlite3")
    t0 = time.perf_counter()
    await fill(store, count)
    print(f"stored {count} due reminders in {time.perf_counter() - t0:.1f}s")
    runner, url, received = await endpoint()
    config = SchedulerConfig(
        batch=200, concurrency=50, send_timeout=5.0, lease=timedelta(minutes=2), poll_interval=0.05
    )
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:
        sender = HttpSender(base_url=url, session=session)
        scheduler = Scheduler(
            store=store,
            senders={"bench": sender},
            clock=SystemClock(),
            knowledge=KNOWLEDGE,
            config=config,
        )
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        while await scheduler.run_once():
            pass
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
    await runner.cleanup()
    await store.close()
    if postgres:
        conn = await asyncpg.connect(postgres)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = "postgres" if postgres else "sqlite"
    print(
        f"{backend}: delivered {received[0]} of {count} in {elapsed:.1f}s = "
        f"{received[0] / elapsed:.0f}/s; tracemalloc peak during delivery "
        f"{peak / 1e6:.1f} MB (0 = not traced); ru_maxrss {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--postgres")
    parser.add_argument("--no-trace", action="store_true", help="rate without tracemalloc's cost")
    args = parser.parse_args()
    asyncio.run(run(args.count, args.postgres, trace=not args.no_trace))


if __name__ == "__main__":
    main()
