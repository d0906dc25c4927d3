"""`handledarbot kb lint`: what a loadable knowledge base still gets wrong, for a pull-request check.

The loader refuses what is broken; lint finds what is merely stale or inconsistent:
- `stale`: an entry, topic, contact or source not reviewed for more than N months (default 12)
  before `today`, or reviewed in the future (a typo in the date).
- `english`: English text missing. The schema already requires `en`; an `en` identical to `sv`
  counts as missing unless it is a name of at most four words ("Region Skåne", "Stepping stones").
- `alias`: an alias of one role that is also another role's alias or name, compared without
  spaces, hyphens, case and accents ("ST-handledare" = "sthandledare"). Exact duplicates are
  already refused by the loader.
- `link`: a course link (or a source URL) that is not a well-formed https URL with a host name.
- `orphan`: a course no role points to, through `courses` or `related`. A course another course
  lists as a prerequisite counts as pointed to; a clarification option does not.
- `date`: a source without `source_date` (every answer shows the source's own date; write that
  the source is undated if it is).
- `timebound`: a sentence saying how things are now ("i dagsläget", "för närvarande",
  "currently" ...) in an entry whose source is dated, without that date's year in the same
  sentence: a 2021 document's "today" is 2021's, and the answer must say so.
- `modal`: English with more "should" than its Swedish has "bör"/"borde" (a "ska" rendered as
  advice), or fewer (a "bör" rendered as a duty, or lost).
- `attribution`: a text giving the "ca 2–3 dagar" of Region Stockholm's table next to
  Socialstyrelsen's recommendation without saying it is Region Stockholm's own figure.
- `cadence`: a toolbox topic whose note only qualifies how often ("Efter behov", "Regelbundet",
  "Planera i god tid") but whose kind schedules it as a fixed cadence.
- `contact`: a contact whose `topics` name a concept id that vocabulary.yaml does not define.
- `question`: a question of the project's question set (`eval/questions.yaml` under the
  directory) that the current knowledge base gets wrong (`bot.evaluation`).

Each finding has a `key` (`orphan:course-x`) that `--ignore` accepts, for a finding accepted on
purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel

from bot.answering.engine import Engine
from bot.evaluation import load_questions, run
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loader import load_knowledge
from bot.knowledge.schema import Text
from bot.text import fold, normalize

NAME_WORDS = 4  # an English text identical to the Swedish one is fine up to this many words
QUESTIONS = Path("eval") / "questions.yaml"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    subject: str  # the id (or question) the finding is about
    where: str  # file:line, when known
    message: str

    @property
    def key(self) -> str:
        return f"{self.code}:{self.subject}"

    def __str__(self) -> str:
        return f"{self.where}: [{self.code}] {self.message}"


def lint(
    directory: Path,
    *,
    today: date,
    months: int = 12,
    questions: Path | None = None,
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Every finding for the knowledge base in `directory` (raises `KnowledgeError` if broken)."""
    knowledge = load_knowledge(directory)
    places = _Places(directory)
    question_file = questions if questions is not None else directory / QUESTIONS
    findings = [
        *_stale(knowledge, places, today, months),
        *_english(knowledge, places),
        *_aliases(knowledge, places),
        *_links(knowledge, places),
        *_orphans(knowledge, places),
        *_dates(knowledge, places),
        *_timebound(knowledge, places),
        *_modals(knowledge, places),
        *_attributions(knowledge, places),
        *_cadences(knowledge, places),
        *_contact_topics(knowledge, places),
        *(_questions(knowledge, question_file) if question_file.exists() else ()),
    ]
    skipped = set(ignore)
    return [f for f in findings if f.key not in skipped]


class _Places:
    """Finds the file and line where `id: <id>` is written, for messages a coordinator can act on."""

    def __init__(self, directory: Path) -> None:
        self._lines: dict[str, str] = {}
        for path in sorted(directory.glob("*.yaml")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = re.match(r"\s*-?\s*id:\s*['\"]?([A-Za-z0-9_-]+)", line)
                if found:
                    self._lines.setdefault(found.group(1), f"{path.name}:{number}")

    def of(self, item_id: str) -> str:
        return self._lines.get(item_id, item_id)


def _stale(kb: KnowledgeBase, places: _Places, today: date, months: int) -> Iterator[Finding]:
    oldest = today - relativedelta(months=months)
    items = [*kb.entries.values(), *kb.topics, *kb.contacts, *kb.sources.values()]
    for item in items:
        if item.reviewed < oldest:
            yield Finding(
                "stale",
                item.id,
                places.of(item.id),
                f"'{item.id}' was last reviewed {item.reviewed.isoformat()}, more than {months} "
                "months ago: check it against its source and update `reviewed`",
            )
        elif item.reviewed > today:
            yield Finding(
                "stale",
                item.id,
                places.of(item.id),
                f"'{item.id}' has `reviewed: {item.reviewed.isoformat()}`, a date in the "
                "future: write the date it was actually checked",
            )


def _english(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    items: list[BaseModel] = [
        *kb.entries.values(),
        *kb.clarifications.values(),
        *kb.topics,
        *kb.contacts,
        *kb.concepts.values(),
        *kb.scopes.values(),
    ]
    for item in items:
        item_id = str(getattr(item, "id", ""))
        for field, text in _texts(item, ""):
            same = " ".join(text.sv.split()) == " ".join(text.en.split())
            if same and len(text.sv.split()) > NAME_WORDS:
                yield Finding(
                    "english",
                    f"{item_id}.{field}",
                    places.of(item_id),
                    f"'{item_id}' {field}: the English text is the Swedish one; translate it",
                )


def _texts(model: BaseModel, prefix: str) -> Iterator[tuple[str, Text]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, Text):
            yield path, value
        elif isinstance(value, BaseModel):
            yield from _texts(value, f"{path}.")


def _compact(text: str) -> str:
    return "".join(normalize(text))


def _aliases(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    owners: dict[str, str] = {}
    for role in kb.roles.values():
        for alias in role.aliases:
            key = _compact(alias)
            owner = owners.setdefault(key, role.id)
            if owner != role.id:
                yield Finding(
                    "alias",
                    f"{role.id}:{alias}",
                    places.of(role.id),
                    f"alias '{alias}' of '{role.id}' also names role '{owner}' (ignoring spaces, "
                    "hyphens and case): keep it on one role only",
                )
    for role in kb.roles.values():
        for alias in role.aliases:
            for other in kb.roles.values():
                names = {_compact(other.name.sv), _compact(other.name.en)}
                if other.id != role.id and _compact(alias) in names:
                    yield Finding(
                        "alias",
                        f"{role.id}:{alias}",
                        places.of(role.id),
                        f"alias '{alias}' of '{role.id}' is the name of role '{other.id}': "
                        "remove it or rename",
                    )


def well_formed_https(url: str) -> bool:
    """An https URL with a dotted host name, no credentials, no spaces."""
    if any(ch.isspace() for ch in url) or not url.isprintable():
        return False
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and port_ok
        and "@" not in parts.netloc
        and "." in host
        and not host.startswith(".")
        and not host.endswith(".")
        and re.fullmatch(r"[a-z0-9.-]+", host) is not None
    )


def _links(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    for course in kb.courses.values():
        for url in course.links:
            if not well_formed_https(url):
                yield Finding(
                    "link",
                    f"{course.id}:{url}",
                    places.of(course.id),
                    f"course '{course.id}' links to '{url}', which is not a well-formed https "
                    "URL: use the https:// address of the page",
                )
    for source in kb.sources.values():
        if source.url is not None and not well_formed_https(source.url):
            yield Finding(
                "link",
                f"{source.id}:{source.url}",
                places.of(source.id),
                f"source '{source.id}' has url '{source.url}', which is not a well-formed https "
                "URL: use the https:// address of the page",
            )


def _orphans(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    pointed = {c for role in kb.roles.values() for c in (*role.courses, *role.related)}
    pointed |= {p for course in kb.courses.values() for p in course.prerequisites}
    for course in kb.courses.values():
        if course.id not in pointed:
            yield Finding(
                "orphan",
                course.id,
                places.of(course.id),
                f"no role points to course '{course.id}': add it to a role's `courses` (or "
                "`related`), or ignore this finding if the course stands on its own",
            )


def _dates(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    for source in kb.sources.values():
        if source.source_date is None:
            yield Finding(
                "date",
                source.id,
                places.of(source.id),
                f"source '{source.id}' has no `source_date`: write the source's own date as it "
                "gives it (sv and en), or that the source is undated",
            )


_NOW = {
    "sv": re.compile(
        r"\b(i dag|idag|i dagsläget|för närvarande|numera|fortfarande|under (uppbyggnad|utformning))\b",
        re.I,
    ),
    "en": re.compile(r"\b(today|currently|at present|nowadays|now|still|being (set up|designed))\b", re.I),
}
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9“”\"(])")


def _entry_texts(kb: KnowledgeBase) -> Iterator[tuple[str, str, Text]]:
    """(id, field, text) of every entry, topic and contact."""
    items: list[BaseModel] = [*kb.entries.values(), *kb.topics, *kb.contacts]
    for item in items:
        for field, text in _texts(item, ""):
            yield str(getattr(item, "id", "")), field, text


def _timebound(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    owners = {
        str(getattr(i, "id", "")): i for i in [*kb.entries.values(), *kb.topics, *kb.contacts]
    }
    for item_id, field, text in _entry_texts(kb):
        source = kb.sources.get(owners[item_id].source)
        dated = _YEAR.search(source.source_date.sv) if source and source.source_date else None
        if dated is None:
            continue
        for lang in ("sv", "en"):
            for sentence in _SENTENCE.split(getattr(text, lang)):
                marker = _NOW[lang].search(sentence)
                if marker and dated.group(0) not in sentence:
                    yield Finding(
                        "timebound",
                        f"{item_id}.{field}.{lang}",
                        places.of(item_id),
                        f"'{item_id}' {field} ({lang}) says '{marker.group(0)}' in a source "
                        f"dated {dated.group(0)}: give it as of that date (“{sentence[:60]}…”)",
                    )


_SHOULD_SV = re.compile(r"\b(bör|borde)\b", re.I)
_SHOULD_EN = re.compile(r"\bshould\b", re.I)


def _modals(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    for item_id, field, text in _entry_texts(kb):
        should = len(_SHOULD_EN.findall(text.en)) - len(_SHOULD_SV.findall(text.sv))
        if should > 0:
            yield Finding(
                "modal",
                f"{item_id}.{field}",
                places.of(item_id),
                f"'{item_id}' {field}: the English says 'should' more often than the Swedish says "
                "'bör': 'ska' is a duty (must, is to), not advice",
            )
        elif should < 0:
            yield Finding(
                "modal",
                f"{item_id}.{field}",
                places.of(item_id),
                f"'{item_id}' {field}: the Swedish says 'bör' more often than the English says "
                "'should': 'bör' is advice (should), not a duty (must, is to)",
            )


# (what is claimed, what must then be said with it): Region Stockholm's table puts "ca 2-3 dagar"
# beside "Enligt Socialstyrelsens rekommendation"; the length is Region Stockholm's (seed 000).
_ATTRIBUTIONS = (
    (
        re.compile(r"socialstyrelsen.*\b2\s*[-–]\s*3 (dagar|days)\b", re.I | re.S),
        re.compile(r"Region Stockholms (egen|egna)|Region Stockholm's own", re.I),
        "say that about 2–3 days is Region Stockholm's own figure, not Socialstyrelsen's",
    ),
)


def _attributions(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    for item_id, field, text in _entry_texts(kb):
        for lang in ("sv", "en"):
            value = getattr(text, lang)
            for claim, attribution, fix in _ATTRIBUTIONS:
                if claim.search(value) and not attribution.search(value):
                    yield Finding(
                        "attribution",
                        f"{item_id}.{field}.{lang}",
                        places.of(item_id),
                        f"'{item_id}' {field} ({lang}): {fix}",
                    )


_QUALIFIER_ONLY = re.compile(r"^\s*(efter behov|regelbundet|planera i god tid)\b", re.I)


def _cadences(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    for topic in kb.topics:
        note = topic.cadence.note
        if (
            note is not None
            and topic.cadence.kind != "unscheduled"
            and _QUALIFIER_ONLY.match(note.sv)
        ):
            yield Finding(
                "cadence",
                topic.id,
                places.of(topic.id),
                f"topic '{topic.id}' is noted '{note.sv}' but scheduled as {topic.cadence.kind}: "
                "the source gives no fixed cadence, so use `kind: unscheduled`",
            )


def _contact_topics(kb: KnowledgeBase, places: _Places) -> Iterator[Finding]:
    for contact in kb.contacts:
        for topic in contact.topics:
            if topic not in kb.concepts:
                yield Finding(
                    "contact",
                    f"{contact.id}:{topic}",
                    places.of(contact.id),
                    f"contact '{contact.id}' lists topic '{topic}', which is no concept id in "
                    "vocabulary.yaml: use a concept's id",
                )


def _questions(kb: KnowledgeBase, path: Path) -> Iterator[Finding]:
    report = run(Engine(kb).answer, load_questions(path))
    for outcome in report.outcomes:
        if not outcome.right:
            yield Finding(
                "question",
                fold(outcome.question.q)[:80],
                path.name,
                f"'{outcome.question.q}': " + "; ".join(outcome.problems),
            )
