"""A coordinator's broken edit is reported with file, line and what to fix, and exits 1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cli import main
from tests.conftest import KNOWLEDGE

SMALL = Path(__file__).parent / "fixtures" / "small_kb"


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SMALL, target)
    return target


def edit(kb: Path, old: str, new: str) -> None:
    path = kb / "knowledge.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def validate(kb: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["kb", "validate", str(kb)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def line_of(kb: Path, text: str) -> int:
    lines = (kb / "knowledge.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_the_shipped_knowledge_base_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    status, output = validate(KNOWLEDGE, capsys)
    assert status == 0, output
    assert "OK" in output


def test_a_valid_small_knowledge_base_passes(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(kb, capsys)[0] == 0


def test_yaml_syntax_error_names_file_and_line(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    match: [[st, supervise]]", "    match: [[st, supervise]\n    bad: : :")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "knowledge.yaml:" in output and "YAML syntax error" in output


def test_unknown_key_is_named_with_its_line(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    courses: [ss]", "    courses: [ss]\n    coures_note: typo")
    status, output = validate(kb, capsys)
    assert status == 1
    assert f"knowledge.yaml:{line_of(kb, 'coures_note')}: unknown key 'coures_note'" in output


def test_missing_field_says_what_to_add(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    source: s1\n    reviewed: 2026-11-23\n    match: [[st", "    reviewed: 2026-11-23\n    match: [[st")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "missing field 'source'" in output and "add it" in output


def test_wrong_type_is_explained(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "weight: 2}", "weight: very}")
    status, output = validate(kb, capsys)
    assert status == 1
    assert f"knowledge.yaml:{line_of(kb, 'weight: very')}: wrong value at concepts.0.weight" in output


def test_wrong_date_is_explained(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    reviewed: 2026-11-23\n    match: [[st", "    reviewed: förra veckan\n    match: [[st")
    status, output = validate(kb, capsys)
    assert status == 1
    assert f"knowledge.yaml:{line_of(kb, 'förra veckan')}: wrong value at roles.0.reviewed" in output


def test_dangling_course_reference(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    courses: [ss]", "    courses: [ss, no-such-course]")
    status, output = validate(kb, capsys)
    assert status == 1
    assert (f"knowledge.yaml:{line_of(kb, 'no-such-course')}: course 'no-such-course' does not "
            "exist") in output


def test_dangling_concept_in_a_match_key(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "match: [[st, supervise]]", "match: [[st, supervize]]")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "concept 'supervize' does not exist" in output


def test_duplicate_ids(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "  - id: st-sup", "  - id: ss")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "duplicate entry id 'ss'" in output


def test_duplicate_alias_across_roles(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    courses: [ss]", "    courses: [ss]\n    aliases: [Stepping stone]")
    edit(kb, "    name: {sv: Stepping stones, en: Stepping stones}",
         "    name: {sv: Stepping stones, en: Stepping stones}\n    aliases: [stepping-stone]")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "is already an alias of" in output


def test_duplicate_yaml_key(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    courses: [ss]", "    courses: [ss]\n    courses: [ss]")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "duplicate key 'courses'" in output


def test_unsafe_yaml_is_refused(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "filler: [hej, undrar, jag]", "filler: !!python/object/apply:os.system [echo hacked]")
    status, output = validate(kb, capsys)
    assert status == 1
    assert "hacked" not in output.replace("echo hacked", "")


def test_the_console_script_exits_1_on_a_broken_base(kb: Path) -> None:
    edit(kb, "    courses: [ss]", "    courses: [nope]")
    result = subprocess.run([sys.executable, "-m", "adapters.cli", "kb", "validate", str(kb)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "course 'nope' does not exist" in result.stderr


def test_impossible_date_is_reported_with_its_line(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(kb, "    reviewed: 2026-11-23\n    match: [[st", "    reviewed: 2026-13-45\n    match: [[st")
    status, output = validate(kb, capsys)
    assert status == 1
    assert f"knowledge.yaml:{line_of(kb, '2026-13-45')}: wrong value at roles.0.reviewed" in output
