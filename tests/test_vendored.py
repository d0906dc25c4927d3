"""The vendored copies of the shared folder (tests/fixtures/shared) are what the team uses."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, SHARED

UPSTREAM = ROOT.parent / "shared"
FILES = sorted(p.relative_to(SHARED) for p in SHARED.rglob("*") if p.is_file()
               and p.name != "SOURCE.md")


def test_the_vendored_files_are_there() -> None:
    assert {str(p) for p in FILES} >= {"eval/questions-dev.yaml", "eval/run_conversations.py"}


@pytest.mark.parametrize("name", FILES, ids=str)
def test_a_vendored_file_matches_the_shared_folder(name: object) -> None:
    upstream = UPSTREAM / str(name)
    if not UPSTREAM.is_dir():
        pytest.skip(f"no {UPSTREAM} beside the project: nothing to compare with")
    assert upstream.exists(), f"{upstream} is gone: remove the copy or restore the file"
    assert (SHARED / str(name)).read_bytes() == upstream.read_bytes(), (
        f"{name} differs from {upstream}: run scripts/vendor-shared.sh"
    )
