"""The same store tests on a real SQLite file and on the PostgreSQL server (fresh schema each)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.reminders.model import Failed, NewReminder, Owner, Recurrence, Retry, Schedule, Sent
from bot.reminders.store import SqlReminderStore
from tests.reminder_worker import StoreFactory

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
ANNA = Owner("slack", "U-ANNA")


@pytest.fixture(params=BACKENDS)
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    async with StoreFactory(request.param, tmp_path) as f:
        yield f


def new(owner: Owner = ANNA, label: str = "Anna") -> NewReminder:
    schedule = Schedule(
        Recurrence("weekly", 1, interval=2), datetime(2025, 9, 2, 14, 0), "Europe/Stockholm"
    )
    return NewReminder(owner, '{"channel": "C1"}', label, "sv", schedule, date(2025, 9, 1))


async def test_migrations_are_versioned_and_idempotent(factory: StoreFactory) -> None:
    first = await factory.open()
    second = await factory.open()  # a second start applies nothing twice
    await first.add(new(), first=NOW, now=NOW)
    assert len(await second.mine(ANNA)) == 1


async def test_round_trip_and_ownership(factory: StoreFactory) -> None:
    store = await factory.open()
    saved = await store.add(new(), first=NOW, now=NOW)
    await store.add(new(Owner("slack", "U-ERIK"), "Bo"), first=NOW, now=NOW)
    [loaded] = await store.mine(ANNA)
    assert loaded == saved
    assert loaded.schedule.recurrence == Recurrence("weekly", 1, interval=2)
    assert loaded.address == '{"channel": "C1"}' and loaded.st_start == date(2025, 9, 1)
    assert not await store.delete(Owner("slack", "U-ERIK"), saved.id)
    assert not await store.delete(Owner("teams", "U-ANNA"), saved.id)
    assert await store.delete(ANNA, saved.id)
    assert await store.mine(ANNA) == []


async def test_claim_complete_queues_next_and_a_lease_excludes_others(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    other = await factory.open()
    reminder = await store.add(new(), first=NOW, now=NOW)
    lease = NOW + timedelta(minutes=5)
    [claim] = await store.claim("a", now=NOW, lease_until=lease, limit=10)
    assert await other.claim("b", now=NOW, lease_until=lease, limit=10) == []
    following = NOW + timedelta(days=14)
    assert await store.settle([Sent(claim, False, following)], now=NOW) == 1
    assert await store.settle([Sent(claim, False, following)], now=NOW) == 0  # never twice
    assert await store.claim("c", now=NOW + timedelta(days=13), lease_until=lease, limit=10) == []
    [again] = await store.claim(
        "c", now=following, lease_until=following + timedelta(minutes=5), limit=10
    )
    assert (again.reminder.id, again.occurrence, again.seq) == (reminder.id, following, 0)


async def test_expired_lease_is_taken_over_and_old_holder_cannot_commit(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    await store.add(new(), first=NOW, now=NOW)
    [dead] = await store.claim("dead", now=NOW, lease_until=NOW + timedelta(seconds=30), limit=5)
    later = NOW + timedelta(seconds=31)
    [taken] = await store.claim(
        "alive", now=later, lease_until=later + timedelta(seconds=30), limit=5
    )
    assert taken.job_id == dead.job_id
    assert await store.settle([Sent(dead, False, None)], now=later) == 0
    assert await store.settle([Sent(taken, False, None)], now=later) == 1


async def test_one_settle_records_a_whole_batch_and_never_twice(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    for n in range(5):
        await store.add(new(label=f"T{n}"), first=NOW - timedelta(seconds=n), now=NOW)
    lease = NOW + timedelta(minutes=5)
    claims = await store.claim("a", now=NOW, lease_until=lease, limit=10)
    assert len(claims) == 5
    week = NOW + timedelta(days=7)
    outcomes = [Sent(c, n == 0, week) for n, c in enumerate(claims[:3])]
    retry = Retry(claims[3], NOW + timedelta(minutes=1))
    assert await store.settle([*outcomes, retry, Failed(claims[4], "gone")], now=NOW) == 5
    assert await store.settle([*outcomes, retry], now=NOW) == 0  # settled once only
    assert await store.claim("b", now=NOW, lease_until=lease, limit=10) == []
    [again] = await store.claim("b", now=NOW + timedelta(minutes=1), lease_until=lease, limit=10)
    assert again.job_id == claims[3].job_id and again.attempts == 1
    assert await store.settle([Sent(again, False, None)], now=NOW) == 1
    queued = await store.claim("c", now=week, lease_until=week + timedelta(minutes=5), limit=10)
    assert len(queued) == 3  # each next meeting once (statements list 4, the last one twice)
    assert {(c.reminder.id, c.occurrence) for c in queued} == {
        (c.reminder.id, week) for c in claims[:3]
    }
    statuses = {r.id: r.status for r in await store.mine(ANNA)}
    assert [statuses[c.reminder.id] for c in claims] == ["active"] * 4 + ["paused"]


async def test_paused_reminders_are_not_claimed_and_failure_pauses(factory: StoreFactory) -> None:
    store = await factory.open()
    reminder = await store.add(new(), first=NOW, now=NOW)
    [claim] = await store.claim("a", now=NOW, lease_until=NOW + timedelta(minutes=1), limit=5)
    assert await store.settle([Failed(claim, "channel_not_found")], now=NOW) == 1
    [paused] = await store.mine(ANNA)
    assert paused.status == "paused"
    resumed = await store.save(
        ANNA,
        paused.__class__(**{**_fields(paused), "status": "active"}),
        next_occurrence=NOW + timedelta(days=14),
        now=NOW,
    )
    assert resumed
    assert await store.claim(
        "b", now=NOW + timedelta(days=14), lease_until=NOW + timedelta(days=15), limit=5
    )
    assert reminder.id == paused.id


async def test_snooze_is_owner_scoped_and_once_per_click(factory: StoreFactory) -> None:
    store: SqlReminderStore = await factory.open()
    reminder = await store.add(new(), first=NOW, now=NOW)
    due = NOW + timedelta(hours=1)
    assert not await store.snooze(Owner("slack", "U-X"), reminder.id, NOW, 1, due)
    assert await store.snooze(ANNA, reminder.id, NOW, 1, due)
    assert not await store.snooze(ANNA, reminder.id, NOW, 1, due)


def _fields(reminder: object) -> dict[str, object]:
    return {name: getattr(reminder, name) for name in reminder.__slots__}  # type: ignore[attr-defined]
