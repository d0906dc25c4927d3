"""The shape of `knowledge/*.yaml`, checked at load time (unknown keys, missing fields, types).

Pydantic validates the plain YAML data; `bot.knowledge.loader` maps each error back to a file and
line. Cross-references (a role naming a course id that does not exist) are checked by the loader.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$")]
# Whose guidance: `national` or a region's id, as defined under `scopes:` (sources.yaml). A new
# region is YAML only: a scope, its sources, and `region:` on its concept (regions.yaml).
Scope = Id
# A match key: concept ids that must all occur in a question for the entry to be a candidate.
MatchKey = Annotated[list[Id], Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """The same text in Swedish and English."""

    sv: NonEmpty
    en: NonEmpty


class ScopeDef(Strict):
    id: Scope
    name: Text
    # How an answer opens when it states this scope's guidance ("I Region Stockholm gäller").
    lead: Text


class Source(Strict):
    id: Id
    title: NonEmpty
    publisher: NonEmpty
    scope: Scope
    url: HttpsUrl | None = None
    seed: NonEmpty
    # The source's own date, as the source words it ("Senast granskad: 18 december 2023"), or
    # that it has none. Shown with every answer; `kb lint` reports a source without it.
    source_date: Text | None = None
    reviewed: date


class Provenance(Strict):
    id: Id
    scope: Scope
    source: Id
    reviewed: date


class Answerable(Provenance):
    match: list[MatchKey] = Field(default_factory=list)
    # Detail concepts (facets such as a date or a price) this entry can answer.
    answers: list[Id] = Field(default_factory=list)
    # Other entries whose text is added after this one's ("see also").
    related: list[Id] = Field(default_factory=list)
    # Questions staff ask that this entry answers (sv and en): searched beside the entry's own
    # text, so a coordinator fixes a missed question by adding it here.
    examples: list[NonEmpty] = Field(default_factory=list)


class Course(Answerable):
    name: Text
    aliases: list[NonEmpty] = Field(default_factory=list)
    provider: Text | None = None
    format: Text | None = None
    duration: Text | None = None
    credits: Text | None = None
    apply: Text | None = None
    links: list[HttpsUrl] = Field(default_factory=list)
    prerequisites: list[Id] = Field(default_factory=list)
    text: Text


class Supervision(Strict):
    """Who supervises a role's trainees: `supervisee` is the concept naming them (e.g. `at`),
    `supervisors` the concepts naming who may supervise them (e.g. [st, specialist]); the texts
    name both in replies."""

    supervisee: Id
    supervisee_text: Text
    supervisors: list[Id] = Field(min_length=1)
    supervisors_text: Text


class Role(Answerable):
    name: Text
    aliases: list[NonEmpty] = Field(default_factory=list)
    courses: list[Id] = Field(default_factory=list)
    text: Text
    # Who may supervise whom, as the source's table says.
    supervision: Supervision | None = None


class Guidance(Answerable):
    title: Text
    text: Text


# `unscheduled`: the source gives the topic no fixed cadence (a cell reading "Efter behov", or a
# row whose column the source's layout leaves unclear); it is stated with its `note` and never
# scheduled by reminders.
CadenceKind = Literal[
    "each_meeting", "every_months", "yearly", "end_of_year", "times_during_st", "unscheduled"
]


class Cadence(Strict):
    kind: CadenceKind
    months: int | None = Field(None, ge=1, le=24)
    times: int | None = Field(None, ge=1, le=20)
    # How the source qualifies it ("Efter behov", "Regelbundet", "Planera i god tid").
    note: Text | None = None

    @model_validator(mode="after")
    def _unscheduled_says_why(self) -> Cadence:
        if self.kind == "unscheduled" and self.note is None:
            raise ValueError("an unscheduled cadence needs a `note` saying what the source says")
        return self


class Topic(Provenance):
    title: Text
    detail: Text | None = None
    cadence: Cadence


class CadenceGroup(Answerable):
    """An answer listing every topic of one cadence ("what do we cover every 3 months?")."""

    cadence: CadenceKind
    months: int | None = None
    title: Text
    text: Text


class Clarification(Strict):
    """Asks back when a question fits several entries, unless a more specific concept is there."""

    id: Id
    match: list[MatchKey] = Field(min_length=1)
    unless: list[Id] = Field(default_factory=list)
    # Asked when a message points back ("måste jag gå den?", "is it web-based?") with nothing
    # before it to point to, whatever its keys.
    refers_back: bool = False
    # Asked when a question, every word of it understood, speaks of nothing but one of these
    # keys' concepts (and question words): "får jag handleda?", "what are the requirements?".
    # Such a question is in the domain but names no role or course; asking which is meant
    # beats "I don't know". Keys here need not reach `min_score`.
    broad: list[MatchKey] = Field(default_factory=list)
    question: Text
    options: list[Id] = Field(min_length=2)


class Concept(Strict):
    """Words that mean one thing to the matcher; `*` at the end of a term matches any ending."""

    id: Id
    terms: list[NonEmpty] = Field(min_length=1)
    # Abbreviations that name the concept only when typed in capitals, because in lower case
    # they are an ordinary word: "Not ST but AT" names AT; "at the clinic" does not.
    acronyms: list[NonEmpty] = Field(default_factory=list)
    weight: float = Field(1.0, ge=0.0, le=10.0)
    # A detail (price, date, salary ...) that an entry must list in `answers` to answer it.
    detail: Text | None = None
    # A region: the scope whose guidance the base holds for it, or `uncovered` (no sources:
    # questions about it get an honest no-match). Answers of another region's guidance get a
    # caveat.
    region: Scope | None = None
    # How a region (or a detail) is named in replies; defaults to the concept id.
    name: Text | None = None
    # A facet that a course states when it has this field (and so does a role recommending
    # such a course): "hur lång" is answered by a course with a `duration`, by no other entry
    # unless it lists the concept in its match keys or `answers`.
    # An interrogative ("hur många", "vad är", "vem"): says what kind of answer is wanted, not
    # what the question is about, so it never makes a question too specific to ask back.
    question_word: bool = False
    # A post one person holds ("studierektor"): "vem är studierektor på ortopeden?" asks for a
    # name, the facet named here, which only entries listing it in `answers` state.
    post: Id | None = None
    # Asks about the sources themselves ("när granskades sidan?", "vilka källor har du?"): the
    # reply lists the sources of the region named (every source when none is), with their dates.
    about_sources: bool = False
    # A facet that an entry also states when its own text (folded: lowercase, å/ä→a, ö→o)
    # matches this regular expression, e.g. a length: `\d+ (dagar|timmar|veckor)`.
    stated_by: str | None = None
    course_field: (
        Literal["duration", "credits", "format", "apply", "links", "provider", "prerequisites"]
        | None
    ) = None


class Contact(Provenance):
    """Whom to ask when the bot does not know, and for which questions it is the right one.

    `scopes` are the regions (scope ids) whose questions it fits; `topics` the concept ids of
    `vocabulary.yaml` it fits best (`st`, `toolbox`, `course` ...). A contact with neither is
    the general fallback (`KnowledgeBase.contacts_for`).
    """

    text: Text
    scopes: list[Scope] = Field(default_factory=list)
    topics: list[Id] = Field(default_factory=list)


class KnowledgeFile(Strict):
    """One YAML file. Any file may hold any section; the knowledge base is their union."""

    scopes: list[ScopeDef] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    concepts: list[Concept] = Field(default_factory=list)
    # Words that carry no meaning for matching ("hej", "undrar", "please").
    filler: list[NonEmpty] = Field(default_factory=list)
    # Whole messages that are only a greeting, thanks or a call for help.
    greetings: list[NonEmpty] = Field(default_factory=list)
    thanks: list[NonEmpty] = Field(default_factory=list)
    help: list[NonEmpty] = Field(default_factory=list)
    courses: list[Course] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    guidance: list[Guidance] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    cadence_groups: list[CadenceGroup] = Field(default_factory=list)
    clarifications: list[Clarification] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
