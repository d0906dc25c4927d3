"""Question sets are tests: the shared dev set and the project's own set, with a threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.evaluation import format_report, load_questions, run
from tests.conftest import KNOWLEDGE, SHARED

MIN_SHARE = 0.95
SETS = {
    "shared dev set": SHARED / "eval" / "questions-dev.yaml",
    "project set": KNOWLEDGE / "eval" / "questions.yaml",
}


@pytest.mark.parametrize("path", SETS.values(), ids=SETS.keys())
def test_question_set_is_answered_right(engine: Engine, path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: the question set is part of the test suite")
    report = run(engine.answer, load_questions(path))
    assert not report.out_of_scope_answered, format_report(report)
    assert report.share_right >= MIN_SHARE, format_report(report)
