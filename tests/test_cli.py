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


def test_explain_shows_words_candidates_rule_and_context() -> None:
    result = handledarbot("explain", "Ges Stepping stones på engelska?")
    assert result.returncode == 0, result.stderr
    assert "'pa engelska' -> language (facet" in result.stdout
    assert "course-stepping-stones" in result.stdout
    assert "rule: facet" in result.stdout
    follow = handledarbot(
        "explain", "hur lång är den?", "--after", "Vilken kurs behöver jag som ST-handledare?"
    )
    assert "context: subject of the last answer" in follow.stdout
    assert "reply: answer" in follow.stdout


def test_eval_accepts_expect_lists_and_lists_answered_out_of_scope_first(tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "- {q: 'hur lång är Skolverkets kurs?', lang: sv, expect: [clarify, answer], kind: 5,\n"
        "   must_include: ['inte med']}\n"
        "- {q: 'vad kostar Stepping stones?', lang: sv, expect: no_match, kind: 2}\n",
        encoding="utf-8",
    )
    result = handledarbot("eval", str(questions))
    # `answer` is acceptable (second in the list), and must_include applies only to `clarify`.
    assert "2 questions, 100.0% right" in result.stdout, result.stdout
    assert "kind 2: 1/1" in result.stdout and "kind 5: 1/1" in result.stdout
    assert result.returncode == 0


def test_teams_package_with_an_app_id_that_is_not_a_guid_is_one_line_and_no_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", "not-a-guid")
    result = handledarbot("teams-package", "--out", str(tmp_path / "p.zip"), tmp=tmp_path)
    assert result.returncode == 2
    assert "GUID" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p.zip").exists()


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


def test_run_without_platforms_is_the_console_chat(tmp_path: Path) -> None:
    """What `./run` does from a fresh clone: the console chat, reading lines from a pipe."""
    result = handledarbot("run", stdin="Hur lång är Skolverkets handledarutbildning?\n",
                          tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "5–6 timmar" in result.stdout
