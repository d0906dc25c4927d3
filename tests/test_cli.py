"""The command line as a coordinator or a script uses it: ask, --json, batches, a piped chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def handledarbot(*args: str, stdin: str | None = None,
                 tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HANDLEDARBOT_SQLITE_PATH": str((tmp or Path("/nonexistent")) / "r.db")}
    return subprocess.run([sys.executable, "-m", "adapters.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, cwd=tmp or ROOT, timeout=60)


def test_ask_prints_the_answer_with_its_source() -> None:
    result = handledarbot("ask", "Hur lång är Skolverkets handledarutbildning?")
    assert result.returncode == 0, result.stderr
    assert "5–6 timmar" in result.stdout
    assert "Region Stockholm" in result.stdout


def test_ask_json_has_the_documented_fields() -> None:
    result = handledarbot("ask", "--json", "Jag handleder studenter, vilken kurs ska jag gå?")
    reply = json.loads(result.stdout)
    assert set(reply) == {"status", "lang", "text", "options", "sources"}
    assert reply["status"] == "clarify"
    assert reply["lang"] == "sv"
    assert len(reply["options"]) >= 2
    assert all(option["label"] in reply["text"] for option in reply["options"])


def test_ask_json_from_stdin_answers_one_line_per_question() -> None:
    questions = "Hur ofta ska ST-handledning ske?\nWhat's the max dose of paracetamol?\n\nhej\n"
    result = handledarbot("ask", "--json", "-", stdin=questions)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in replies] == ["answer", "no_match", "answer"]
    assert [r["lang"] for r in replies] == ["sv", "en", "sv"]
    assert "per vecka" in replies[0]["text"]
    assert replies[0]["sources"][0]["reviewed"]


def test_chat_fed_from_a_pipe_answers_a_clarification_by_number(tmp_path: Path) -> None:
    result = handledarbot("chat", stdin="jag handleder studenter\n3\n", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    question_at = result.stdout.index("?")
    assert "  3. " in result.stdout
    assert "Källa" in result.stdout[question_at:]


@pytest.mark.parametrize("command", [["kb", "validate"], ["eval", str(ROOT / "knowledge" / "eval" / "questions.yaml")]])
def test_coordinator_commands_succeed_on_the_shipped_base(command: list[str]) -> None:
    result = handledarbot(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_chat_sets_a_reminder_and_saves_the_calendar_next_to_the_user(tmp_path: Path) -> None:
    lines = ("påminn mig varje måndag kl 8 om handledning med Erik\nja\nmina påminnelser\n"
             "exportera kalender\n")
    result = handledarbot("chat", stdin=lines, tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Erik" in result.stdout and "måndag" in result.stdout
    assert (tmp_path / "r.db").exists()
    calendars = list(tmp_path.glob("*.ics"))
    assert calendars and b"BEGIN:VCALENDAR" in calendars[0].read_bytes()


def test_ask_refuses_a_question_carrying_a_personal_identity_number() -> None:
    result = handledarbot("ask", "Min patient 19121212-1212 undrar vad handledning är")
    assert result.returncode == 0, result.stderr
    assert "personnummer" in result.stdout
    assert "19121212-1212" not in result.stdout + result.stderr


def test_ask_from_stdin_starts_every_line_as_a_new_conversation() -> None:
    """A "3" on the line after a clarifying question is not taken as its answer."""
    result = handledarbot("ask", "--json", "-", stdin="jag handleder studenter\n3\n")
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in replies] == ["clarify", "no_match"]


def test_ask_from_stdin_is_not_rate_limited() -> None:
    question = "Hur ofta ska ST-handledning ske?\n"
    result = handledarbot("ask", "--json", "-", stdin=question * 45)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == 45
    assert all(r["status"] == "answer" and "per vecka" in r["text"] for r in replies)


def test_eval_runs_questions_through_the_patient_data_guard(tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "- q: Min patient 19121212-1212, hur ofta ska ST-handledning ske?\n"
        "  lang: sv\n  expect: answer\n  must_include: [per vecka]\n  category: a\n",
        encoding="utf-8",
    )
    result = handledarbot("eval", str(questions), "--min-share", "1")
    assert result.returncode == 1
    assert "missing 'per vecka'" in result.stdout and "personnummer" in result.stdout
