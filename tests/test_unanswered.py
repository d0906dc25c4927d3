"""Unanswered questions: stored masked and without identity, grouped in the report, with ratings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.answering.engine import Engine
from bot.messages import Message, Status
from bot.reminders.clock import FakeClock
from bot.reminders.store_postgres import PostgresDatabase
from bot.reminders.store_sqlite import SqliteDatabase, open_sqlite_store
from bot.report import format_report, group_questions
from bot.service import Service, rating_value
from bot.unanswered import FeedbackStore, Unanswered
from tests.test_cli import handledarbot

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[FeedbackStore]:
    schema = f"fb_{uuid.uuid4().hex[:12]}"
    if request.param == "postgres":
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.close()
        database: object = await PostgresDatabase.open(PG_URL, schema=schema)
    else:
        database = await SqliteDatabase.open(tmp_path / "bot.sqlite3")
    feedback = FeedbackStore(database=database, clock=clock, retention_days=90)  # type: ignore[arg-type]
    await feedback.migrate()
    await feedback.migrate()  # a second start applies nothing twice
    yield feedback
    await feedback.close()
    if request.param == "postgres":
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


def ask(text: str, user: str = "T1:U-ANNA", choice: str | None = None) -> Message:
    return Message(
        text=text, user_id=user, conversation_id=f"c-{user}", platform="slack", choice=choice
    )


async def test_no_match_is_stored_masked_without_identity(
    engine: Engine, store: FeedbackStore
) -> None:
    service = Service(engine=engine, journal=store)
    question = (
        "Vad kostar parkeringen? Ring mig på 070-123 45 67 eller +46 8 123 456 78, "
        "mejla anna.berg@regionstockholm.se, gäller 19850101+1234"
    )
    reply = await service.handle(ask(question))
    assert reply.status is Status.NO_MATCH
    [stored] = await store.questions()
    assert stored.text == (
        "Vad kostar parkeringen? Ring mig på [telefon] eller [telefon], "
        "mejla [e-post], gäller [personnummer]"
    )
    assert stored.kind == "no_match" and stored.lang == "sv" and stored.at == NOW
    assert "U-ANNA" not in repr(stored)


async def test_the_tables_hold_no_user_identity(store: FeedbackStore) -> None:
    async with store._db.transaction() as conn:
        if store._db.dialect == "postgres":
            rows = await conn.fetch(
                "SELECT column_name AS name FROM information_schema.columns"
                " WHERE table_name = 'unanswered' AND table_schema = current_schema()"
            )
        else:
            rows = await conn.fetch("SELECT name FROM pragma_table_info('unanswered')")
    assert sorted(r["name"] for r in rows) == ["created_at", "id", "kind", "lang", "text"]


async def test_an_abandoned_clarification_is_noted_and_an_answered_one_is_not(
    engine: Engine, store: FeedbackStore
) -> None:
    service = Service(engine=engine, journal=store)
    first = await service.handle(ask("jag handleder studenter"))
    assert first.status is Status.CLARIFY
    await service.handle(ask("1"))  # answered: nothing to note
    assert await store.questions() == []
    await service.handle(ask("jag handleder studenter"))
    await service.handle(ask("Hur ofta ska ST-handledning ske?"))  # left for another question
    [abandoned] = await store.questions()
    assert (abandoned.text, abandoned.kind) == ("jag handleder studenter", "abandoned")


async def test_retention_deletes_old_questions(store: FeedbackStore, clock: FakeClock) -> None:
    await store.unanswered("gammal fråga", kind="no_match", lang="sv")
    clock.advance(timedelta(days=60))
    await store.unanswered("nyare fråga", kind="no_match", lang="sv")
    await store.rate("course-skolverket", up=True)
    clock.advance(timedelta(days=31))
    assert [q.text for q in await store.questions()] == ["nyare fråga"]
    assert len(await store.ratings()) == 1


async def test_ratings_are_counted_per_entry(engine: Engine, store: FeedbackStore) -> None:
    service = Service(engine=engine, journal=store)
    for up in (True, True, False):
        reply = await service.handle(
            ask("", choice=rating_value("course-skolverket", up=up, lang="en"))
        )
        assert reply.kind == "rating" and reply.lang == "en"
    [rating] = await store.ratings()
    assert (rating.entry_id, rating.up, rating.down) == ("course-skolverket", 2, 1)


def q(text: str, kind: str = "no_match") -> Unanswered:
    return Unanswered(text, kind, "sv", NOW)


def test_similar_questions_are_grouped_with_counts() -> None:
    questions = [
        q("Vad kostar handledarutbildningen?"),
        q("Hur mycket kostar parkeringen vid sjukhuset?"),
        q("vad kostar handledarutbildningen"),
        q("Vad kostar handledarutbildningen i Skåne?"),
        q("Hur lång är handledarutbildningen?"),
        q("Hur mycket kostar parkering vid sjukhuset", "abandoned"),
        q("Får jag lön under handledarutbildningen?"),
        q("Vad kostar handledarutbildningen?"),
    ]
    groups = group_questions(questions)
    assert [g.count for g in groups] == [4, 2, 1, 1]
    assert groups[0].examples[0] == "Vad kostar handledarutbildningen?"
    assert groups[1].abandoned == 1
    report = format_report(questions, [], days=90)
    assert "4 × Vad kostar handledarutbildningen?" in report
    assert "2 × Hur mycket kostar parkeringen vid sjukhuset?" in report
    assert "8 st i 4 grupper" in report


async def test_cli_report_reads_the_same_database(tmp_path: Path, engine: Engine) -> None:
    await (await open_sqlite_store(tmp_path / "r.db")).close()  # the reminders' tables too
    feedback = FeedbackStore(
        database=await SqliteDatabase.open(tmp_path / "r.db"), clock=FakeClock(datetime.now(UTC))
    )
    await feedback.migrate()
    service = Service(engine=engine, journal=feedback)
    for text in (
        "Vad kostar kursen? mejla mig: a@b.se",
        "vad kostar kursen",
        "Finns det parkering?",
    ):
        await service.handle(ask(text))
    await service.handle(ask("", choice=rating_value("role-st-supervisor", up=False, lang="sv")))
    await feedback.close()
    result = handledarbot("report", "unanswered", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 × Vad kostar kursen? mejla mig: [e-post]" in result.stdout
    assert "1 × Finns det parkering?" in result.stdout
    assert "role-st-supervisor: 👍 0  👎 1" in result.stdout


def test_report_names_the_closest_entry_to_turn_a_miss_into_an_example(engine: Engine) -> None:
    missed = [
        Unanswered(
            text="var finns mallarna för medsittning?", kind="no_match", lang="sv",
            at=datetime.now(UTC),
        )
    ]
    report = format_report(missed, [], days=90, nearest=engine.nearest_entry)
    assert "närmast: orebro-st-templates" in report
    assert "examples:" in report
