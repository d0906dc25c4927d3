"""Multi-turn conversation sets played through `handledarbot chat --jsonl` by the shared runner
(../shared/eval/run_conversations.py): the shared development set and the project's own reminder
set (knowledge/eval/conversations-reminders.yaml), each with at least 95 % of the strict
reminder turns right.

Reminder turns are those of every conversation kind except the knowledge engine's own
(`knowledge_followup`, `clarification`); `setup` turns are boilerplate and not counted, as in the
runner's own total.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE, SHARED

MIN_SHARE = 0.95
RUNNER = SHARED / "eval" / "run_conversations.py"
SETS = {
    "shared dev set": SHARED / "eval" / "conversations-dev.yaml",
    "project reminder set": KNOWLEDGE / "eval" / "conversations-reminders.yaml",
}
KNOWLEDGE_KINDS = frozenset({"knowledge_followup", "clarification"})


@pytest.mark.parametrize("path", SETS.values(), ids=SETS.keys())
def test_strict_reminder_turns_are_right(tmp_path: Path, path: Path) -> None:
    if not RUNNER.exists() or not path.exists():
        pytest.skip(f"the shared eval folder is absent ({SHARED}): cannot play {path.name}")
    chat = Path(sys.executable).with_name("handledarbot")
    out = tmp_path / "replies.json"
    argv = [sys.executable, str(RUNNER), str(path), "--cmd", f"{chat} chat", "-j", "2"]
    done = subprocess.run(
        [*argv, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    right = total = 0
    for conversation in json.loads(out.read_text(encoding="utf-8")):
        if conversation["kind"] in KNOWLEDGE_KINDS:
            continue
        for turn in conversation["turns"]:
            if turn["scored"] and turn["strict"] and turn["kind"] != "setup":
                total += 1
                right += not turn["wrong"]
    assert total > 0
    assert right / total >= MIN_SHARE, f"{right}/{total} strict reminder turns right\n{done.stdout}"
