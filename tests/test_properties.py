"""Property-based tests on arbitrary Unicode: nothing raises, every reply is one of three outcomes."""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.admin import AdminCommands, Admins, parse_admin_command
from bot.answering.engine import Engine
from bot.messages import Message, Status
from bot.privacy import has_personal_number, mask
from bot.ratelimit import RateLimiter
from bot.reminders.parse import parse_request
from bot.report import group_questions
from bot.safety import Guard
from bot.service import Service, parse_rating
from bot.text import _FOLD, fold
from bot.unanswered import Unanswered
from tests.test_safety import Recorder

OUTCOMES = {Status.ANSWER, Status.CLARIFY, Status.NO_MATCH}
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORDS = st.sampled_from(
    ["handledning", "ST", "kurs", "hur", "ofta", "admin", "reload", "påminn", "mig", "varje",
     "måndag", "kl", "8", "Örebro", "å", "1", "2", "?", "-", "\u0000", "\u202e", "🙂", "ß", "İ"]
)  # fmt: skip
# Arbitrary Unicode, plus sentences built from words the bot reacts to.
TEXT = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=12).map(" ".join))
QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(st.one_of(TEXT, st.text(alphabet="åäöÅÄÖæøéèüçñßİ aAoO-", max_size=40)))
def test_folding_maps_every_character_as_the_table_says(text: str) -> None:
    """Typed with or without å/ä/ö, a word reads the same: `fold` is NFKC, lowercase, then the
    accent table character by character (`str.translate`, the slow way it was first written)."""
    expected = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    assert fold(text) == expected
    assert fold("Handledarutbildning för ST-läkare i Örebro, Skåne") == (
        "handledarutbildning for st-lakare i orebro, skane"
    )


@QUICK
@given(TEXT)
def test_engine_answers_anything_with_one_of_three_outcomes(engine: Engine, text: str) -> None:
    reply = engine.answer(text)
    assert reply.status in OUTCOMES
    assert reply.lang in ("sv", "en")
    assert reply.paragraphs or reply.question


@QUICK
@given(st.lists(st.tuples(TEXT, st.none() | TEXT), min_size=1, max_size=4))
def test_the_whole_service_never_raises(
    engine: Engine, turns: list[tuple[str, str | None]]
) -> None:
    recorder = Recorder()
    admin = AdminCommands(admins=Admins.parse("test:*"))
    guard = Guard(limiter=RateLimiter(limit=100, window=60), max_length=200)
    service = Service(engine=engine, commands=[admin, recorder], guard=guard, journal=recorder)

    async def talk() -> None:
        for text, choice in turns:
            message = Message(
                text=text, user_id="u", conversation_id="c", platform="test", choice=choice
            )
            reply = await service.handle(message)
            assert reply.status in OUTCOMES

    asyncio.run(talk())


@QUICK
@given(TEXT)
def test_reminder_request_parser_never_raises(text: str) -> None:
    request = parse_request(text, now=NOW, timezone="Europe/Stockholm")
    assert request.problems or request.recurrence is not None


@QUICK
@given(TEXT)
def test_admin_command_parser_never_raises(text: str) -> None:
    command = parse_admin_command(text)
    assert command is None or command.action in ("reload", "report", "stats", "help")
    assert parse_admin_command("admin " + text) is not None


@QUICK
@given(st.text(max_size=200))
def test_admin_list_and_rating_values_parse_anything(text: str) -> None:
    Admins.parse(text)
    rating = parse_rating(text)
    assert rating is None or (rating.entry_id and rating.lang in ("sv", "en"))


@QUICK
@given(TEXT)
def test_masked_text_never_holds_a_personal_number(text: str) -> None:
    masked = mask(text)
    assert not has_personal_number(masked)
    assert mask(masked) == masked


@QUICK
@given(st.lists(TEXT, max_size=30))
def test_every_unanswered_question_lands_in_exactly_one_group(texts: list[str]) -> None:
    questions = [Unanswered(t, "no_match", "sv", NOW) for t in texts]
    groups = group_questions(questions)
    assert sum(g.count for g in groups) == len(questions)
    assert all(g.examples for g in groups)
