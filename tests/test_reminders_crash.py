"""Worker processes: SIGKILL mid-delivery then restart; two replicas on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.reminders.model import NewReminder, Owner, Recurrence, Schedule
from bot.reminders.store import SqlReminderStore
from tests.reminder_worker import FakeEndpoint, StoreFactory, wait_until

ROOT = Path(__file__).resolve().parent.parent
OWNER = Owner("test", "U1")


async def add_due(store: SqlReminderStore, count: int) -> None:
    now = datetime.now(UTC)
    schedule = Schedule(Recurrence("weekly", 0), datetime(2025, 9, 1, 8, 0), "Europe/Stockholm")
    for n in range(count):
        new = NewReminder(OWNER, f"a{n}", f"T{n}", "sv", schedule, None)
        await store.add(new, first=now - timedelta(hours=1, seconds=n), now=now)


async def worker(
    factory: StoreFactory, endpoint: FakeEndpoint, name: str, *extra: str
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.reminder_worker",
        *factory.worker_args(),
        "--endpoint",
        endpoint.url,
        "--name",
        name,
        *extra,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return process


async def sent_count(store: SqlReminderStore) -> int:
    async with store._db.transaction() as conn:
        rows = await conn.fetch("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'sent'")
    return int(rows[0]["n"])


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    async with StoreFactory(request.param, tmp_path) as f:
        yield f


@pytest.mark.slow
async def test_sigkill_while_reminders_are_due_then_restart_delivers_each_exactly_once(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    await add_due(store, 200)
    endpoint = FakeEndpoint(stall_after=60)  # the platform stops answering after 60
    await endpoint.start()
    first = await worker(
        factory,
        endpoint,
        "first",
        "--lease",
        "2",
        "--send-timeout",
        "0.5",
        "--batch",
        "10",
        "--concurrency",
        "5",
    )
    await wait_until(lambda: len(endpoint.delivered) >= 60)
    await wait_until(lambda: sent_count(store))
    await wait_until(lambda: _equal(sent_count(store), len(endpoint.delivered)))
    first.send_signal(signal.SIGKILL)  # mid-delivery: requests are in flight, claims are leased
    assert await asyncio.wait_for(first.wait(), 30) == -signal.SIGKILL
    endpoint.release()
    second = await worker(factory, endpoint, "second", "--lease", "2", "--send-timeout", "0.5")
    try:
        await wait_until(lambda: _equal(sent_count(store), 200), timeout=60)
    finally:
        await stop(second)
        await endpoint.stop()
    counts = Counter((rid, occ) for rid, occ, _ in endpoint.delivered)
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert all("Skickas sent" in b["paragraphs"][1] for b in endpoint.bodies)  # type: ignore[index]


@pytest.mark.postgres
@pytest.mark.slow
async def test_two_replicas_on_postgres_deliver_1000_due_reminders_exactly_once(
    tmp_path: Path,
) -> None:
    async with StoreFactory("postgres", tmp_path) as factory:
        store = await factory.open()
        await add_due(store, 1000)
        endpoint = FakeEndpoint()
        await endpoint.start()
        replicas = [await worker(factory, endpoint, name) for name in ("r1", "r2")]
        try:
            await wait_until(lambda: _equal(sent_count(store), 1000), timeout=120)
        finally:
            for process in replicas:
                await stop(process)
            await endpoint.stop()
        counts = Counter((rid, occ) for rid, occ, _ in endpoint.delivered)
        assert len(counts) == 1000 and set(counts.values()) == {1}
        async with store._db.transaction() as conn:
            rows = await conn.fetch(
                "SELECT split_part(lease_token, ':', 1) AS replica, COUNT(*) AS n FROM deliveries"
                " WHERE state = 'sent' GROUP BY 1"
            )
        assert {r["replica"] for r in rows} == {"r1", "r2"}  # both did work


async def _equal(count: object, expected: int) -> bool:
    return await count == expected  # type: ignore[misc]
