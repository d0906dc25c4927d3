"""Builds the platform-neutral `Reply` for a matched entry, a question back, or a no-match."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.schema import (
    Answerable,
    CadenceGroup,
    Clarification,
    Course,
    Guidance,
    Provenance,
    Role,
    Text,
)
from bot.messages import CourseFact, Lang, Option, Reply, SourceRef, Status
from bot.wording import WORDING

Entry = Course | Role | Guidance | CadenceGroup


class Composer:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        contact_sv: str | None = None,
        contact_en: str | None = None,
    ) -> None:
        self._kb = knowledge
        self._contact = {"sv": contact_sv, "en": contact_en or contact_sv}

    def entry(self, entry: Entry, lang: Lang, *, score: float | None, regions: set[str]) -> Reply:
        related = [self._kb.entries[r] for r in entry.related if r in self._kb.entries]
        caveat = self._region_caveat([entry, *related], regions, lang)
        paragraphs = [*caveat, _say(entry_text(entry), lang)]
        paragraphs += [_say(entry_text(r), lang) for r in related]
        courses = self._courses_of(entry)
        return Reply(
            status=Status.ANSWER,
            lang=lang,
            paragraphs=tuple(paragraphs),
            courses=tuple(self._fact(c, lang) for c in courses),
            sources=self._sources([entry, *related, *courses], lang),
            entry_id=entry.id,
            score=score,
        )

    def clarification(self, clarification: Clarification, lang: Lang, score: float) -> Reply:
        entries = [self._kb.entries[o] for o in clarification.options]
        return self._ask(_say(clarification.question, lang), entries, lang, clarification.id, score)

    def choose_between(self, entries: Sequence[Entry], lang: Lang, score: float) -> Reply:
        return self._ask(WORDING[lang].which_one, entries, lang, None, score)

    def no_match(self, lang: Lang, lead: str | None = None) -> Reply:
        words = WORDING[lang]
        paragraphs = [lead or words.dont_know, *self._contacts(lang)]
        return Reply(
            status=Status.NO_MATCH,
            lang=lang,
            paragraphs=tuple(paragraphs),
            sources=self._sources(self._kb.contacts, lang) if not self._contact[lang] else (),
            kind="no_match",
        )

    def unsupported_detail(
        self, details: set[str], subject: Answerable | Clarification | None, lang: Lang
    ) -> Reply:
        words = WORDING[lang]
        named = [self._kb.concepts[d].detail for d in sorted(details)]
        detail = ", ".join(_say(t, lang) for t in named if t is not None)
        about = words.this_subject
        if isinstance(subject, Course | Role | Guidance | CadenceGroup):
            about = _say(entry_title(subject), lang)
        lead = words.unsupported_detail.format(detail=detail, subject=about)
        return self.no_match(lang, lead)

    def social(self, kind: str, lang: Lang) -> Reply:
        words = WORDING[lang]
        if kind == "thanks":
            paragraphs: tuple[str, ...] = (words.thanks,)
        else:
            examples = "\n".join(f"• {example}" for example in words.examples)
            paragraphs = (words.intro, f"{words.examples_lead}\n{examples}")
        return Reply(status=Status.ANSWER, lang=lang, paragraphs=paragraphs, kind="help")

    def _ask(
        self,
        question: str,
        entries: Sequence[Entry],
        lang: Lang,
        entry_id: str | None,
        score: float,
    ) -> Reply:
        options = tuple(Option(label=_say(entry_title(e), lang), value=e.id) for e in entries)
        return Reply(
            status=Status.CLARIFY,
            lang=lang,
            paragraphs=(),
            question=question,
            options=options,
            entry_id=entry_id,
            score=score,
            kind="clarify",
        )

    def _region_caveat(self, entries: Sequence[Entry], regions: set[str], lang: Lang) -> list[str]:
        """Says so when the asked region's guidance is not what the answer holds."""
        scopes = {e.scope for e in entries}
        if not regions or scopes & regions or entries[0].scope == "national":
            return []
        asked = ", ".join(sorted(self._scope_name(r, lang) for r in regions))
        template = WORDING[lang].other_region
        return [template.format(asked=asked, scope=self._scope_name(entries[0].scope, lang))]

    def _courses_of(self, entry: Answerable) -> list[Course]:
        if isinstance(entry, Course):
            return [entry]
        if isinstance(entry, Role):
            return [self._kb.courses[c] for c in entry.courses if c in self._kb.courses]
        return []

    def _fact(self, course: Course, lang: Lang) -> CourseFact:
        def say(text: Text | None) -> str | None:
            return _say(text, lang) if text is not None else None

        prerequisites = tuple(
            _say(self._kb.courses[p].name, lang)
            for p in course.prerequisites
            if p in self._kb.courses
        )
        return CourseFact(
            name=_say(course.name, lang),
            provider=say(course.provider),
            format=say(course.format),
            duration=say(course.duration),
            credits=say(course.credits),
            apply=say(course.apply),
            links=tuple(course.links),
            prerequisites=prerequisites,
        )

    def _sources(self, items: Iterable[Provenance], lang: Lang) -> tuple[SourceRef, ...]:
        refs: dict[str, SourceRef] = {}
        for item in items:
            source = self._kb.sources.get(item.source)
            if source is None or source.id in refs:
                continue
            refs[source.id] = SourceRef(
                title=source.title,
                publisher=source.publisher,
                scope=self._scope_name(item.scope, lang),
                reviewed=item.reviewed,
                url=source.url,
                source_date=_say(source.source_date, lang) if source.source_date else None,
            )
        return tuple(refs.values())

    def _contacts(self, lang: Lang) -> list[str]:
        words = WORDING[lang]
        configured = self._contact[lang]
        if configured:
            return [f"{words.ask_instead}: {configured}"]
        return (
            [f"{words.ask_instead}: " + " ".join(_say(c.text, lang) for c in self._kb.contacts)]
            if self._kb.contacts
            else []
        )

    def _scope_name(self, scope: str, lang: Lang) -> str:
        definition = self._kb.scopes.get(scope)
        return _say(definition.name, lang) if definition else scope


def entry_title(entry: Entry) -> Text:
    if isinstance(entry, Course | Role):
        return entry.name
    return entry.title


def entry_text(entry: Entry) -> Text:
    return entry.text


def _say(text: Text, lang: Lang) -> str:
    return text.en if lang == "en" else text.sv
