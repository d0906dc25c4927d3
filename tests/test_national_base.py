"""The generated national base (`bench/national.py`) loads, passes validation, and answers a
question naming a region with that region's own version of an entry (behaviour, not timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_matching import questions_with_regions
from bench.national import national_knowledge
from bot.answering.engine import Engine
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loader import load_knowledge
from bot.messages import Status
from bot.render_text import render_text
from tests.conftest import KNOWLEDGE

# Large enough that every region has a version of every entry of today and added courses.
SIZE = 35


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """Loading checks the schema and every reference (`KnowledgeError` otherwise)."""
    return load_knowledge(national_knowledge(SIZE, tmp_path_factory.mktemp("national")))


@pytest.fixture(scope="module")
def engine(knowledge: KnowledgeBase) -> Engine:
    return Engine(knowledge)


def test_one_times_is_the_real_base(tmp_path: Path) -> None:
    generated = load_knowledge(national_knowledge(1, tmp_path))
    real = load_knowledge(KNOWLEDGE)
    assert generated.entries.keys() == real.entries.keys()
    assert generated.concepts.keys() == real.concepts.keys()


def test_entries_spread_over_every_region(knowledge: KnowledgeBase) -> None:
    real = load_knowledge(KNOWLEDGE)
    assert len(knowledge.entries) == SIZE * len(real.entries)
    regions = [c for c in knowledge.concepts.values() if c.id.startswith("region_")]
    assert len(regions) == 21
    assert all(r.region in knowledge.scopes for r in regions)
    scopes = {e.scope for e in knowledge.entries.values()}
    assert {str(r.region) for r in regions} <= scopes


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    first = national_knowledge(3, tmp_path / "first")
    again = national_knowledge(3, tmp_path / "again")
    for path in sorted(first.glob("*.yaml")):
        assert (again / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_a_question_naming_a_region_gets_its_version(
    knowledge: KnowledgeBase, engine: Engine
) -> None:
    versions = [e for e in knowledge.entries.values() if e.id.startswith("course-vo-college--")]
    assert len(versions) >= 5
    for version in versions[-3:]:
        name = knowledge.scopes[version.scope].name.sv
        reply = engine.answer(f"Hur lång är Vård- och omsorgscollege handledarutbildning i {name}?")
        assert reply.status is Status.ANSWER
        assert reply.entry_id == version.id
        assert name in render_text(reply)


def test_an_added_course_answers_in_its_region(knowledge: KnowledgeBase, engine: Engine) -> None:
    added = next(e for e in knowledge.courses.values() if e.id.startswith("course-midwife-"))
    name = knowledge.scopes[added.scope].name.sv
    reply = engine.answer(f"{added.name.sv} i {name}?")
    assert reply.status is Status.ANSWER
    assert reply.entry_id == added.id


def test_pruning_other_regions_never_changes_a_reply(engine: Engine) -> None:
    """Another region's entries stand for their group by the first of them: the replies are
    those of the engine weighing every one (the shared questions, each naming a region)."""
    questions = questions_with_regions(1)[::7]
    pruned = [engine.answer(q) for q in questions]
    prunable = engine._prunable
    engine._prunable = [False] * len(prunable)
    try:
        unpruned = [engine.answer(q) for q in questions]
    finally:
        engine._prunable = prunable
    for question, one, other in zip(questions, pruned, unpruned, strict=True):
        assert one == other, question
