"""State shared through the database: conversation slots, marks, rate limits, and migrations that
replicas may run at the same moment. Real SQLite files and the real PostgreSQL server (a fresh
schema each); two stores on one database stand for two replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from bot.answering.engine import Engine
from bot.messages import Message, Status
from bot.reminders.clock import SystemClock
from bot.reminders.store_postgres import open_postgres_store
from bot.reminders.store_sqlite import open_sqlite_store
from bot.safety import Guard
from bot.service import Service
from bot.settings import load_settings
from bot.sharedstate import SharedState
from bot.state import AWAITING, CONTEXT, PROFILE
from bot.unanswered import open_feedback_store
from tests.reminder_worker import PG_URL, StoreFactory

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
async def replica(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Callable[..., object]]:
    """`await replica()` opens one more "replica" (its own connection) on the same database."""
    async with StoreFactory(request.param, tmp_path) as factory:

        async def open_one(limit: int = 3, window: float = 60.0) -> SharedState:
            store = await factory.open()
            return SharedState(database=store.database, limit=limit, window=window, clock=clock)

        yield open_one


async def test_a_slot_written_by_one_replica_is_read_by_another_until_it_expires(
    replica: Callable[..., object], clock: Clock
) -> None:
    a: SharedState = await replica()  # type: ignore[misc]
    b: SharedState = await replica()  # type: ignore[misc]
    value = {"kind": "clarify", "lang": "sv", "question": "Vilken kurs?",
             "options": [{"label": "Handledare för ST-läkare", "value": "role-st"}]}  # fmt: skip
    await a.state.put("slack:T:U:C", AWAITING, value, ttl=60)
    assert await b.state.get("slack:T:U:C", AWAITING) == value
    assert await b.state.get("slack:T:U:C", CONTEXT) is None
    assert await b.state.get("slack:T:U:OTHER", AWAITING) is None
    await b.state.put("slack:T:U:C", AWAITING, {"kind": "reminder_confirm"}, ttl=60)
    assert await a.state.get("slack:T:U:C", AWAITING) == {"kind": "reminder_confirm"}
    clock.now += 61
    assert await a.state.get("slack:T:U:C", AWAITING) is None  # expired
    await a.state.put("k", CONTEXT, {"role": "st"}, ttl=10)
    await b.state.delete("k", CONTEXT)
    assert await a.state.get("k", CONTEXT) is None
    await b.state.delete("k", CONTEXT)  # absent: no error


async def test_clean_up_deletes_expired_rows_only(
    replica: Callable[..., object], clock: Clock
) -> None:
    shared: SharedState = await replica(limit=5, window=60.0)  # type: ignore[misc]
    await shared.state.put("old", CONTEXT, {"role": "st"}, ttl=10)
    await shared.state.put("new", CONTEXT, {"role": "at"}, ttl=1000)
    assert await shared.limiter.admit("slack:U1") is None
    token = await shared.marks.take("slack:event", "Ev1", lease=30)
    assert token is not None
    assert await shared.purge() == 0
    clock.now += 100
    assert await shared.purge() == 2  # the expired slot and the rate-limit event
    assert await shared.state.get("new", CONTEXT) == {"role": "at"}
    clock.now += 8 * 24 * 3600
    assert await shared.purge() == 2  # the slot and the mark
    assert await shared.marks.take("slack:event", "Ev1", lease=30) is not None


async def test_a_mark_is_taken_by_one_replica_only_and_again_only_when_its_lease_lapsed(
    replica: Callable[..., object], clock: Clock
) -> None:
    a: SharedState = await replica()  # type: ignore[misc]
    b: SharedState = await replica()  # type: ignore[misc]
    keys = [f"Ev{n}" for n in range(40)]
    taken = await asyncio.gather(
        *(s.marks.take("slack:event", k, lease=30) for k in keys for s in (a, b))
    )
    assert sum(t is not None for t in taken) == len(keys)  # each event: exactly one replica
    done_token = next(t for t in taken[:2] if t is not None)
    await a.marks.done("slack:event", "Ev0", done_token)
    assert await b.marks.take("slack:event", "Ev1", lease=30) is None  # still being handled
    clock.now += 31
    assert await b.marks.take("slack:event", "Ev0", lease=30) is None  # handled: never again
    assert await b.marks.take("slack:event", "Ev1", lease=30) is not None  # its replica died


async def test_the_rate_limit_counts_messages_on_every_replica(
    replica: Callable[..., object], clock: Clock
) -> None:
    a: SharedState = await replica(limit=3, window=60.0)  # type: ignore[misc]
    b: SharedState = await replica(limit=3, window=60.0)  # type: ignore[misc]
    results = await asyncio.gather(*(s.limiter.admit("slack:U1") for s in (a, b, a, b, a)))
    assert sum(r is None for r in results) == 3
    assert await b.limiter.admit("slack:U2") is None  # another user is not affected
    wait = await a.limiter.admit("slack:U1")
    assert wait is not None and 0 < wait <= 60
    clock.now += 61
    assert await b.limiter.admit("slack:U1") is None


async def test_after_the_limit_is_lowered_the_wait_given_is_the_whole_wait(
    replica: Callable[..., object], clock: Clock
) -> None:
    """Five messages counted under a limit of 5; restarted with a limit of 2, the user may send
    again only when the 2nd newest leaves the window, not when the oldest does."""
    before: SharedState = await replica(limit=5, window=60.0)  # type: ignore[misc]
    for _ in range(5):
        assert await before.limiter.admit("slack:U1") is None
        clock.now += 10  # sent at 0, 10, 20, 30, 40 s
    after: SharedState = await replica(limit=2, window=60.0)  # type: ignore[misc]
    wait = await after.limiter.admit("slack:U1")  # at 50 s; the 2nd newest (30 s) leaves at 90 s
    assert wait == pytest.approx(40.0)
    clock.now += 39
    assert await after.limiter.admit("slack:U1") is not None
    clock.now += 1.5
    assert await after.limiter.admit("slack:U1") is None


async def test_a_clarification_asked_by_one_service_is_answered_by_another(
    replica: Callable[..., object], engine: Engine
) -> None:
    a: SharedState = await replica()  # type: ignore[misc]
    b: SharedState = await replica()  # type: ignore[misc]
    one, two = Service(engine=engine, state=a.state), Service(engine=engine, state=b.state)

    def said(text: str) -> Message:
        return Message(text=text, user_id="U1", conversation_id="D1", platform="slack")

    asked = await one.handle(said("Vilken handledarutbildning ska jag gå?"))
    assert asked.status is Status.CLARIFY and len(asked.options) >= 3
    expected = engine.answer_option(asked.options[2].value, asked.lang)
    answered = await two.handle(said("3"))
    assert answered.status is Status.ANSWER
    assert answered.paragraphs == expected.paragraphs
    again = await one.handle(said("3"))  # the question was answered: "3" is no option now
    assert again.paragraphs != expected.paragraphs


async def test_the_rate_limit_checked_with_the_turns_read_counts_and_refuses_on_every_replica(
    replica: Callable[..., object], engine: Engine, clock: Clock
) -> None:
    a: SharedState = await replica(limit=2, window=60.0)  # type: ignore[misc]
    b: SharedState = await replica(limit=2, window=60.0)  # type: ignore[misc]
    one, two = (Service(engine=engine, guard=Guard(limiter=s.limiter), state=s.state)
                for s in (a, b))  # fmt: skip

    def said(text: str) -> Message:
        return Message(text=text, user_id="U1", conversation_id="D1", platform="slack")

    asked = await one.handle(said("Vilken handledarutbildning ska jag gå?"))
    assert asked.status is Status.CLARIFY
    answered = await two.handle(said("3"))  # the open question, read with the rate check
    expected = engine.answer_option(asked.options[2].value, asked.lang)
    assert answered.paragraphs == expected.paragraphs
    refused = await one.handle(said("Vilken handledarutbildning ska jag gå?"))
    assert refused.kind == "rate_limited"
    assert await a.state.get("slack:U1:D1", AWAITING) is None  # the refused message left nothing
    clock.now += 61
    again = await two.handle(said("Vilken handledarutbildning ska jag gå?"))
    assert again.status is Status.CLARIFY
    assert await b.limiter.admit("slack:U1") is None  # outside a turn: a transaction of its own
    assert await a.limiter.admit("slack:U1") is not None


async def test_an_open_clarification_survives_a_restart(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await open_sqlite_store(path)
    shared = SharedState(database=store.database, limit=20, window=60)
    message = Message(text="jag handleder studenter", user_id="U", conversation_id="C",
                      platform="teams")  # fmt: skip
    asked = await Service(engine=engine, state=shared.state).handle(message)
    assert asked.status is Status.CLARIFY
    await store.close()

    store = await open_sqlite_store(path)
    shared = SharedState(database=store.database, limit=20, window=60)
    university = next(n for n, o in enumerate(asked.options, start=1)
                      if "universitet" in o.label.lower())  # fmt: skip
    answer = await Service(engine=engine, state=shared.state).handle(
        Message(text=str(university), user_id="U", conversation_id="C", platform="teams")
    )
    await store.close()
    assert answer.status is Status.ANSWER
    assert any("Stepping stone" in p for p in answer.paragraphs)


@pytest.mark.postgres
@pytest.mark.parametrize("round_", [1, 2, 3])
async def test_replicas_starting_together_on_a_new_database_all_start(round_: int) -> None:
    """Each replica migrates at start; on a new database they race to create the tables."""
    schema = f"start_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f"CREATE SCHEMA {schema}")
    settings = load_settings(env_file=None).model_copy(update={"database_url": PG_URL})
    try:
        stores = await asyncio.gather(
            *(open_postgres_store(PG_URL, schema=schema) for _ in range(4)),
            *(open_feedback_store(settings, clock=SystemClock(), schema=schema) for _ in range(4)),
        )
        for store in stores:
            await store.close()
        versions = await conn.fetch(f"SELECT version FROM {schema}.schema_version ORDER BY 1")
        assert [r["version"] for r in versions] == [1, 2]
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_the_cleanup_task_deletes_expired_rows_until_stopped(
    replica: Callable[..., object], clock: Clock
) -> None:
    shared: SharedState = await replica()  # type: ignore[misc]
    await shared.state.put("old", CONTEXT, {"role": "st"}, ttl=1)
    assert await _rows(shared) == 1
    clock.now += 2
    stop = asyncio.Event()
    task = asyncio.create_task(shared.cleanup(stop, every=0.05))
    for _ in range(100):
        if await _rows(shared) == 0:
            break
        await asyncio.sleep(0.05)
    assert await _rows(shared) == 0
    stop.set()
    await asyncio.wait_for(task, 5)


async def _rows(shared: SharedState) -> int:
    async with shared.state._db.transaction() as conn:
        rows = await conn.fetch("SELECT COUNT(*) AS n FROM conversation_state")
    return int(rows[0]["n"])


async def test_reminder_commands_get_the_shared_state_when_they_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.reminders as reminders
    from bot.reminders.commands import ReminderCommands

    given: list[object] = []

    class TakesState(ReminderCommands):
        def __init__(self, *, state: object, **kwargs: object) -> None:
            given.append(state)
            super().__init__(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reminders, "ReminderCommands", TakesState)
    store = await open_sqlite_store(tmp_path / "r.sqlite3")
    shared = SharedState(database=store.database, limit=20, window=60)
    settings = load_settings(env_file=None)
    built = await reminders.build(settings, topics=(), sources={}, senders={}, store=store,
                                  state=shared.state)  # fmt: skip
    assert given == [shared.state]
    await built.aclose()


@pytest.mark.parametrize("short", [False, True])
async def test_a_transaction_that_fails_leaves_nothing_behind_and_the_next_one_works(
    replica: Callable[..., object], short: bool
) -> None:
    a: SharedState = await replica()  # type: ignore[misc]
    b: SharedState = await replica()  # type: ignore[misc]
    database = a.state._db
    insert = (
        "INSERT INTO conversation_state (state_key, name, value, expires_ms)"
        " VALUES ($1, $2, '{}', 9999999999999)"
    )
    with pytest.raises(ZeroDivisionError):
        async with database.transaction(short=short) as conn:
            await conn.execute(insert, "k", "first")
            1 / 0  # noqa: B018
    with pytest.raises(Exception, match=r"(?i)unique|constraint"):
        async with database.transaction(short=short) as conn:
            await conn.execute(insert, "k", "second")
            await conn.execute(insert, "k", "second")  # the same key again: refused
    async with database.transaction(short=short) as conn:
        await conn.execute(insert, "k", "third")
        assert [r["name"] for r in await conn.fetch("SELECT name FROM conversation_state")] == [
            "third"
        ]
    assert await b.state.get("k", "third") == {}
    assert await b.state.get("k", "first") is None and await b.state.get("k", "second") is None


async def test_a_turn_reads_its_keys_once_and_writes_what_changed_when_it_ends(
    replica: Callable[..., object],
) -> None:
    a: SharedState = await replica()  # type: ignore[misc]
    b: SharedState = await replica()  # type: ignore[misc]
    await b.state.put("conv", AWAITING, {"kind": "clarify"}, ttl=60)
    await b.state.put("conv", CONTEXT, {"role": "st"}, ttl=60)
    with pytest.raises(RuntimeError):
        async with a.state.turn(["conv", "user"]):
            assert await a.state.get("conv", AWAITING) == {"kind": "clarify"}
            await b.state.put("conv", CONTEXT, {"role": "changed meanwhile"}, ttl=60)
            assert await a.state.get("conv", CONTEXT) == {"role": "st"}  # as first read
            await a.state.delete("conv", AWAITING)
            await a.state.put("user", PROFILE, {"region": "skane"}, ttl=60)
            await a.state.put("elsewhere", CONTEXT, {"role": "at"}, ttl=60)  # not a turn key
            assert await a.state.get("conv", AWAITING) is None  # the turn sees its own writes
            assert await a.state.get("user", PROFILE) == {"region": "skane"}
            assert await b.state.get("conv", AWAITING) == {"kind": "clarify"}  # not yet written
            assert await b.state.get("user", PROFILE) is None
            assert await b.state.get("elsewhere", CONTEXT) == {"role": "at"}  # written at once
            raise RuntimeError("the message failed after changing state")
    assert await b.state.get("conv", AWAITING) is None  # written when the turn ended
    assert await b.state.get("user", PROFILE) == {"region": "skane"}
    assert await b.state.get("conv", CONTEXT) == {"role": "changed meanwhile"}  # not touched
