"""`handledarbot kb lint`: each finding on an edited copy of the knowledge base, and its exit code."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge.lint import lint, well_formed_https
from tests.conftest import KNOWLEDGE
from tests.test_cli import handledarbot

TODAY = date(2026, 11, 23)
SHIPPED_ORPHANS = ("course-orebro-ortopedisk-medicin", "course-orebro-b-delmalsveckan")
ACCEPTED = [f"orphan:{course}" for course in SHIPPED_ORPHANS]


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge"))


def edit(path: Path, after: str, old: str, new: str) -> None:
    """Replace the first `old` that follows the line containing `after`."""
    text = path.read_text(encoding="utf-8")
    start = text.index(after)
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")


def codes(directory: Path, **kwargs: object) -> list[str]:
    return [f.key for f in lint(directory, today=TODAY, ignore=ACCEPTED, **kwargs)]  # type: ignore[arg-type]


def test_the_shipped_base_has_only_the_two_courses_no_role_points_to() -> None:
    findings = lint(KNOWLEDGE, today=TODAY)
    assert sorted(f.key for f in findings) == sorted(ACCEPTED)
    assert all(f.where.startswith("courses.yaml:") for f in findings)


def test_an_entry_not_reviewed_for_a_year_is_stale(kb: Path) -> None:
    edit(
        kb / "courses.yaml", "id: course-skolverket", "reviewed: 2026-11-23", "reviewed: 2025-11-01"
    )
    findings = lint(kb, today=TODAY, ignore=ACCEPTED)
    assert [f.key for f in findings] == ["stale:course-skolverket"]
    assert findings[0].where == "courses.yaml:38"
    assert "2025-11-01" in findings[0].message
    assert codes(kb, months=13) == []


def test_a_review_date_in_the_future_is_a_finding(kb: Path) -> None:
    edit(kb / "roles.yaml", "id: role-yh", "reviewed: 2026-11-23", "reviewed: 2062-11-23")
    assert codes(kb) == ["stale:role-yh"]


def test_english_identical_to_swedish_counts_as_missing_except_short_names(kb: Path) -> None:
    swedish = "Handledare för studerande inom yrkeshögskola (YH)"
    edit(
        kb / "roles.yaml",
        "id: role-yh",
        "en: Supervisor of students in higher vocational education (yrkeshögskola, YH)",
        f"en: {swedish}",
    )
    assert codes(kb) == ["english:role-yh.name"]


def test_an_alias_shared_by_two_roles_despite_spelling(kb: Path) -> None:
    edit(
        kb / "roles.yaml",
        "id: role-yh",
        "aliases: [YH-handledare,",
        "aliases: [allstaff, YH-handledare,",
    )
    findings = lint(kb, today=TODAY, ignore=ACCEPTED)
    assert [f.code for f in findings] == ["alias"]
    assert (
        "'allstaff' of 'role-yh'" in findings[0].message and "role-all-staff" in findings[0].message
    )


@pytest.mark.parametrize(
    "url", ["http://www.antagning.se", "https://antagning", "https://user@www.antagning.se/x"]
)
def test_a_course_link_that_is_not_a_well_formed_https_url(kb: Path, url: str) -> None:
    edit(
        kb / "courses.yaml",
        "id: course-hogskolepedagogik",
        '"https://www.antagning.se"',
        f'"{url}"',
    )
    assert codes(kb) == [f"link:course-hogskolepedagogik:{url}"]


def test_well_formed_https() -> None:
    assert well_formed_https("https://lartorget.sll.se")
    assert well_formed_https("https://vardgivare.skane.se/kompetens-utveckling/st/?a=1#x")
    for bad in (
        "http://a.se",
        "https://a.se/x y",
        "javascript:alert(1)",
        "https://.se",
        "https://a.se:0x",
    ):
        assert not well_formed_https(bad), bad


def test_a_course_no_role_points_to(kb: Path) -> None:
    edit(
        kb / "roles.yaml", "id: role-university", "courses: [course-stepping-stones]", "courses: []"
    )
    assert codes(kb) == ["orphan:course-stepping-stones"]


def test_a_question_of_the_project_set_the_base_gets_wrong(kb: Path) -> None:
    with (kb / "eval" / "questions.yaml").open("a", encoding="utf-8") as questions:
        questions.write(
            "- q: Hur lång är Skolverkets handledarutbildning?\n  lang: sv\n"
            "  expect: answer\n  must_include: [tre veckor]\n  category: b\n"
        )
    findings = lint(kb, today=TODAY, ignore=ACCEPTED)
    assert [f.code for f in findings] == ["question"]
    assert "missing 'tre veckor'" in findings[0].message


def test_cli_exits_1_on_findings_and_0_when_they_are_accepted(kb: Path) -> None:
    failing = handledarbot("kb", "lint", str(kb), "--today", "2026-11-23")
    assert failing.returncode == 1
    # The finding names the file and the line where the course's entry starts.
    lines = (kb / "courses.yaml").read_text(encoding="utf-8").splitlines()
    line = next(
        n for n, text in enumerate(lines, start=1)
        if text.strip() == "- id: course-orebro-ortopedisk-medicin"
    )
    assert f"courses.yaml:{line}: [orphan]" in failing.stdout
    assert "--ignore orphan:course-orebro-b-delmalsveckan" in failing.stdout
    flags = [arg for key in ACCEPTED for arg in ("--ignore", key)]
    passing = handledarbot("kb", "lint", str(kb), "--today", "2026-11-23", *flags)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    stale = handledarbot("kb", "lint", str(kb), "--today", "2028-01-01", "--months", "12", *flags)
    assert stale.returncode == 1 and stale.stdout.count("[stale]") > 50


def test_cli_reports_a_broken_base_with_file_and_line(kb: Path) -> None:
    edit(kb / "courses.yaml", "id: course-skolverket", "reviewed: 2026-11-23", "reviewed: someday")
    result = handledarbot("kb", "lint", str(kb))
    assert result.returncode == 1
    assert "courses.yaml:41" in result.stderr


def test_a_source_without_its_own_date(kb: Path) -> None:
    edit(
        kb / "sources.yaml",
        "id: orebro-utbildningsstrategi",
        '    source_date: {sv: "fastställd 2021-12-10", en: "adopted 2021-12-10"}\n',
        "",
    )
    findings = lint(kb, today=TODAY, ignore=ACCEPTED)
    assert [f.key for f in findings] == ["date:orebro-utbildningsstrategi"]
    assert findings[0].where.startswith("sources.yaml:")


def test_a_dated_sources_present_tense_without_its_year(kb: Path) -> None:
    edit(
        kb / "guidance.yaml",
        "id: orebro-vardkompetensrad",
        "Sjukvårdsregionala vårdkompetensråd var 2021 under uppbyggnad.",
        "Sjukvårdsregionala vårdkompetensråd är under uppbyggnad.",
    )
    assert codes(kb) == ["timebound:orebro-vardkompetensrad.text.sv"]


def test_an_undated_source_has_no_present_tense_to_date(kb: Path) -> None:
    # The Skåne toolbox is undated: its "ta upp idag" (at today's meeting) is no finding.
    assert not [k for k in codes(kb) if k.startswith("timebound:topic-agenda")]


def test_a_ska_rendered_as_should(kb: Path) -> None:
    edit(
        kb / "courses.yaml",
        "id: course-orebro-st-handledarutbildning",
        "as an ST supervisor you must have completed",
        "as an ST supervisor you should have completed",
    )
    assert codes(kb) == ["modal:course-orebro-st-handledarutbildning.text"]


def test_a_bor_rendered_as_a_duty(kb: Path) -> None:
    edit(
        kb / "guidance.yaml",
        "id: orebro-choice-of-supervisor",
        "the ST doctor should have a reasonable",
        "the ST doctor must have a reasonable",
    )
    assert codes(kb) == ["modal:orebro-choice-of-supervisor.text"]


def test_socialstyrelsen_next_to_two_to_three_days_without_whose_figure(kb: Path) -> None:
    edit(
        kb / "roles.yaml",
        "id: role-bt-supervisor",
        "Socialstyrelsens rekommendation; omfattningen, ca 2-3 dagar, är Region Stockholms egen\n"
        "        uppgift (mina källor anger ingen kurslängd från Socialstyrelsen).",
        "Socialstyrelsens rekommendation, ca 2-3 dagar.",
    )
    assert codes(kb) == ["attribution:role-bt-supervisor.text.sv"]


def test_a_qualified_cell_scheduled_as_a_fixed_cadence(kb: Path) -> None:
    edit(
        kb / "topics.yaml",
        "id: topic-cbd",
        'cadence: {kind: unscheduled, note: {sv: "Efter behov',
        'cadence: {kind: every_months, months: 6, note: {sv: "Efter behov',
    )
    assert codes(kb) == ["cadence:topic-cbd"]


def test_a_contact_topic_that_is_no_concept(kb: Path) -> None:
    edit(kb / "contacts.yaml", "id: contact-skane-st", "topics: [toolbox,", "topics: [verktyg,")
    assert codes(kb) == ["contact:contact-skane-st:verktyg"]
