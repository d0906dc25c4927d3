"""Builds the platform-neutral `Reply` for a matched entry, a question back, or a no-match."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import replace

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.schema import (
    Answerable,
    CadenceGroup,
    Clarification,
    Contact,
    Course,
    Guidance,
    Provenance,
    Role,
    Text,
)
from bot.messages import CourseFact, Lang, Option, Reply, SourceRef, Status
from bot.wording import WORDING

Entry = Course | Role | Guidance | CadenceGroup

# The region (scope id) and concepts of the question being answered, so that a no-match points
# to the contact that fits them. Set by the engine for each question.
ASKED: ContextVar[tuple[str | None, frozenset[str]]] = ContextVar(
    "asked", default=(None, frozenset())
)


class Composer:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        contact_sv: str | None = None,
        contact_en: str | None = None,
        help_extra: Callable[[Lang], Sequence[str]] | None = None,
    ) -> None:
        """`help_extra`: paragraphs added to the help reply in a language (what other parts of
        the bot, such as reminders, can do)."""
        self._kb = knowledge
        self._contact = {"sv": contact_sv, "en": contact_en or contact_sv}
        self._help_extra = help_extra

    def entry(self, entry: Entry, lang: Lang, *, score: float | None, regions: set[str]) -> Reply:
        related = [self._kb.entries[r] for r in entry.related if r in self._kb.entries]
        caveat = self._region_caveat([entry, *related], regions, lang)
        paragraphs = [*caveat, _say(entry_text(entry), lang)]
        paragraphs += [_say(entry_text(r), lang) for r in related]
        courses = self._kb.courses_of(entry)
        return Reply(
            status=Status.ANSWER,
            lang=lang,
            paragraphs=tuple(paragraphs),
            courses=tuple(self._fact(c, lang) for c in courses),
            sources=self._sources([entry, *related, *courses], lang),
            entry_id=entry.id,
            score=score,
        )

    def entries(
        self, entries: Sequence[Entry], lang: Lang, score: float, regions: set[str],
        *, by_region: bool = False,
    ) -> Reply:
        """One answer covering several subjects (two roles, two courses), each in turn; with
        `by_region`, one region's guidance after another's ("skillnad mellan Stockholm och
        Örebro")."""
        wording = WORDING[lang]
        paragraphs: list[str] = [wording.regions_lead if by_region else wording.several_lead]
        courses: list[Course] = []
        shown: list[Entry] = []
        for entry in entries:
            paragraphs += self._region_caveat([entry], regions, lang)
            paragraphs.append(_say(entry_text(entry), lang))
            shown.append(entry)
            for course in self._kb.courses_of(entry):
                if course not in courses:
                    courses.append(course)
        return Reply(
            status=Status.ANSWER,
            lang=lang,
            paragraphs=tuple(paragraphs),
            courses=tuple(self._fact(c, lang) for c in courses),
            sources=self._sources([*shown, *courses], lang),
            entry_id=entries[0].id,
            score=score,
        )

    def source_list(self, scopes: set[str], lang: Lang) -> Reply:
        """The sources of `scopes` (every source when empty); each is
        shown, as with any answer, with its publisher, its own date and its address."""
        chosen = [
            s for s in self._kb.sources.values()
            if not scopes or s.scope in scopes
        ]
        return Reply(
            status=Status.ANSWER,
            lang=lang,
            paragraphs=(WORDING[lang].sources_lead,),
            sources=self._sources(
                [Provenance(id=s.id, scope=s.scope, source=s.id, reviewed=s.reviewed) for s in chosen],
                lang,
            ),
        )

    def supervision(
        self, verdicts: Sequence[tuple[Role, bool]], lang: Lang, score: float
    ) -> Reply:
        """Who may supervise whom: for each role, "yes" when the asked supervisor is among
        those the source's table names, else who the table does name; then the role's text."""
        words = WORDING[lang]
        leads = []
        for role, allowed in verdicts:
            assert role.supervision is not None
            template = words.supervision_yes if allowed else words.supervision_listed
            leads.append(template.format(
                scope=self._table_of(role, lang),
                whom=_say(role.supervision.supervisee_text, lang),
                who=_say(role.supervision.supervisors_text, lang),
            ))
        roles = [role for role, _ in verdicts]
        if len(roles) == 1:
            reply = self.entry(roles[0], lang, score=score, regions=set())
        else:
            reply = self.entries(roles, lang, score, set())
            reply = replace(reply, paragraphs=reply.paragraphs[1:])
        return replace(reply, paragraphs=(" ".join(leads), *reply.paragraphs))

    def _table_of(self, role: Role, lang: Lang) -> str:
        scope = self._scope_name(role.scope, lang)
        return f"{scope}s tabell" if lang == "sv" else f"{scope}'s table"

    def out_of_domain(self, lang: Lang) -> Reply:
        return Reply(
            status=Status.NO_MATCH,
            lang=lang,
            paragraphs=(WORDING[lang].out_of_domain,),
            kind="out_of_domain",
        )

    def region_noted(self, region: str, lang: Lang) -> Reply:
        """The user said where they work: remembered (`profile`), and said back."""
        text = WORDING[lang].region_noted.format(region=self._scope_name(region, lang))
        return Reply(
            status=Status.ANSWER, lang=lang, paragraphs=(text,), kind="profile",
            profile={"region": region},
        )

    def other_region_only(self, entry: Entry, regions: set[str], lang: Lang) -> Reply:
        """No-match for the asked region, with another region's guidance given as such: the
        caveat first, then that entry (its text opens with whose guidance it is)."""
        answer = self.entry(entry, lang, score=None, regions=regions)
        contacts = self._contacts(lang)
        return replace(
            answer,
            status=Status.NO_MATCH,
            paragraphs=(*answer.paragraphs, *contacts),
            kind="no_match",
            entry_id=None,
        )

    def region_not_covered(
        self, region_concepts: Sequence[str], lang: Lang, *, compared: Entry | None = None,
        national: Reply | None = None,
    ) -> Reply:
        """No-match for a region the sources do not cover, naming the regions they do; with
        `national` (an answer of national guidance), what applies nationally too."""
        words = WORDING[lang]
        names = self._region_names(region_concepts, lang)
        # The scopes the sources cover, national last, as the knowledge base names them.
        scopes = sorted(self._kb.scopes.values(), key=lambda s: s.id == "national")
        covered = [_say(s.name, lang) for s in scopes]
        lead = words.no_region_sources.format(regions=names)
        more = words.covered_regions.format(covered=", ".join(covered))
        reply = self.no_match(lang, f"{lead} {more}")
        if national is not None:
            paragraphs = (reply.paragraphs[0], words.nationally, *national.paragraphs)
            return replace(
                reply, paragraphs=paragraphs, sources=national.sources, courses=national.courses
            )
        if compared is not None:
            return self._with_summary(reply, compared, lang)
        return reply

    def national_applies(self, region_concepts: Sequence[str], national: Reply, lang: Lang) -> Reply:
        """A national rule's answer to a question about a region the sources do not cover:
        led by saying there are no sources from that region, then the national answer, which
        applies there as everywhere."""
        lead = WORDING[lang].national_applies.format(regions=self._region_names(region_concepts, lang))
        return replace(national, paragraphs=(lead, *national.paragraphs))

    def _region_names(self, region_concepts: Sequence[str], lang: Lang) -> str:
        """The regions as the knowledge base names them ("Region Gotland"), comma-separated."""
        names = []
        for concept_id in region_concepts:
            concept = self._kb.concepts.get(concept_id)
            name = concept.name if concept is not None else None
            names.append(_say(name, lang) if name is not None else concept_id)
        return ", ".join(names)

    def unstated_word(self, word: str, entry: Entry, lang: Lang) -> Reply:
        """No-match for a "which X?" whose X the entry never speaks of."""
        words = WORDING[lang]
        subject = _say(entry_title(entry), lang)
        lead = words.unsupported_detail.format(detail=f"”{word}”", subject=subject)
        return self._with_summary(self.no_match(lang, lead), entry, lang)

    def unstated_number(self, numbers: Sequence[str], entry: Entry, lang: Lang) -> Reply:
        words = WORDING[lang]
        subject = _say(entry_title(entry), lang)
        lead = words.unstated_number.format(numbers=", ".join(numbers), subject=subject)
        return self._with_summary(self.no_match(lang, lead), entry, lang)

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
            sources=self._sources(self._fitting_contacts(), lang) if not self._contact[lang] else (),
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
        reply = self.no_match(lang, lead)
        if isinstance(subject, Course | Role | Guidance | CadenceGroup):
            return self._with_summary(reply, subject, lang)
        return reply

    def _with_summary(self, reply: Reply, entry: Entry, lang: Lang) -> Reply:
        """Adds, briefly, what the sources do say about the subject (its first sentence)."""
        first = _first_sentence(_say(entry_text(entry), lang))
        summary = WORDING[lang].what_sources_say.format(
            subject=_say(entry_title(entry), lang), text=first
        )
        paragraphs = (reply.paragraphs[0], summary, *reply.paragraphs[1:])
        sources = self._sources([entry], lang)
        sources += tuple(s for s in reply.sources if s not in sources)
        return replace(reply, paragraphs=paragraphs, sources=sources)

    def social(self, kind: str, lang: Lang) -> Reply:
        words = WORDING[lang]
        if kind == "thanks":
            paragraphs: tuple[str, ...] = (words.thanks,)
        else:
            examples = "\n".join(f"• {example}" for example in words.examples)
            extra = tuple(self._help_extra(lang)) if self._help_extra is not None else ()
            paragraphs = (words.intro, f"{words.examples_lead}\n{examples}", *extra)
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

    def _fitting_contacts(self) -> list[Contact]:
        scope, topics = ASKED.get()
        return self._kb.contacts_for(scope, set(topics))

    def _contacts(self, lang: Lang) -> list[str]:
        """Whom to ask: the configured text, else the contacts that fit the question's region
        and topics (`KnowledgeBase.contacts_for`, with `ASKED` set by the engine)."""
        words = WORDING[lang]
        configured = self._contact[lang]
        if configured:
            return [f"{words.ask_instead}: {configured}"]
        contacts = self._fitting_contacts()
        return (
            [f"{words.ask_instead}: " + " ".join(_say(c.text, lang) for c in contacts)]
            if contacts
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


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(?:\s|$)", text, re.S)
    return (match.group(1) if match else text).strip()


def _say(text: Text, lang: Lang) -> str:
    return text.en if lang == "en" else text.sv
