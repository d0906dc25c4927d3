"""The scheduler in-process: a controllable clock, real stores, a local fake HTTP endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.messages import Message, Reply
from bot.reminders.clock import FakeClock, SystemClock
from bot.reminders.commands import ReminderCommands
from bot.reminders.model import NewReminder, Owner, Recurrence, Schedule
from bot.reminders.render import meeting_text
from bot.reminders.scheduler import Scheduler, SchedulerConfig
from bot.reminders.store import SqlReminderStore
from tests.reminder_worker import KNOWLEDGE, FakeEndpoint, HttpSender, StoreFactory, wait_until

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
OWNER = Owner("test", "U1")
FAST = SchedulerConfig(
    batch=50, concurrency=10, lease=timedelta(seconds=30), send_timeout=2.0, poll_interval=0.02
)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, address: str, reply: Reply) -> None:
        self.sent.append((address, reply))


@pytest.fixture(params=BACKENDS)
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    async with StoreFactory(request.param, tmp_path) as f:
        yield f


def weekly(
    start: datetime, weekday: int = 1, st_start: date | None = None, address: str = "addr"
) -> NewReminder:
    return NewReminder(
        OWNER,
        address,
        "Anna",
        "sv",
        Schedule(Recurrence("weekly", weekday), start, "Europe/Stockholm"),
        st_start,
    )


async def test_due_reminder_delivered_once_with_topics_then_the_next_meeting(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    clock = FakeClock(datetime(2025, 9, 2, 11, 59, tzinfo=UTC))
    first = datetime(2025, 9, 2, 12, 0, tzinfo=UTC)  # 14:00 in Stockholm
    await store.add(
        weekly(datetime(2025, 9, 2, 14, 0), st_start=date(2025, 6, 2)), first=first, now=clock.now()
    )
    recorder = Recorder()
    scheduler = Scheduler(
        store=store, senders={"test": recorder}, clock=clock, knowledge=KNOWLEDGE, config=FAST
    )
    assert await scheduler.run_once() == 0
    clock.advance(timedelta(minutes=1))
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    [(address, reply)] = recorder.sent
    text = "\n".join(reply.paragraphs)
    assert address == "addr" and reply.kind == "reminder"
    assert "tisdag 2 september 2025 kl. 14:00" in text and "sent" not in text
    assert "Fallbaserad diskussion — var 3:e månad" in text  # 3 months after ST start 2 June
    assert "Källa: Verktygslåda för ST-handledare (Region Skåne)" in text
    assert [o.value.split(":")[1] for o in reply.options] == ["snooze", "snooze", "skip"]
    clock.advance(timedelta(days=7))
    assert await scheduler.run_once() == 1
    assert "tisdag 9 september 2025" in recorder.sent[1][1].paragraphs[0]
    assert "Fallbaserad" not in "\n".join(recorder.sent[1][1].paragraphs)


async def test_reminders_sharing_a_meeting_each_get_their_own_text(
    factory: StoreFactory,
) -> None:
    """One scheduler renders a meeting's topics once per plan and language; every reminder still
    gets its own label, language and topics, the same text the chat shows for that meeting."""
    store = await factory.open()
    clock = FakeClock(datetime(2025, 9, 2, 12, 0, tzinfo=UTC))
    schedule = Schedule(Recurrence("weekly", 1), datetime(2025, 9, 2, 14, 0), "Europe/Stockholm")
    plans = [  # (label, language, ST start): the first and third share a plan, not a language
        ("Anna", "sv", date(2025, 6, 2)),
        ("Bo", "sv", None),
        ("Cecilia", "en", date(2025, 6, 2)),
        ("Dan", "sv", date(2025, 6, 2)),
    ]
    for label, lang, st_start in plans:
        new = NewReminder(OWNER, f"to {label}", label, lang, schedule, st_start)  # type: ignore[arg-type]
        await store.add(new, first=clock.now(), now=clock.now())
    recorder = Recorder()
    scheduler = Scheduler(
        store=store, senders={"test": recorder}, clock=clock, knowledge=KNOWLEDGE, config=FAST
    )
    reminders = {r.address: r for r in await store.mine(OWNER)}
    first = clock.now()  # three months after the ST start of 2 June: a case-based discussion
    for meeting in (first, first + timedelta(days=7)):
        clock.set(meeting)
        recorder.sent.clear()
        assert await scheduler.run_once() == len(plans)
        if meeting == first:
            texts = {address: reply.paragraphs[-1] for address, reply in recorder.sent}
            assert "Fallbaserad diskussion" in texts["to Anna"] and "Case-based" in texts["to Cecilia"]
            assert "Fallbaserad diskussion" not in texts["to Bo"]
        for address, reply in recorder.sent:
            reminder = reminders[address]
            assert reminder.label in reply.paragraphs[0]
            assert reply.lang == reminder.lang
            assert reply.paragraphs[-1] == meeting_text(KNOWLEDGE, reminder, meeting, reminder.lang)
        assert sorted(address for address, _ in recorder.sent) == sorted(reminders)


async def test_missed_while_down_is_delivered_once_marked_late_then_resumes_future(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    start = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)  # Monday 08:00 local
    await store.add(weekly(datetime(2025, 9, 1, 8, 0), weekday=0), first=start, now=start)
    clock = FakeClock(start + timedelta(days=22))  # down for three weeks
    recorder = Recorder()
    scheduler = Scheduler(
        store=store, senders={"test": recorder}, clock=clock, knowledge=KNOWLEDGE, config=FAST
    )
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    assert "Skickas sent" in recorder.sent[0][1].paragraphs[1]
    clock.set(datetime(2025, 9, 29, 6, 0, tzinfo=UTC))
    assert await scheduler.run_once() == 1
    assert "måndag 29 september 2025" in recorder.sent[1][1].paragraphs[0]


async def test_snooze_and_skip_buttons(factory: StoreFactory) -> None:
    store = await factory.open()
    clock = FakeClock(datetime(2025, 9, 1, 6, 0, tzinfo=UTC))
    await store.add(
        weekly(datetime(2025, 9, 1, 8, 0), weekday=0), first=clock.now(), now=clock.now()
    )
    recorder = Recorder()
    scheduler = Scheduler(
        store=store, senders={"test": recorder}, clock=clock, knowledge=KNOWLEDGE, config=FAST
    )
    commands = ReminderCommands(store=store, clock=clock, knowledge=KNOWLEDGE)
    await scheduler.run_once()
    snooze, _, skip = recorder.sent[0][1].options

    def click(value: str) -> Message:
        return Message("", OWNER.user_id, "c", OWNER.platform, choice=value)

    answer = await commands.try_handle(click(snooze.value))
    assert answer is not None and "måndag 1 september 2025 kl. 09:00" in answer.paragraphs[0]
    await commands.try_handle(click(snooze.value))  # a double click snoozes once
    clock.advance(timedelta(hours=1))
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    skipped = await commands.try_handle(click(skip.value))
    assert skipped is not None and "måndag 8 september 2025" in skipped.paragraphs[0]
    clock.set(datetime(2025, 9, 8, 6, 0, tzinfo=UTC))
    assert await scheduler.run_once() == 1


async def test_permanent_failure_pauses_the_reminder_and_is_logged(
    factory: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = await factory.open()
    endpoint = FakeEndpoint(gone=frozenset({"gone"}))
    await endpoint.start()
    now = datetime.now(UTC)
    await store.add(weekly(datetime(2025, 9, 1, 8, 0), address="gone"), first=now, now=now)
    await store.add(weekly(datetime(2025, 9, 1, 8, 0), address="fine"), first=now, now=now)
    async with aiohttp.ClientSession() as session:
        sender = HttpSender(base_url=endpoint.url, session=session)
        scheduler = Scheduler(
            store=store,
            senders={"test": sender},
            clock=SystemClock(),
            knowledge=KNOWLEDGE,
            config=FAST,
        )
        assert await scheduler.run_once() == 2
    await endpoint.stop()
    statuses = {r.address: r.status for r in await store.mine(OWNER)}
    assert statuses == {"gone": "paused", "fine": "active"}
    assert "paused: HTTP 404" in caplog.text
    assert len(endpoint.delivered) == 1


async def test_429_with_retry_after_loses_nothing_and_duplicates_nothing(
    factory: StoreFactory,
) -> None:
    store = await factory.open()
    endpoint = FakeEndpoint(throttle=40, retry_after="1")
    await endpoint.start()
    now = datetime.now(UTC)
    for n in range(30):
        await store.add(
            weekly(datetime(2025, 9, 1, 8, 0), address=f"a{n}"),
            first=now - timedelta(seconds=n),
            now=now,
        )
    async with aiohttp.ClientSession() as session:
        sender = HttpSender(base_url=endpoint.url, session=session)
        scheduler = Scheduler(
            store=store,
            senders={"test": sender},
            clock=SystemClock(),
            knowledge=KNOWLEDGE,
            config=FAST,
        )
        started = asyncio.get_running_loop().time()
        scheduler.start()
        await wait_until(lambda: len(endpoint.delivered) >= 30, timeout=30)
        elapsed = asyncio.get_running_loop().time() - started
        await scheduler.stop()
    await endpoint.stop()
    assert endpoint.throttled == 40
    assert elapsed >= 1.0  # nothing was retried sooner than Retry-After: 1
    assert len(endpoint.delivered) == len(set(endpoint.delivered)) == 30
    assert {b["address"] for b in endpoint.bodies} == {f"a{n}" for n in range(30)}


class Stalling(Recorder):
    """Records at once, except sends to `stall`, which wait for `release`."""

    def __init__(self, stall: str) -> None:
        super().__init__()
        self.stall = stall
        self.release = asyncio.Event()

    async def send(self, address: str, reply: Reply) -> None:
        if address == self.stall:
            await self.release.wait()
        await super().send(address, reply)


async def test_a_slow_send_does_not_hold_back_recording_the_others_as_sent(
    factory: StoreFactory,
) -> None:
    """What was delivered is on record while one send still hangs, so a crash at that moment
    resends only the hanging one; then each is delivered exactly once."""
    store = await factory.open()
    now = datetime.now(UTC)
    for address in ("a", "b", "slow"):
        await store.add(weekly(datetime(2025, 9, 1, 8, 0), address=address), first=now, now=now)
    sender = Stalling("slow")
    config = SchedulerConfig(
        batch=10, concurrency=10, lease=timedelta(seconds=30), send_timeout=10, write_delay=0.05
    )
    scheduler = Scheduler(
        store=store,
        senders={"test": sender},
        clock=SystemClock(),
        knowledge=KNOWLEDGE,
        config=config,
    )
    delivering = asyncio.create_task(scheduler.run_once())
    await wait_until(lambda: sent_on_record(store, 2))
    assert not delivering.done() and {a for a, _ in sender.sent} == {"a", "b"}
    sender.release.set()
    assert await delivering == 3
    await wait_until(lambda: sent_on_record(store, 3))
    assert await scheduler.run_once() == 0
    assert sorted(a for a, _ in sender.sent) == ["a", "b", "slow"]


async def sent_on_record(store: SqlReminderStore, count: int) -> bool:
    async with store.database.transaction() as conn:
        rows = await conn.fetch("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'sent'")
    return int(rows[0]["n"]) == count
