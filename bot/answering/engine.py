"""Step 3 of answering: which entry (or entries) answer a question, and why: the decision rules.

A question's `Reading` (concepts, negation, regions, facets, numbers) is compared with each
entry's match keys; an entry whose whole key is present is a *candidate*, its confidence the
weights of that key plus a share of the other concepts it speaks of. BM25 over the entries' own
words (`retrieval`) adds candidates the vocabulary does not know and breaks ties. Then the rules,
in this order, each one mechanism that every entry obeys (`Trace.rule` names the one that
decided):

1. `social`      — a greeting, thanks or call for help alone; `task` — a request to do
                   something ("gör ett schema åt oss"): declined.
2. `region`      — only regions the sources do not cover are named: no-match naming them (with
                   the national rule beside it); `region → national` when the question names the
                   national source or asks whether something is required: the national rule.
3. `facet`       — what is asked (length, credits, price, language ...) must be stated by the
                   answering entry; if no candidate states it: no-match saying which detail the
                   sources do not give about which thing.
4. `number`      — a number in the question ("steg 3") the answering entry never mentions.
5. `several`     — strong candidates resting on different words of the question (two roles,
                   two courses) are answered together.
6. `clarify`     — a clarification entry fits, or different entries rest on the same words:
                   ask back with options (unless retrieval clearly prefers one).
7. `weak`        — the best confidence is below `min_score`, or a lone concept among unknown
                   words: no-match.
8. `answer`      — the best candidate.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from bot.answering.compose import ASKED, Composer, entry_title
from bot.answering.concepts import ConceptMatcher, FuzzySettings
from bot.answering.reading import ALIAS_PREFIX, NEGATIONS, Found, Reading, read
from bot.answering.retrieval import Hit, Retriever, document_text, stem
from bot.knowledge.base import Entry, KnowledgeBase
from bot.knowledge.schema import Clarification, Concept, Course, Role
from bot.language import FIELD_WORDS, FUNCTION_WORDS
from bot.messages import Lang, Option, Reply, Status
from bot.text import fold, normalize
from bot.wording import WORDING

__all__ = ["ALIAS_PREFIX", "Engine", "Found", "MatchSettings", "Trace"]


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Named thresholds, chosen by measurement on the question sets (see README, "Matching")."""

    min_score: float = 1.5  # below this, a candidate is too weak to answer with
    tie_margin: float = 0.35  # different entries this close to the best are asked back about
    mention_bonus: float = 0.25  # share of weight for other question concepts an entry mentions
    max_options: int = 5
    # A match key of a single concept answers only with fewer unknown words than this.
    lone_key_unknown_limit: int = 1
    # ... unless that concept weighs this much: the name of one thing ("Stepping stones", "AKA").
    trusted_concept_weight: float = 4.0
    # Concepts this light ("kurs", "krav", "handleda") are general words: a key of only such
    # concepts is a guess when the question has words its entry never uses.
    generic_weight: float = 1.0
    # A candidate within this share of the best one's confidence is what a question asks about
    # too, when it alone has a heavy concept of the question (the facet rule's rival).
    rival_share: float = 0.85
    # ... and even a heavy one is a guess among this many words no entry uses.
    foreign_words_limit: int = 1
    # This many words no source nor the vocabulary uses, more of them than the concepts a
    # candidate rests on and than the question's other words: it is about something else,
    # whatever it matched.
    foreign_words_outweigh: int = 3
    # A candidate this close to the best whose own text uses the question's unknown words,
    # where the best's does not, is what the question is about.
    own_words_share: float = 0.7
    # A question of at most this many content words that no entry's key fits may be asked
    # back: which of the entries stating what it asks is meant.
    underspecified_words: int = 4
    alias_weight: float = 3.0  # an entry's own alias ("AKA", "ST-handledare") is decisive
    region_bonus: float = 0.5  # "... i Örebro?" prefers Region Örebro län's entry
    option_label_ratio: float = 80.0  # how closely typed words must match an option's label
    # A concept this heavy (or an alias) names a subject: a role, a course, a level of education.
    subject_weight: float = 3.0
    max_subjects: int = 3  # at most this many subjects answered together
    # A concept this heavy, not among a clarification's keys, makes the question specific
    # enough that the clarification is not asked.
    specific_weight: float = 1.0
    # Retrieval: a tie is broken when the best entry scores this many times the next one's BM25.
    retrieval_tie_ratio: float = 1.6
    # Retrieval alone answers only when this share of the question's content words are the
    # entry's own words, and at least `retrieval_min_words` of them.
    retrieval_coverage: float = 0.75
    retrieval_min_words: int = 2
    # A named region with no candidate of its own: its entry answers by retrieval when this
    # share of the question's words (region words aside) are that entry's own.
    regional_coverage: float = 0.6
    # No concept of the domain, and no entry has this share of the question's words: the
    # message is about something else, and gets one line on what the bot is for.
    out_of_domain_share: float = 0.5
    # Another region's entry this much stronger than any of the named region's, resting on a
    # concept none of them speaks of ("steg 3"): the named region has nothing on it.
    region_drop_margin: float = 1.0
    # A role states its courses' facets (length, credits ...) only for a question that speaks
    # of the training or of supervising (these concepts); "hur lång är den praktiska
    # tjänstgöringen?" is not the course's length.
    course_words: tuple[str, ...] = ("course", "supervise")
    # Concepts that ask what supervising takes (a course, a requirement): a question of
    # permission that also asks them is answered with the role's training.
    what_it_takes: tuple[str, ...] = ("course", "requirement", "prerequisite")
    # Concepts that name national guidance (Socialstyrelsen, its support): asked of a
    # region the sources do not cover, the national rule is the answer.
    naming_national: tuple[str, ...] = ("socialstyrelsen", "national_support", "national_level")
    # Concepts that ask whether something is required ("måste ...?", "is it mandatory?").
    asks_required: tuple[str, ...] = ("requirement", "mandatory")
    # The concept of a course's step ("vilket steg?"): what a role takes, like a course.
    step: str = "step_generic"
    fuzzy: FuzzySettings = field(default_factory=FuzzySettings)


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: Entry | Clarification
    score: float
    # The concepts of the key that made this entry a candidate.
    key: tuple[str, ...] = ()
    # How many of the question's concepts the entry speaks of (its key and any other key).
    explained: int = 0
    # The question's word positions its key rests on.
    evidence: frozenset[int] = frozenset()
    # The part of `score` that the named region added.
    region_bonus: float = 0.0


@dataclass(slots=True)
class Trace:
    """Why a question got its reply: what was read, the candidates, the rule that decided."""

    reading: Reading | None = None
    candidates: list[Candidate] = field(default_factory=list)
    retrieval: list[tuple[str, float]] = field(default_factory=list)
    rule: str = ""
    detail: str = ""
    context_used: str = ""

    def lines(self, concepts: Mapping[str, Concept]) -> list[str]:
        out: list[str] = []
        if self.context_used:
            out.append(f"context: {self.context_used}")
        r = self.reading
        if r is not None:
            out.append(f"language: {r.lang}")
            out.append(f"words: {' '.join(r.tokens)}")
            for concept, positions in sorted(r.found.items(), key=lambda i: min(i[1] or {0})):
                words = " ".join(r.tokens[p] for p in sorted(positions))
                c = concepts.get(concept)
                kind = _concept_kind(c, concept)
                out.append(f"  {words!r} -> {concept} ({kind}, weight {_weight(c):g})")
            if r.negated:
                out.append(f"negated: {', '.join(sorted(r.negated))}")
            if r.unknown:
                out.append(f"words not understood: {', '.join(r.unknown)}")
        out.append("candidates:")
        for candidate in self.candidates[:8]:
            out.append(
                f"  {candidate.score:5.2f}  {candidate.entry.id}  key=[{', '.join(candidate.key)}]"
                f"  (key {candidate.score - candidate.region_bonus:.2f}"
                + (f"; region +{candidate.region_bonus:g})" if candidate.region_bonus else ")")
            )
        if not self.candidates:
            out.append("  (none)")
        if self.retrieval:
            hits = ", ".join(f"{i} {s:.2f}" for i, s in self.retrieval)
            out.append(f"retrieval (BM25): {hits}")
        out.append(f"rule: {self.rule}" + (f" — {self.detail}" if self.detail else ""))
        return out


def _concept_kind(concept: Concept | None, concept_id: str) -> str:
    if concept_id.startswith(ALIAS_PREFIX):
        return "alias of " + concept_id[len(ALIAS_PREFIX) :]
    if concept is None:
        return "concept"
    if concept.region:
        return f"region: {concept.region}"
    if concept.detail is not None:
        return "facet"
    return "concept"


def _weight(concept: Concept | None) -> float:
    return concept.weight if concept is not None else 0.0


# Follow-ups: a message that starts like this and names a subject keeps the last facet
# ("och för AT?", "what about BT?"); one that names no subject keeps the last subject.
_FOLLOW_START = re.compile(
    r"^\s*(?:och|samma|men|and|what about|how about|hur är det med|hur ar det med|gäller det|"
    r"galler det|även|aven|also|för|for|om)\b",
    re.I,
)
# Words that point back to what was just said ("hur lång är den?", "is it web-based?").
_ANAPHORA = frozenset(
    {"den", "det", "dem", "denna", "detta", "dessa", "kursen", "utbildningen", "it", "its",
     "that", "this", "they", "them", "those", "one"}
)
# The pointers that alone make a message refer back ("måste jag gå den?"); not "det", which
# Swedish uses for anything ("finns det ...", "vad blir det ...").
_POINTERS = frozenset({"den", "dem", "denna", "dessa", "it", "them", "kursen", "utbildningen"})
# What a role is recommended: "samma rekommendation/kurs/utbildning" compares that.
_RECOMMENDED = re.compile(r"(?:rekommend|recommend|kurs|course|utbildning|handledarutb|training|krav|requirement)")
# Asking the bot to do something ("gör ett schema", "skriv ett mejl", "can you book a room").
_TASK_VERBS = frozenset({
    "gor", "skriv", "skapa", "fixa", "boka", "ordna", "formulera", "oversatt", "make", "write",
    "create", "book", "draft", "generate", "translate", "compose", "gora", "skriva",
})
_INTERROGATIVES = frozenset({
    "hur", "var", "nar", "vad", "vilken", "vilket", "vilka", "vem", "varfor", "how", "where",
    "when", "what", "which", "who", "why",
})
_TASK_OBJECTS = frozenset({
    "ett", "en", "a", "an", "mig", "me", "oss", "us", "nagot", "nat", "something", "min", "mitt",
    "mina", "my", "our",
})


def _asks_for_a_task(tokens: Sequence[str]) -> bool:
    """Whether the message asks the bot to do something ("gör ett jourschema åt oss", "kan du
    skriva ett mejl", "can you write me a ..."): a task verb first (after "kan du / can you /
    please"), then an article or a pronoun."""
    start = 0
    while start < len(tokens) and tokens[start] in ("kan", "du", "can", "you", "could", "please", "snalla", "hej", "hi"):
        start += 1
    if any(t in _INTERROGATIVES for t in tokens):
        return False  # "boka en plats på kursen – hur gör man?" asks how
    if start < len(tokens) and tokens[start] == "gor" and not {"at", "mig", "oss"} & set(tokens):
        return False  # "gör en ST-läkare bedömningen själv?" asks whether
    return start + 1 < len(tokens) and tokens[start] in _TASK_VERBS and (
        tokens[start + 1] in _TASK_OBJECTS
        # "kan du skriva specialistintyget åt min ST-läkare?": done for someone
        or "at" in tokens[start + 2:] or "for" in tokens[start + 2 : start + 3]
    )


# A yes/no question opens with its verb ("måste ...?", "do ... have to ...?", "krävs ...?").
_YES_NO = frozenset({
    "maste", "must", "do", "does", "is", "are", "kravs", "behover", "ska", "skall", "har", "has",
    "have", "galler", "ar",
})
_MENTIONED = frozenset({"namns", "namner", "namnd", "namnt", "omnamns", "mentioned", "mentions", "mention"})
_FOR = frozenset({"at", "for", "till", "to", "of"})
_LABELS = frozenset({"steg", "step", "steps", "del", "part", "kapitel", "chapter", "nr", "nummer"})
_LIST_JOINS = frozenset({"och", "and", "eller", "or", "resp", "respektive", "till", "to"})
_POINTER_PREPOSITIONS = frozenset({"for", "till", "om", "about", "of", "to", "pa", "on"})
_ORDINALS = {
    "forsta": 1, "first": 1, "ettan": 1, "andra": 2, "second": 2, "tvaan": 2, "tredje": 3,
    "third": 3, "trean": 3, "fjarde": 4, "fourth": 4, "femte": 5, "fifth": 5,
}
_LAST = frozenset({"sista", "last"})
# Words around an ordinal that do not choose: "the first one", "alternativ 2".
_OPTION_WORDS = frozenset(
    {"one", "alternativ", "alternativet", "option", "nr", "nummer", "number", "valet", "choice"}
)
_WORK_WORDS = frozenset(
    {"jobbar", "arbetar", "tjanstgor", "work", "works", "working", "based", "sitter"}
)
# Interrogatives whose next word names what is asked for ("vilket artikelnummer", "which fee").
_WHICH = frozenset({"vilken", "vilket", "vilka", "which"})
_ARTICLES = frozenset({"the", "a", "an", "en", "ett"})
# What stands between a facet and what it is asked of ("hur ofta är återträffarna", "hur ofta
# har ni återträffar", "how often are there ...").
_COPULAS = _ARTICLES | frozenset({
    "ar", "is", "are", "de", "den", "det", "har", "ni", "vi", "man", "finns", "there", "do",
    "does", "you", "we", "have", "has", "hold", "haller",
})
# Quantifiers and kinds after "vilka"/"which" that name nothing asked for ("vilka fler ...").
_NOT_FOCUS = frozenset(
    {"fler", "flera", "andra", "annan", "annat", "another", "olika", "sorts", "slags", "other",
     "more", "kind", "kinds",
     "sort", "type", "types",
     # verbs and order words after "vilka"/"which" ("vilka räknas som ...", "which later
     # meetings"): the frame of the question, not the thing asked for
     "raknas", "ingar", "galler", "finns", "behovs", "kravs", "later", "earlier", "senare",
     "tidigare", "forsta", "first", "next", "nasta", "following", "foljande", "ovriga",
     "remaining", "further", "additional", "kortare", "langre", "shorter", "longer",
     "alternativ", "alternative", "alternatives", "besides", "apart", "except", "else",
     "also", "too", "forutom", "utover", "utom", "annars", "ocksa", "aven",
     # verbs of fitting or sufficing after "vilka/which" ("för vilka räcker ...")
     "racker", "passar", "lampar", "funkar", "fungerar", "duger", "enough", "suffices",
     "suffice", "fits", "suits", "works",
     # verbs of aiming ("vilka riktar den sig till?") and of taking part ("vilka satt i ...")
     "riktar", "vander", "aimed", "intended", "meant", "targeted", "satt", "sitter", "deltog",
     # groups of people ("which groups might also get time ...?"): the entry names them by
     # who they are (psychologists in PTP, nurses), not as groups
     "grupper", "groups", "yrkesgrupper", "personalgrupper", "professions"}
)
# Number words that state a count in an entry's text ("fem kompetensområden"); "en", "ett" and
# "one" are left out (articles as often as numbers).
# Numbers written as words (folded), with their digits: "fyra prioriterade områden" states 4.
_NUMBER_VALUES = {
    "tva": "2", "tre": "3", "fyra": "4", "fem": "5", "sex": "6", "sju": "7", "atta": "8",
    "nio": "9", "tio": "10", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
_NUMBER_WORDS = frozenset(_NUMBER_VALUES)
COUNT = "how_many"  # the facet of "hur många"/"how many": a count
WHO = "who"  # the question word of "vem"/"who": a person asked for
# "handledare", "handledaren", "supervisor(s)": the one who supervises, not the verb.
_SUPERVISOR_NOUN = re.compile(r"^(?:handledar(?:e|en|na|nas|es)?|supervisors?)$")
_SUPERVISION_NOUN = re.compile(r"^(?:handledning\w*|supervision\w*)$")
# A question of permission ("får en AT-läkare handleda ...?").
_PERMISSION = frozenset({"far", "kan", "may", "can"})
# The concept naming the detail "who may supervise them" (vocabulary.yaml).
WHO_MAY_SUPERVISE = "who_may_supervise"
_WITHOUT = frozenset({"utan", "without", "saknar", "lacks", "lacking", "ingen", "no"})
_TRAINING = ("utb", "kurs", "course", "training", "handledarutb")


def _supervise_verb(reading: Reading) -> list[int]:
    """The positions, in order, of the verb "handleda/supervise": not a course's name
    ("AT-handledarutbildning") and not the noun ("handledare", "supervisor")."""
    tokens = reading.tokens
    return sorted(
        p for p in reading.found.get("supervise", frozenset())
        - reading.found.get("course", frozenset())
        # "vara handledare åt läkarstudenter" is the verb too.
        if not _SUPERVISOR_NOUN.match(tokens[p]) or (
            0 < p < len(tokens) - 1 and tokens[p - 1] in _BE and tokens[p + 1] in _FOR
        )
    )


def _holder_end(tokens: Sequence[str], *, verb_too: bool) -> int | None:
    """Where the would-be holder of a question of permission ends ("får *pensionerade läkare*
    vara ST-handledare?"): the position of "vara/bli/be" (or, `verb_too`, of the verb
    "handleda/supervise") within its first eight words; None unless it opens with "får/kan/
    may/can"."""
    if not tokens or tokens[0] not in _PERMISSION:
        return None
    return next(
        (i for i, t in enumerate(tokens[:8]) if t in _BE or (verb_too and _VERB_FORM.match(t))),
        None,
    )


def _asks_for_all(tokens: Sequence[str]) -> bool:
    """"Vilka av ... är webbaserade?", "which of the courses are ...?": the question asks for
    every one that fits, not for one of them."""
    return "vilka" in tokens or any(
        t == "which" and any(w.endswith("s") and len(w) > 4 for w in tokens[i + 1 : i + 4])
        for i, t in enumerate(tokens)
    )


def _without_training(tokens: Sequence[str]) -> bool:
    """Whether the words speak of someone without training ("utan handledarutbildning",
    "without any supervisor training")."""
    return any(
        t in _WITHOUT and any(
            any(w.startswith(p) or p in w for p in _TRAINING) for w in tokens[i + 1:i + 4]
        )
        for i, t in enumerate(tokens)
    )


_ONLY = frozenset({"bara", "endast", "enbart", "only", "just"})
# Rules whose no-match is a decision about what the message asks, not a failure to understand
# it: the last answer's subject is not added to such a message to try again.
_DELIBERATE = frozenset({"supervision", "region", "number"})
# "Vem får vara/bli X?", "who is allowed to be X?": who may hold a role, not what it takes.
WHO_MAY_BE = "who_may_be"
_MAY = frozenset({"far", "kan", "may", "can", "allowed", "maste", "must"})
_BE = frozenset({
    "vara", "bli", "be", "become", "act", "agera", "fungera", "serve", "being", "remain",
    "continue", "fortsatta", "forbli", "kvar",
})
# The verb "handleda/supervise" as a verb, not in a compound ("handledarstöd").
_VERB_FORM = re.compile(
    r"\b(?:handleda|handleder|handledas|handleds|handledde|supervise|supervises|supervised|supervising)\b"
)
# Words that qualify what is asked by a comparison the sources may never make ("en specialist i
# en *annan* specialitet", "*samma* specialitet som ST-läkaren", "handledare *samtidigt*",
# "en underläkare *utan leg*"): an answer must speak of them, or the question asks more than it
# says.
_QUALIFIERS = frozenset(
    {"samma", "annan", "annat", "same", "another", "different", "samtidigt", "simultaneously",
     "utan", "without"}
)
# Qualifiers that still stand where several subjects are compared ("samma kurs för AT och BT?"
# is what the several-subjects rule answers; "samtidigt" is not).
_AT_ONCE = frozenset({"samtidigt", "simultaneously"})
# "Finns det parkering ...?", "is there any ...?": what follows is the thing asked for.
_EXISTENTIAL = (("finns", "det"), ("finns", "de"), ("is", "there"), ("are", "there"))
_QUANTIFIERS = frozenset(
    {"nagon", "nagot", "nagra", "nan", "nat", "ngn", "ngt", "any", "some", "en", "ett", "a", "an"}
)
# "Den andra", "the other one": what is left when one is ruled out.
_OTHER = frozenset({"andra", "annan", "annat", "other", "another", "one", "den", "det"})
# "Is lunch included?", "ingår lunch?": what is or is not part of it is asked for.
_INCLUDED = frozenset({"included", "include", "includes", "ingar", "inkluderat", "inkluderad"})
# "Can you recommend a good ...?", "tipsa om ett bra ...": what follows is asked for.
_RECOMMEND_ME = frozenset({"recommend", "suggest", "tipsa", "tips", "foresla"})
_PRAISE = frozenset({"good", "nice", "great", "bra", "trevlig", "trevligt", "mysig", "mysigt", "some", "pa", "om"})
# "Var kan jag ...?", "where can I ...?": the verb that follows is the thing asked for, unless
# it only looks for what the entry is ("hitta", "find", "read").
_WHERE_CAN = (("var", "kan", "jag"), ("where", "can", "i"), ("where", "do", "i"))
_LOOKING = frozenset(
    {"hitta", "find", "read", "lasa", "las", "see", "learn", "lara", "fa", "get", "go", "ga",
     "anmala", "apply", "ansoka", "sign", "register", "registrera", "info", "information",
     "mer", "more", "om", "about"}
)
# "Vem är" / "who is": the verb between an interrogative and the post it asks a name for.
_IS = frozenset({"ar", "is", "heter", "was", "var"})


# A group's score: its weight, the key that made it a candidate, how many of the question's
# concepts it speaks of, and the word positions its key rests on.
_Scored = tuple[float, tuple[str, ...], int, frozenset[int]]


@dataclass(slots=True)
class _Turn:
    """What answering one message has already worked out, for the rules that ask again (the
    region rules decide a question once per region it names): group scores by group and the
    found concepts of its entries, retrieval hits by words and count."""

    scores: dict[tuple[int, tuple[tuple[str, frozenset[int]], ...]], _Scored | None] = field(
        default_factory=dict
    )
    hits: dict[tuple[tuple[str, ...], int], list[Hit]] = field(default_factory=dict)


_TURN: ContextVar[_Turn | None] = ContextVar("turn", default=None)
# A message's opening words set off by a comma, colon or dash ("I Skåne, ...", "Region
# Gotland: ..."), and the rest (`Engine._region_last`).
_OPENING = re.compile(r"^(?P<head>[^,:;?!.\n]{2,40}?)\s*(?:,|:|\s[–—-])\s+(?P<rest>\S.*)$", re.DOTALL)


class Engine:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        settings: MatchSettings | None = None,
        contact_sv: str | None = None,
        contact_en: str | None = None,
        default_region: str | None = None,
        help_extra: Callable[[Lang], Sequence[str]] | None = None,
    ) -> None:
        """`default_region`: the deployment's region (a scope id), used when neither the
        question nor the user's profile names one."""
        self.knowledge = knowledge
        self._default_region = default_region
        self.version = knowledge.version
        self._settings = settings or MatchSettings()
        aliases = _alias_concepts(knowledge, self._settings.alias_weight)
        concepts = [*knowledge.concepts.values(), *aliases]
        facets = frozenset(c.id for c in knowledge.concepts.values() if c.detail is not None)
        self._concepts = ConceptMatcher(concepts, fuzzy=self._settings.fuzzy, exact_only=facets)
        self._weights = {c.id: c.weight for c in concepts}
        # Heaviest first; equal weights by id, so that a sum never depends on the hash seed.
        self._weight_order = {c.id: (-c.weight, c.id) for c in concepts}
        self._details = {c.id for c in knowledge.concepts.values() if c.detail is not None}
        # Concepts that name one thing (weight 4 or more: "Stepping stones", "Högskolepedagogik").
        self._names = frozenset(
            c.id for c in knowledge.concepts.values()
            if c.weight >= self._settings.trusted_concept_weight or c.region is not None
        )
        self._question_words = {c.id for c in knowledge.concepts.values() if c.question_word}
        self._posts = {c.id: c.post for c in knowledge.concepts.values() if c.post}
        self._about_sources = frozenset(c.id for c in knowledge.concepts.values() if c.about_sources)
        self._stated_by = {
            c.id: re.compile(c.stated_by) for c in knowledge.concepts.values() if c.stated_by
        }
        self._course_field = {
            c.id: c.course_field for c in knowledge.concepts.values() if c.course_field
        }
        self._regions: dict[str, str] = {
            c.id: c.region for c in knowledge.concepts.values() if c.region
        }
        # A region steers which guidance answers and is never the subject: its words hide no
        # concept ("enligt Socialstyrelsen" still names Socialstyrelsen).
        self._region_ids = frozenset(self._regions)
        self._filler = frozenset(t for phrase in knowledge.filler for t in normalize(phrase))
        self._ignorable = self._filler | FUNCTION_WORDS
        self._social = _SocialPhrases(knowledge)
        self._broad = [c for c in knowledge.clarifications.values() if c.broad]
        self._entries: list[Entry | Clarification] = [
            *knowledge.answerables(),
            *knowledge.clarifications.values(),
        ]
        # Each entry is indexed under one *anchor* per match key: the key's concept that the
        # fewest entries use. An entry is a candidate only when one of its keys is whole, so a
        # generic concept ("handledning") does not make every entry a candidate.
        self._keys: list[tuple[tuple[str, ...], ...]] = [
            tuple(tuple(key) for key in _keys(e)) for e in self._entries
        ]
        self._key_sets: list[tuple[frozenset[str], ...]] = [
            tuple(frozenset(key) for key in keys) for keys in self._keys
        ]
        self._concepts_of_entry: list[frozenset[str]] = [
            frozenset(c for key in keys for c in key) for keys in self._keys
        ]
        usage: dict[str, int] = {}
        for keys in self._keys:
            for concept in {c for key in keys for c in key}:
                usage[concept] = usage.get(concept, 0) + 1
        # Entries with the same keys (each region's version of an entry) score alike: they form
        # one group, scored once per question. A clarification is a group of its own (whether
        # it is asked depends on it, not only on its keys).
        groups: dict[object, list[int]] = {}
        for index, (entry, keys) in enumerate(zip(self._entries, self._keys, strict=True)):
            groups.setdefault(index if isinstance(entry, Clarification) else keys, []).append(index)
        self._groups: list[list[int]] = list(groups.values())
        self._by_concept: dict[str, list[int]] = {}  # concept -> groups anchored on it
        for group, members in enumerate(self._groups):
            keys = self._keys[members[0]]
            anchors = {min(key, key=lambda c: (usage[c], c)) for key in keys if key}
            for concept in anchors:
                self._by_concept.setdefault(concept, []).append(group)
        # concept -> the entries (not clarifications) with a key holding it, in base order.
        self._keyed_on: dict[str, list[int]] = {}
        for index, keys in enumerate(self._keys):
            if not isinstance(self._entries[index], Clarification):
                for concept in {c for key in keys for c in key}:
                    self._keyed_on.setdefault(concept, []).append(index)
        self._scope_of: list[str | None] = [_scope(e) for e in self._entries]
        self._is_clarification = [isinstance(e, Clarification) for e in self._entries]
        self._group_scopes = [frozenset(self._scope_of[i] for i in g) for g in self._groups]
        self._supervising = [r for r in knowledge.roles.values() if r.supervision is not None]
        # Levels the supervision tables name, as supervisee or supervisor (at, st, specialist).
        self._levels = frozenset(
            c for r in self._supervising if r.supervision
            for c in (r.supervision.supervisee, *r.supervision.supervisors)
        )
        # Entries that say who supervises whom: a supervision table, or the verb in their text.
        self._naming_supervisors = frozenset(
            e.id for e in knowledge.answerables()
            if (isinstance(e, Role) and e.supervision is not None)
            or _VERB_FORM.search(fold(f"{e.text.sv} {e.text.en}"))
        )
        self._counted_nouns: dict[str, tuple[tuple[str, bool], ...]] = {}
        self._spoken: dict[str, frozenset[str]] = {}
        # Every course's match keys (for "is a course ruled out?") and the roles keyed on each
        # concept (for "the other course of this group"), worked out once.
        self._course_keys = frozenset(
            frozenset(key) for course in knowledge.courses.values() for key in course.match
        )
        self._role_order = {role_id: i for i, role_id in enumerate(knowledge.roles)}
        self._roles_keyed_on: dict[str, list[Role]] = defaultdict(list)
        for role in knowledge.roles.values():
            for concept in {c for key in role.match for c in key}:
                self._roles_keyed_on[concept].append(role)
        self._answers: dict[str, frozenset[str]] = {
            e.id: self._facets_of(e) for e in knowledge.answerables()
        }
        # Groups whose entries all state the same facets: another region's of them are pruned
        # to the first (`_candidates`).
        self._prunable = [
            len({self._answers.get(self._entries[i].id) for i in members}) == 1
            for members in self._groups
        ]
        # Each entry's own words (for "how many X" and for retrieval), and the numbers it, its
        # related entries and its courses mention (for "steg 3"): computed once, not per question.
        self._words: dict[str, tuple[str, ...]] = {
            e.id: tuple(normalize(document_text(e))) for e in knowledge.answerables()
        }
        self._retriever = Retriever(
            knowledge.answerables(), ignore=self._ignorable, rank_only=FIELD_WORDS,
            tokens=self._words,
        )
        mentioned: dict[str, frozenset[str]] = {}

        def numbers_of(entry: Entry) -> frozenset[str]:
            found = mentioned.get(entry.id)
            if found is None:
                words = self._words.get(entry.id) or normalize(document_text(entry))
                found = frozenset(
                    t for w in words for t in [_NUMBER_VALUES.get(w, w)] if t.isdigit()
                )
                mentioned[entry.id] = found
            return found

        self._numbers: dict[str, frozenset[str]] = {
            e.id: frozenset().union(
                *(numbers_of(o) for o in [e, *self._related(e), *knowledge.courses_of(e)])
            )
            for e in knowledge.answerables()
        }
        self._composer = Composer(
            knowledge, contact_sv=contact_sv, contact_en=contact_en, help_extra=help_extra
        )

    # --- public API -----------------------------------------------------------------------

    def answer(
        self,
        text: str,
        *,
        context: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> Reply:
        """The reply to `text`. `context` is the previous reply's `context` (follow-ups);
        `profile` what the user told about themselves ({"region": scope id}). A reply whose
        `profile` is set carries what the user just told (to be remembered per user)."""
        return self.explain(text, context=context, profile=profile)[0]

    def explain(
        self,
        text: str,
        *,
        context: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> tuple[Reply, Trace]:
        """The reply and the trace of how it was reached (`handledarbot explain`)."""
        token = _TURN.set(_Turn())
        try:
            return self._explain(text, context, profile)
        finally:
            _TURN.reset(token)

    def _explain(
        self,
        text: str,
        context: Mapping[str, Any] | None,
        profile: Mapping[str, Any] | None,
    ) -> tuple[Reply, Trace]:
        trace = Trace()
        reading = self._read(self._region_last(text))
        social = self._social.kind(list(reading.tokens), self._filler)
        if social is not None:
            trace.reading, trace.rule = reading, "social"
            return self._composer.social(social, reading.lang), trace
        if _asks_for_a_task(reading.tokens):
            # "Gör ett jourschema åt oss", "kan du skriva ett mejl ...?": a task, not a question
            # the sources answer.
            trace.reading, trace.rule = reading, "task"
            return self._composer.no_match(reading.lang, WORDING[reading.lang].not_a_task), trace
        stated = self._stated_region(reading)
        if stated is not None:
            trace.reading, trace.rule = reading, "profile"
            trace.detail = f"the user works in {stated}"
            return self._composer.region_noted(stated, reading.lang), trace
        home = str((profile or {}).get("region") or self._default_region or "") or None
        if home is not None and home in self.knowledge.scopes:
            reading = replace(reading, home=home)
        if not context and self._points_back(reading):
            # "is it web-based?", "när går kursen?" with nothing said before: which one is "it"?
            asked = [c for c in reading.found if c in self._details and c != COUNT]
            back = next(
                (c for c in self.knowledge.clarifications.values() if c.refers_back), None
            )
            why = "points back to nothing said before"
            if back is not None:
                options = [
                    o for o in back.options
                    if not asked or self._states(self.knowledge.entries[o], asked)
                ]
                if len(options) >= 2:
                    trace.reading, trace.rule, trace.detail = reading, "clarify", why
                    narrowed = back.model_copy(update={"options": options})
                    return self._composer.clarification(narrowed, reading.lang, 0.0), trace
            # Fewer than two of those state what is asked: which of the entries keyed on what
            # the message names do.
            pointed = self._pointed_to(reading, asked)
            if len(pointed) >= 2:
                trace.reading, trace.rule = reading, "clarify"
                trace.detail = f"{why}; {len(pointed)} entries keyed on it state it"
                return self._composer.choose_between(pointed, reading.lang, 0.0), trace
        if not context and self._for_it(reading):
            # "is there a template for it?" with nothing said before: a template for what? The
            # entries keyed on what it names, when several are.
            keyed = self._keyed_on_all_named(reading)
            if 2 <= len(keyed) <= self._settings.max_options:
                trace.reading, trace.rule = reading, "clarify"
                trace.detail = f"'for it' points back to nothing said before; {len(keyed)} entries keyed on it"
                return self._composer.choose_between(keyed, reading.lang, 0.0), trace
        followed = self._follow_up(reading, context, trace)
        if followed is not None:
            # The words added from the last answer do not change the user's language.
            reading = replace(followed, home=reading.home, lang=reading.lang, from_context=True)
        trace.reading = reading
        reply = self._decide_for(reading, trace)
        if reply.status is Status.NO_MATCH and not context and trace.rule in ("facet", "weak"):
            # "kursdatum?", "vilket steg?": too little named to know which; ask, do not guess.
            meant = self._underspecified(reading)
            if 2 <= len(meant) <= self._settings.max_options:
                trace.rule = "clarify"
                trace.detail = f"names too little: {len(meant)} entries fit what it names and asks"
                return self._composer.choose_between(meant, reading.lang, 0.0), trace
            explained = {p for ps in reading.found.values() for p in ps}
            if len(meant) == 1 and all(
                self._retriever.grounded(meant[0].id, reading.tokens[p], whole=True)
                if p in explained else self._retriever.known(reading.tokens[p])
                for p in reading.content
            ):
                # "hur ofta ska man göra bedömningar?": one entry is keyed on what it names,
                # states what it asks, and uses every word a concept was read in (not
                # "friskvårdsbidrag" for "bidrag"); its other words are words the sources use.
                single = Trace(reading=reading)
                answered = self._final(meant[0], 0.0, reading, set(), single, "answer (the one entry that fits)")
                if answered.status is Status.ANSWER:
                    return self._with_context(answered, reading), single
        if (
            reply.status is Status.NO_MATCH and context and followed is None
            and (len(reading.content) <= 4 or _FOLLOW_START.match(reading.text))
            and trace.rule not in _DELIBERATE
        ):
            # Standing alone it means nothing we know; with the last subject and facet it may
            # ("och under kliniktjänstgöring?" after "hur ofta ska ST-handledning ske?").
            both = f"{context.get('facet') or ''} – {reading.text} – {context.get('subject') or ''}"
            again = Trace(context_used=f"subject and facet of the last answer: {both!r}")
            widened = replace(
                self._read(both),
                home=reading.home,
                lang=reading.lang,
                from_context=True,
            )
            again.reading = widened
            retry = self._decide_for(widened, again)
            if retry.status is not Status.NO_MATCH:
                return self._with_context(retry, widened), again
        return self._with_context(reply, reading), trace

    def _decide_for(self, reading: Reading, trace: Trace) -> Reply:
        regions = sorted(
            self._regions[c] for c in reading.found
            if c in self._regions and self._regions[c] != "uncovered"
        )
        token = ASKED.set((regions[0] if regions else None, frozenset(reading.found)))
        try:
            return self._decide(reading, trace)
        finally:
            ASKED.reset(token)

    def _read(self, text: str) -> Reading:
        return read(
            text, self._concepts, filler=self._filler, names=self._names,
            ignorable=self._ignorable, transparent=self._region_ids,
        )

    def _region_last(self, text: str) -> str:
        """"I Skåne, vem får vara huvudhandledare för en BT-läkare?" read as "vem får vara
        huvudhandledare för en BT-läkare, i Skåne?": a message opening with nothing but a
        region, set off by a comma, colon or dash, has it moved to the end, where the rules
        that read how a question opens ("vem får ...", "får en ST-läkare ...") find the question
        word first. Any other text is returned as it is."""
        match = _OPENING.match(text)
        if match is None:
            return text
        head, rest = match.group("head"), match.group("rest")
        opening = self._read(head)
        regions = opening.positions_of([c for c in opening.found if c in self._regions])
        if not regions or opening.unknown or not set(opening.content) <= regions:
            return text
        ending = "?" if rest.rstrip().endswith("?") else ""
        return f"{rest.rstrip().rstrip('?').rstrip()}, {head.strip()}{ending}"

    def explain_text(self, text: str, *, context: Mapping[str, Any] | None = None) -> str:
        reply, trace = self.explain(text, context=context)
        lines = trace.lines(self.knowledge.concepts)
        lines.append(f"reply: {reply.status} ({reply.entry_id or reply.kind})")
        return "\n".join(lines)

    def nearest_entry(self, text: str) -> str | None:
        """The id of the entry whose own words are closest to `text` (BM25), or None."""
        hits = self._retriever.search(normalize(text), top=1)
        return hits[0].entry_id if hits else None

    def concepts_of(self, text: str) -> set[str]:
        """The concept ids found in `text` (for coordinators and tests)."""
        return set(self._read(text).found)

    def answer_option(self, value: str, lang: str | None) -> Reply:
        """The reply for an option the user picked; `value` is an entry id."""
        chosen: Lang = "en" if lang == "en" else "sv"
        entry = self.knowledge.entries.get(value)
        if entry is None:
            return self._composer.no_match(chosen)
        reply = self._composer.entry(entry, chosen, score=None, regions=set())
        return _replace_context(reply, {"subject": _subject_words(entry), "facet": "", "entry": entry.id})

    def pick_option(self, options: Sequence[Option], typed: str) -> Option | None:
        """Which of `options` the user meant by `typed`: its number ("2"), an ordinal ("den
        andra", "the second one"), its value, or words that only that option's label has
        ("den på universitetet"). Function words never choose ("och för AT?")."""
        cleaned = typed.strip().rstrip(".)").strip()
        for option in options:
            if cleaned == option.value:
                return option
        tokens = normalize(cleaned)
        digits = [t for t in tokens if t.isdigit()]
        if len(digits) == 1 and len(tokens) <= 3:
            number = int(digits[0])
            return options[number - 1] if 1 <= number <= len(options) else None
        content = [
            t for t in tokens
            if t not in self._ignorable and t not in _ORDINALS and t not in _OPTION_WORDS
        ]
        ordinals = [_ORDINALS[t] for t in tokens if t in _ORDINALS]
        if len(tokens) <= 4 and not content:
            if len(ordinals) == 1 and 1 <= ordinals[0] <= len(options):
                return options[ordinals[0] - 1]
            if any(t in _LAST for t in tokens):
                return options[-1]
        if not content:
            return None
        labels = [set(normalize(o.label)) - self._ignorable for o in options]
        hits = []
        for index, label in enumerate(labels):
            others = set().union(*(lb for i, lb in enumerate(labels) if i != index))
            distinctive = label - others
            if any(_near_word(t, distinctive) for t in content):
                hits.append(index)
        if len(hits) == 1 and len(content) <= 4:
            return options[hits[0]]
        return None

    # --- follow-ups -----------------------------------------------------------------------

    def _follow_up(
        self, reading: Reading, context: Mapping[str, Any] | None, trace: Trace
    ) -> Reading | None:
        """A reading of the message with the last answer's subject or facet added, when the
        message leans on it ("hur lång är den?", "och för AT?")."""
        if not context:
            return None
        subjects = self._subjects(reading)
        facets = [c for c in reading.found if c in self._details]
        last_subject = str(context.get("subject") or "")
        last_facet = str(context.get("facet") or "")
        short = len(reading.content) <= 4
        leaning = bool(facets) or bool(_ANAPHORA & set(reading.tokens)) or bool(
            _FOLLOW_START.match(reading.text)
        )
        if not subjects and last_subject and leaning and not self._named_entry(reading):
            trace.context_used = f"subject of the last answer: {last_subject!r}"
            return self._read(f"{reading.text} – {last_subject}")
        last_rest = str(context.get("rest") or last_facet)
        if subjects and not facets and last_facet and short and _FOLLOW_START.match(reading.text):
            trace.context_used = f"the last question without its subject: {last_rest!r}"
            return self._read(f"{last_rest} – {reading.text}")
        return None

    def _stated_region(self, reading: Reading) -> str | None:
        """"Jag jobbar i Region Skåne", "I work in Stockholm": a covered region named with a
        verb of working and nothing else asked. The scope id, else None."""
        if not any(t in _WORK_WORDS for t in reading.tokens):
            return None
        regions = {self._regions[c] for c in reading.found if c in self._regions}
        others = [c for c in reading.found if c not in self._regions]
        if len(regions) != 1 or others or "?" in reading.text:
            return None
        (region,) = regions
        return region if region in self.knowledge.scopes else None

    def _points_back(self, reading: Reading) -> bool:
        """A short message with "den/det/it" and no subject of its own, nor a word nothing
        knows ("var kan jag parkera när jag går kursen?" is about parking, not a course)."""
        return (
            bool(_POINTERS & set(reading.tokens))
            and len(reading.content) <= 3
            and not any(len(w) >= 4 and not self._retriever.known(w) for w in reading.unknown)
            and any(c not in self._regions for c in reading.found)
            and not self._subjects(reading)
            and not self._named_entry(reading)
        )

    @staticmethod
    def _for_it(reading: Reading) -> bool:
        """A short message whose last words are "for/för/till/om + it/den/det" ("is there a
        template for it?"): what it names is qualified by something never said."""
        tokens = reading.tokens
        return (
            len(reading.content) <= 3 and len(tokens) >= 2
            and tokens[-1] in _POINTERS | {"det"} and tokens[-2] in _POINTER_PREPOSITIONS
        )

    def _named(self, reading: Reading) -> set[str]:
        """The concepts a message names, facets, regions and question words aside."""
        return {
            c for c in reading.found
            if c not in self._details and c not in self._regions and c not in self._question_words
        }

    def _keyed_on_all(self, named: set[str]) -> list[Entry]:
        """The entries with a match key holding every concept of `named` (non-empty), in
        knowledge-base order; looked up from the concept fewest entries are keyed on."""
        rarest = min(named, key=lambda c: len(self._keyed_on.get(c, ())))
        keyed: list[Entry] = []
        for index in self._keyed_on.get(rarest, ()):
            entry = self._entries[index]
            assert not isinstance(entry, Clarification)  # `_keyed_on` holds entries only
            if any(named <= set(key) for key in self._keys[index]):
                keyed.append(entry)
        return keyed

    def _keyed_on_all_named(self, reading: Reading) -> list[Entry]:
        """The entries with a match key holding every concept the message names."""
        named = self._named(reading)
        return self._keyed_on_all(named) if named else []

    def _pointed_to(self, reading: Reading, asked: Sequence[str]) -> list[Entry]:
        """The entries a message pointing back to nothing could mean: those with a match key
        holding every concept it names (facets, regions and question words aside) that state
        every facet asked; at most `max_options`, in knowledge-base order. Empty when it asks
        for no facet or names nothing."""
        named = self._named(reading)
        if not asked or not named:
            return []
        pointed = [e for e in self._keyed_on_all(named) if self._states(e, asked)]
        return pointed[: self._settings.max_options]

    def _underspecified(self, reading: Reading) -> list[Entry]:
        """The entries a short question that names too little could mean ("kursdatum?",
        "vilket steg?", "how long is the training for people with a pedagogical role?"): those
        with a match key holding every concept it names that state every facet it asks (all
        entries when it names nothing but a facet). Empty when it is long, uses a word no
        source uses, names a region or a doctor's level, counts, or negates anything."""
        if (
            len(reading.content) > self._settings.underspecified_words or reading.negated
            or any(len(w) >= 4 and not self._retriever.known(w) for w in reading.unknown)
            or any(c in self._regions or c in self._levels for c in reading.found)
        ):
            # A region named is specific enough; a doctor's level ("hur lång är BT?") names a
            # training of its own the sources do not describe; a count asks for a number.
            return []
        asked = [c for c in reading.found if c in self._details and c != COUNT]
        every = self._named(reading)
        named = {c for c in every if self._weights.get(c, 0) > self._settings.generic_weight / 2}
        if not named and not asked:
            return []
        if not named:
            # "kursdatum?": only a light concept beside the facet; it still narrows the entries.
            named = {c for c in every if not c.startswith(ALIAS_PREFIX)}
        pool = self._keyed_on_all(named) if named else [e for e in self.knowledge.answerables() if e.match]
        meant = [e for e in pool if self._states(e, asked)]
        explained = {p for ps in reading.found.values() for p in ps}
        rest = [reading.tokens[p] for p in reading.content if p not in explained]
        if any(not any(self._retriever.grounded(e.id, w) for e in meant) for w in rest):
            return []  # "semester", "PTP-psykologer": a word none of them uses is what is asked
        return meant

    def _named_entry(self, reading: Reading) -> bool:
        """Whether the message names something of its own that some entry is about."""
        return bool(self._subject_concepts(reading))

    def _with_context(self, reply: Reply, reading: Reading) -> Reply:
        if reply.kind in ("help", "profile"):
            return reply
        if reply.status is not Status.ANSWER or reply.kind != "knowledge":
            # Nothing answered: nothing for a follow-up to lean on (an empty context clears
            # the conversation's).
            return _replace_context(reply, {})
        subject_positions = reading.positions_of(self._subjects(reading))
        facet_positions = reading.positions_of([c for c in reading.found if c in self._details])
        entry = self.knowledge.entries.get(reply.entry_id or "")
        subject = " ".join(reading.tokens[p] for p in sorted(subject_positions))
        if not subject and entry is not None:
            subject = _subject_words(entry)
        facet = " ".join(reading.tokens[p] for p in sorted(facet_positions))
        # The question without its subject ("hur lång är handledarutbildningen för"): what a
        # follow-up naming a new subject ("och för AT?") asks again.
        rest = " ".join(
            t for i, t in enumerate(reading.tokens)
            if i not in subject_positions and not t.isdigit()
        )
        return _replace_context(
            reply, {"subject": subject, "facet": facet, "rest": rest, "entry": reply.entry_id}
        )

    def _subjects(self, reading: Reading) -> list[str]:
        return [
            c
            for c in reading.found
            if c.startswith(ALIAS_PREFIX)
            or (self._weights.get(c, 0) >= self._settings.subject_weight
                and c not in self._details and c not in self._regions)
        ]

    # --- the rules ------------------------------------------------------------------------

    def _decide(self, reading: Reading, trace: Trace) -> Reply:
        lang = reading.lang
        concepts = set(reading.found)
        regions = {self._regions[c] for c in concepts if c in self._regions}
        uncovered = sorted(c for c in concepts if self._regions.get(c) == "uncovered")
        covered = regions - {"uncovered"}
        # A region named, else the user's or the deployment's own: its guidance first.
        favoured = covered or ({reading.home} if reading.home and not regions else set())
        candidates = self._candidates(reading, favoured, prune=True)
        if reading.negated:
            # "Except the intro course, which Stockholm courses are web-based?": an entry the
            # ruled-out words alone name is not asked about.
            ruled_out = set(reading.negated)
            candidates = [
                c for c in candidates
                if isinstance(c.entry, Clarification)
                or not any(set(key) <= ruled_out for key in c.entry.match)
                or self._named_apart_from(c.entry, reading)
            ]
        excluded = {self._regions[c] for c in reading.negated if c in self._regions} - covered
        if excluded:
            # "Inte Örebro – vad rekommenderar Stockholm?": that region's guidance is not asked.
            candidates = [c for c in candidates if _scope(c.entry) not in excluded]
        elsewhere = candidates
        if favoured:
            # Its own (or national) guidance answers, never another region's passed off as
            # it, when it has any.
            homes = favoured | {"national", None}
            own = [c for c in candidates if _scope(c.entry) in homes]
            dropped = [
                c for c in candidates
                if _scope(c.entry) not in homes and not isinstance(c.entry, Clarification)
            ]
            if (
                own and covered and dropped and not uncovered
                and dropped[0].score >= own[0].score + self._settings.region_drop_margin
            ):
                lost = self._unexplained_subject(dropped[0], own, reading)
                if lost:
                    trace.candidates = candidates
                    regional = self._regional_retrieval(reading, trace, covered, whole_subject=True)
                    if regional is not None:
                        # The region's own page speaks of it, by words no key names.
                        return regional
                    # What was asked ("steg 3") only another region's guidance speaks of.
                    trace.candidates = self._candidates(reading, favoured)
                    trace.rule = "region"
                    trace.detail = f"only {dropped[0].entry.id} speaks of {', '.join(lost)}"
                    first = dropped[0].entry
                    assert not isinstance(first, Clarification)
                    return self._composer.other_region_only(first, covered, lang)
            if own and covered - {"national"} and not uncovered and self._subject_concepts(reading) and all(
                _scope(c.entry) in ("national", None) for c in own
            ) and not (
                concepts & self._details
            ) - set(reading.negated):
                # Only national guidance among the candidates, but the named region has its
                # own rule whose words the question uses ("krav för ST-handledare i Örebro"):
                # the region's, which applies the national one there.
                trace.candidates = candidates
                regional = self._regional_retrieval(reading, trace, covered, whole_subject=True)
                if regional is not None:
                    return regional
            if own:
                candidates = own
            elif (
                covered and candidates and not (concepts & self._details) - set(reading.negated)
                and self._role_asked_who_may_be(reading) is None
                and not self._supervisee_unknown_in(self._who_supervises(reading), covered)
            ):
                # Nothing of the named region among the candidates: its entry whose own words
                # the question uses ("bedömningstillfällen ... i Örebro"), before another's. Not
                # for who may hold a role or whom a level may supervise: any page of the region
                # speaking of BT or of ST supervisors is no answer to that.
                trace.candidates = candidates
                if uncovered:
                    # "Har Gotland en studierektorsgrupp som Örebro?": about the uncovered
                    # region; what the covered one's page says comes beside the no-match.
                    found = self._regional_entry(reading, covered)
                    trace.rule, trace.detail = "region", f"no sources from {', '.join(uncovered)}"
                    return self._composer.region_not_covered(
                        uncovered, lang, compared=found[0] if found else None
                    )
                # (the region's entry must speak of the question's heaviest subjects: Skåne's
                # ST toolkit is no answer about supervising nursing students)
                regional = self._regional_retrieval(reading, trace, covered, heavy_subject=True)
                if regional is not None:
                    return regional
        trace.candidates = candidates
        if uncovered:
            national = None if covered - {"national"} else self._national_rule(reading, uncovered)
            if national is not None:
                # A national rule applies there too. Asked of the national rule itself
                # ("jobbar i Dalarna – vad ska en ST-handledarutbildning ta upp enligt
                # Socialstyrelsen?") it is the answer; asked of the region ("vilken utbildning
                # krävs i Uppsala?") the region's own rule is still unknown: a no-match that
                # gives the national one.
                trace.detail = f"no sources from {', '.join(uncovered)}; {national.entry_id}"
                if concepts & set(self._settings.naming_national) or (
                    self._asks_yes_or_no(reading) and concepts & set(self._settings.asks_required)
                ):
                    # ... or asked whether something is required ("måste ST-handledare i
                    # Västerbotten ha gått handledarutbildning?"): the national rule says.
                    trace.rule = "region → national"
                    return self._composer.national_applies(uncovered, national, lang)
                trace.rule = "region"
                return self._composer.region_not_covered(uncovered, lang, national=national)
            # Named beside a region we do cover ("like Örebro does"), the question is still
            # about the uncovered one: say so, and what the covered region's source says.
            trace.rule, trace.detail = "region", f"no sources from {', '.join(uncovered)}"
            compared = next(
                (c.entry for c in candidates
                 if not isinstance(c.entry, Clarification) and c.entry.scope in covered),
                None,
            )
            return self._composer.region_not_covered(uncovered, lang, compared=compared)
        if len(covered) > 1 and not reading.from_context:
            # "Skillnad mellan Stockholm och Örebro för ST-handledare?": each region's own.
            by_region = self._per_region(reading, covered, trace)
            if by_region is not None:
                return by_region
        if (
            concepts & self._about_sources and not reading.from_context
            and WHO not in concepts
            and not (concepts & self._details) - self._about_sources - set(reading.negated)
        ):
            # "När granskades Stockholms sida?", "vilka källor har du?": the sources themselves
            # (titles and dates: "who wrote it and when was it updated?" asks for more).
            trace.rule, trace.detail = "sources", ", ".join(sorted(covered)) or "every region"
            return self._composer.source_list(covered, lang)
        told = {c for c in concepts if reading.found[c] <= reading.told}  # context, not asked
        asked = sorted(
            ((concepts & self._details) - told | self._names_asked(reading)) - set(reading.negated)
        )
        if COUNT in asked and len(asked) > 1:
            asked.remove(COUNT)  # "hur många dagar": the count is the length asked
        if COUNT in asked:
            # "How many seminars ...?" is stated by an entry saying "2 seminarier".
            counted = [
                c for c in candidates
                if not isinstance(c.entry, Clarification) and self._counts(c.entry, reading)
            ]
            if counted:
                asked.remove(COUNT)
                listed = {id(c) for c in counted}
                candidates = counted + [c for c in candidates if id(c) not in listed]
        if reading.negated and asked and candidates and not reading.from_context:
            others = self._other_courses(reading, candidates, asked)
            if len(others) == 1:
                # "Inte Stepping stones utan den längre högskolekursen – hur söker jag?"
                return self._final(others[0], 0.0, reading, covered, trace, "answer (the other course)")
            if 2 <= len(others) <= self._settings.max_options:
                trace.rule, trace.detail = "clarify", "the other courses: " + ", ".join(c.id for c in others)
                return self._composer.choose_between(others, lang, 0.0)
        if (
            asked and candidates and not reading.from_context
            and not (concepts & set(self._settings.course_words))
        ):
            # "Hur lång är den praktiska tjänstgöringen?": a role states its course's length,
            # not the length of everything else it names.
            asked_course = [a for a in asked if a in self._course_field]
            if asked_course:
                candidates = [
                    c for c in candidates
                    if not isinstance(c.entry, Role)
                    or ALIAS_PREFIX + c.entry.id in concepts  # the role named: its training
                    or set(asked_course) <= set(c.entry.answers) | {k for key in c.entry.match for k in key}
                ]
                if not candidates:
                    trace.rule, trace.detail = "facet", "a course's facet, and no course asked about"
                    return self._composer.unsupported_detail(set(asked_course), None, lang)
        if asked and candidates:
            stating = [c for c in candidates if self._states(c.entry, asked)]
            top = candidates[0]
            if stating and not isinstance(top.entry, Clarification) and stating[0] is not top:
                lost = self._unexplained_subject(top, stating, reading)
                if lost:
                    trace.rule = "facet"
                    trace.detail = (
                        f"{top.entry.id} is what {', '.join(lost)} asks about and does not state "
                        f"{', '.join(asked)}"
                    )
                    missing = [d for d in asked if d not in self._answers.get(top.entry.id, ())]
                    return self._composer.unsupported_detail(set(missing), top.entry, lang)
            if stating and stating[0] is top:
                # "Hur ofta är återträffarna ...?": the facet is asked of what follows it; an
                # entry keyed on that, which does not state it, is what the question is about.
                owner = self._facet_owner(top, candidates, reading, asked)
                if owner is not None:
                    trace.rule = "facet"
                    trace.detail = f"{', '.join(asked)} is asked of {owner.entry.id}, which does not state it"
                    missing = [d for d in asked if d not in self._answers.get(owner.entry.id, ())]
                    return self._composer.unsupported_detail(set(missing or asked), owner.entry, lang)
                # "Vem är studierektor på ortopeden?": the group's entry names a person, but the
                # orthopaedic clinic, what is asked about too, is another entry's, which names none.
                states = {id(c) for c in stating}
                for rival in candidates:
                    if (
                        id(rival) in states or isinstance(rival.entry, Clarification)
                        or rival.score < top.score * self._settings.rival_share
                    ):
                        continue
                    lost = [
                        c for c in self._unexplained_subject(rival, stating, reading)
                        if self._weights.get(c, 0) >= self._settings.trusted_concept_weight
                    ]
                    if lost:
                        trace.rule = "facet"
                        trace.detail = (
                            f"{rival.entry.id} is what {', '.join(lost)} asks about and does not "
                            f"state {', '.join(asked)}"
                        )
                        missing = [d for d in asked if d not in self._answers.get(rival.entry.id, ())]
                        return self._composer.unsupported_detail(set(missing), rival.entry, lang)
            if not stating:
                other = next(
                    (c.entry for c in elsewhere
                     if not isinstance(c.entry, Clarification) and self._states(c.entry, asked)),
                    None,
                )
                if other is not None and favoured and other.scope not in favoured:
                    trace.detail = f"{', '.join(sorted(favoured))} states no {', '.join(asked)}; {other.id} does"
                    if covered:
                        # Named region: nothing there; another region's guidance, as such.
                        trace.rule = "region"
                        return self._composer.other_region_only(other, covered, lang)
                    # The user's own region has nothing: another's, said to be so.
                    return self._final(other, 0.0, reading, set(), trace, "answer (other region)")
                subject = next(
                    (c.entry for c in candidates if not isinstance(c.entry, Clarification)), None
                )
                missing = [d for d in asked if subject is None or d not in self._answers.get(subject.id, ())]
                trace.rule = "facet"
                trace.detail = f"no candidate states {', '.join(missing or asked)}"
                return self._composer.unsupported_detail(set(missing or asked), subject, lang)
            candidates = stating
        elif asked and not candidates:
            other = self._the_other_one(reading, asked)
            if other is not None:
                # "Not the orthopaedic medicine course, the other one in April – when is it?"
                return self._final(other, 0.0, reading, covered, trace, "answer (the other one)")
            broad = self._broad_question(reading)
            if broad is not None:
                # "Hur ofta?" alone: the sources say it of several things; which is meant?
                trace.rule, trace.detail = "clarify", f"only a facet: {broad.id}"
                return self._composer.clarification(broad, lang, 0.0)
            trace.rule, trace.detail = "facet", f"nothing is about this; asked {', '.join(asked)}"
            return self._composer.unsupported_detail(set(asked), None, lang)
        if not candidates:
            return self._retrieval_only(reading, trace, covered)
        best = candidates[0]
        stranger = self._unknown_would_be(reading) or self._unlisted_holder(reading, best)
        if stranger is not None and not isinstance(best.entry, Clarification):
            # "Får pensionerade läkare vara ST-handledare?": whoever the sources name, they
            # never speak of "pensionerade".
            trace.rule, trace.detail = "supervision", f"no source speaks of {stranger!r}"
            return self._composer.unstated_word(stranger, best.entry, lang)
        if self._supervisee_never_named(reading):
            # "Får en sjuksköterska vara handledare för en PTP-psykolog?": whoever asks, no
            # source speaks of supervising them; not a question back about whom.
            trace.rule, trace.detail = "supervision", "no source names who would be supervised"
            return self._composer.unsupported_detail({WHO_MAY_SUPERVISE}, None, lang)
        supervision = self._who_supervises(reading)
        unlisted = None if supervision else (
            self._unlisted_supervisee(reading, candidates)
            or self._profession_asked_to_supervise(reading, best)
            or self._who_may_supervise(reading, best)
        )
        if unlisted is not None:
            # "Får en AT-läkare handleda läkarstudenter?": no source's table covers them.
            trace.rule, trace.detail = "supervision", f"{unlisted.id} lists no supervisors"
            return self._composer.unsupported_detail({WHO_MAY_SUPERVISE}, unlisted, lang)
        if supervision:
            if self._supervisee_unknown_in(supervision, covered):
                # "I Region Örebro län, får en ST-läkare handleda AT-läkare?": only another
                # region's table says, and it is not the named region's rule.
                trace.rule = "region"
                trace.detail = f"only {supervision[0][0].id} says who supervises whom"
                return self._composer.other_region_only(supervision[0][0], covered, lang)
            qualified = self._qualifier_not_stated([r for r, _ in supervision], reading)
            if qualified:
                # "Kan en specialist i en annan specialitet vara huvudhandledare för min ST?":
                # the table says who, never which specialty.
                trace.rule, trace.detail = "supervision", f"the table never speaks of {qualified!r}"
                return self._composer.unstated_word(qualified, supervision[0][0], lang)
            trace.rule = "supervision"
            trace.detail = ", ".join(f"{r.id}: {'yes' if ok else 'listed'}" for r, ok in supervision)
            return self._composer.supervision(supervision, lang, best.score)
        role = self._role_asked_who_may_be(reading)
        if role is not None and WHO_MAY_BE in self.knowledge.concepts:
            spoken = [reading.tokens[p] for p in sorted(reading.found[role])]
            holds = [
                c for c in candidates
                if not isinstance(c.entry, Clarification) and (
                    role in c.key
                    or all(self._retriever.grounded(c.entry.id, w) for w in spoken)
                )
            ][:3]
            # "..., which step do they need?": what it takes is asked too, and the role's own
            # entry recommends a course ("vem får vara extern bedömare i BT, vilka krav finns?"
            # has none: still refused).
            takes = any(
                c in reading.found for c in (*self._settings.what_it_takes, self._settings.step)
            ) and any(
                isinstance(c.entry, Role) and self.knowledge.courses_of(c.entry) for c in holds
            )
            if holds and not takes and not any(self._names_who_may_be(c.entry, reading) for c in holds):  # type: ignore[arg-type]
                # "Vem får bli studierektor?", "who can be an external assessor in BT?": what
                # the role does is described, never who may hold it (by the entries keyed on
                # it or speaking of it: "enligt VO-college-stegen" names who may supervise YH).
                trace.rule, trace.detail = "facet", f"{holds[0].entry.id} says nothing of who may hold it"
                return self._composer.unsupported_detail({WHO_MAY_BE}, holds[0].entry, lang)
        several = self._several(candidates, reading)
        if len(several) > 1 and all(
            self._focus_not_stated(c.entry, reading) for c in several  # type: ignore[arg-type]
        ):
            focus = self._focus_not_stated(several[0].entry, reading)  # type: ignore[arg-type]
            trace.rule, trace.detail = "facet", f"none of the subjects speaks of {focus!r}"
            return self._composer.unstated_word(str(focus), several[0].entry, lang)  # type: ignore[arg-type]
        if len(several) > 1:
            at_once = self._qualifier_not_stated(
                [c.entry for c in several], reading,  # type: ignore[misc]
                # A question of permission ("får en underläkare utan legitimation handleda
                # ...?") is qualified by any of them; a comparison ("samma kurs för AT och
                # BT?") only by "samtidigt".
                _QUALIFIERS if reading.tokens and reading.tokens[0] in _PERMISSION else _AT_ONCE,
            )
            if at_once:
                # "Får studierektorn vara handledare för ST-läkare samtidigt?": both roles are
                # described, never whether one person may hold them at once.
                trace.rule, trace.detail = "facet", f"none of the subjects speaks of {at_once!r}"
                return self._composer.unstated_word(at_once, several[0].entry, lang)  # type: ignore[arg-type]
            # The named region's own guidance first, then what applies nationally.
            several.sort(key=lambda c: _scope(c.entry) not in covered)
            trace.rule = "several"
            trace.detail = ", ".join(c.entry.id for c in several)
            return self._composer.entries([c.entry for c in several], lang, best.score, covered)  # type: ignore[misc]
        if isinstance(best.entry, Clarification):
            if self._lone_guess(best, reading):
                retrieved = self._retrieval_only(reading, trace, covered)
                if retrieved.status is not Status.NO_MATCH:
                    return retrieved
                trace.rule, trace.detail = "weak", "a lone word among unknown ones"
                return self._composer.no_match(lang)
            clarification = best.entry
            if asked:
                options = [
                    o for o in clarification.options
                    if self._states(self.knowledge.entries[o], asked)
                ]
                if len(options) == 1:
                    entry = self.knowledge.entries[options[0]]
                    return self._final(entry, best.score, reading, covered, trace, "clarify→facet")
                clarification = clarification.model_copy(update={"options": options})
            preferred = self._retrieval_choice(reading, clarification.options, trace)
            if preferred is not None:
                return self._final(preferred, best.score, reading, covered, trace, "clarify→retrieval")
            foreign = [
                w for w in reading.unknown
                if len(w) >= 4 and not any(
                    self._retriever.grounded(o, w) for o in clarification.options
                )
            ]
            if len(foreign) >= 2:
                # "Can a psychologist supervise PTP psychologists?": none of the options speaks
                # of what the question is about; offering them would answer something else.
                trace.rule, trace.detail = "weak", f"no option speaks of {', '.join(foreign)}"
                return self._composer.no_match(lang)
            trace.rule = "clarify"
            return self._composer.clarification(clarification, lang, best.score)
        close = [
            c
            for c in candidates
            if best.score - c.score <= self._settings.tie_margin
            and not isinstance(c.entry, Clarification)
        ]
        if len(close) > 1 and not reading.unknown and best.score < self._settings.min_score:
            # Every word understood, and it fits several entries alike ("hur många timmar är
            # webbkursen?" – there are two): asking back is never a wrong answer.
            trace.rule, trace.detail = "clarify", "a broad question that fits several entries"
            entries = [c.entry for c in close[: self._settings.max_options]]
            return self._composer.choose_between(entries, lang, best.score)  # type: ignore[arg-type]
        if best.score < self._settings.min_score or self._lone_guess(best, reading):
            broad = self._broad_question(reading)
            if broad is not None:
                trace.rule, trace.detail = "clarify", f"only general words: {broad.id}"
                return self._composer.clarification(broad, lang, best.score)
            if reading.unknown:
                # Words the vocabulary does not know may be an entry's own ("pilotprojekt").
                retrieved = self._retrieval_only(reading, trace, covered)
                if retrieved.status is not Status.NO_MATCH:
                    return retrieved
            trace.rule = "weak"
            trace.detail = f"best {best.score:.2f} < {self._settings.min_score}" if best.score < self._settings.min_score else "a lone concept among unknown words"
            return self._composer.no_match(lang)
        close = [
            c
            for c in candidates
            if best.score - c.score <= self._settings.tie_margin
            and not isinstance(c.entry, Clarification)
        ]
        if len(close) > 1:
            by_name = [c for c in close if ALIAS_PREFIX + c.entry.id in reading.found]
            if len(by_name) == 1:
                # "högskolepedagogik VFU-kursen, hur många veckor?": the course named by its
                # own name, not the role whose words it shares.
                return self._final(
                    by_name[0].entry, best.score, reading, covered, trace, "tie→name"  # type: ignore[arg-type]
                )
        if len(close) > 1:
            widest = [
                c for c in close
                if all(set(o.key) < set(c.key) for o in close if o is not c)
            ]
            if len(widest) == 1:
                # "vad bör en handledarutbildning för ST innehålla?": both rest on the same
                # words, but one key accounts for everything the other's does and more (the
                # training, not only supervising ST).
                return self._final(
                    widest[0].entry, best.score, reading, covered, trace, "tie→wider key"  # type: ignore[arg-type]
                )
        if len(close) > 1 and reading.numbers:
            # "vad ger steg 1, steg 2 resp steg 3 ...?": an entry whose own words never
            # mention a number asked about is not among those meant, when another's mention
            # them all.
            numbered = [
                c for c in close
                if set(reading.numbers) <= {
                    _NUMBER_VALUES.get(w, w) for w in self._words.get(c.entry.id, ())
                }
            ]
            close = numbered or close
            if len(numbered) == 1:
                return self._final(
                    numbered[0].entry, best.score, reading, covered, trace, "tie→number"  # type: ignore[arg-type]
                )
        wanted = set(asked) | (set(reading.found) & self._question_words)
        facet_keyed = [c for c in close if set(c.key) & wanted]
        if len(close) > 1 and len(facet_keyed) == 1:
            # Only one of them is keyed on what is asked ("hur många", "hur lång"): that one.
            return self._final(
                facet_keyed[0].entry, best.score, reading, covered, trace, "tie→facet"  # type: ignore[arg-type]
            )
        if len(close) > 1:
            keyed = {k for c in close for k in c.key}
            preferred = self._retrieval_choice(reading, [c.entry.id for c in close], trace, keyed)
            if preferred is not None:
                return self._final(preferred, best.score, reading, covered, trace, "tie→retrieval")
            entries = [c.entry for c in close[: self._settings.max_options]]
            if _asks_for_all(reading.tokens) and not asked:
                # "Vilka av Stockholms rekommenderade utbildningar är webbaserade?": asked in
                # the plural, the entries that rest on the same words are the answer.
                trace.rule, trace.detail = "several", "asked for all that fit: " + ", ".join(e.id for e in entries)
                return self._composer.entries(entries, lang, best.score, covered)  # type: ignore[arg-type]
            trace.rule = "clarify"
            trace.detail = "different entries rest on the same words"
            return self._composer.choose_between(entries, lang, best.score)  # type: ignore[arg-type]
        closer = self._own_words_rival(best, candidates, reading)
        if closer is not None:
            # "Who was in the expert group behind Socialstyrelsen's support?": "expert" is the
            # support entry's own word, not the one naming who led the work.
            return self._final(closer.entry, closer.score, reading, covered, trace, "answer→own words")  # type: ignore[arg-type]
        return self._final(best.entry, best.score, reading, covered, trace, "answer")

    def _own_words_rival(
        self, best: Candidate, candidates: Sequence[Candidate], reading: Reading
    ) -> Candidate | None:
        """A close candidate whose own text uses words of the question that no concept
        explains and the best one's never does: that one is what is asked about."""
        words = [w for w in reading.unknown if len(w) >= 4]
        if not words or any(self._retriever.grounded(best.entry.id, w) for w in words):
            return None
        for c in candidates:
            if (
                c is best or isinstance(c.entry, Clarification)
                or c.score < best.score * self._settings.own_words_share
            ):
                continue
            if any(self._retriever.grounded(c.entry.id, w) for w in words):
                return c
        if len(words) >= 2:
            # No candidate uses them: an entry whose own words hold every one of them and
            # every word the best one was chosen by ("komplettera en befintlig kurs med vissa
            # delar av stödet").
            chosen = [reading.tokens[p] for p in sorted(best.evidence)]
            for hit in self._search([reading.tokens[p] for p in reading.content], top=3):
                if hit.entry_id == best.entry.id:
                    continue
                if all(self._retriever.grounded(hit.entry_id, w) for w in [*words, *chosen]):
                    return Candidate(entry=self.knowledge.entries[hit.entry_id], score=best.score)
        return None

    def _final(
        self, entry: Entry, score: float, reading: Reading, regions: set[str], trace: Trace, rule: str
    ) -> Reply:
        focus = self._focus_not_stated(entry, reading)
        if focus:
            # "Vilket artikelnummer har ...?": what is asked for is a word the entry never uses.
            trace.rule, trace.detail = "facet", f"{entry.id} never speaks of {focus!r}"
            return self._composer.unstated_word(focus, entry, reading.lang)
        qualified = self._qualifier_not_stated([entry], reading)
        if qualified:
            # "Måste huvudhandledaren ha samma specialitet ...?": the entry never compares.
            trace.rule, trace.detail = "facet", f"{entry.id} never speaks of {qualified!r}"
            return self._composer.unstated_word(qualified, entry, reading.lang)
        missing = self._numbers_not_stated(entry, reading)
        if missing:
            trace.rule, trace.detail = "number", f"{entry.id} never mentions {', '.join(missing)}"
            return self._composer.unstated_number(missing, entry, reading.lang)
        if (
            regions and entry.scope != "national" and entry.scope not in regions
            and not self._speaks_of_region(entry, reading)
        ):
            # The text would say "nothing for the region you asked about": so does the status.
            # Who may hold a role ("vem får vara handledare för BT-läkare i Örebro?") is not
            # answered by whatever page of the region speaks of BT.
            if self._role_asked_who_may_be(reading) is None:
                own = self._regional_retrieval(reading, trace, regions)
                if own is not None:
                    return own
            trace.rule, trace.detail = "region", f"{entry.id} is {entry.scope}'s, not the asked region's"
            return self._composer.other_region_only(entry, regions, reading.lang)
        trace.rule = rule
        if not regions and reading.home and entry.scope not in (reading.home, "national"):
            # Not asked about a region, but the user works in one the answer is not from:
            # say so first (the answer is still the question's answer).
            regions = {reading.home}
        return self._composer.entry(entry, reading.lang, score=score, regions=regions)

    def _speaks_of_region(self, entry: Entry, reading: Reading) -> bool:
        """Whether the entry's own text names the region the question names (Region Örebro
        län's strategy on a pilot in Region Skåne is about Skåne)."""
        words = [
            reading.tokens[p] for c, ps in reading.found.items() if c in self._regions for p in ps
        ]
        return any(self._retriever.grounded(entry.id, w) for w in words if w != "region")

    def _regional_retrieval(
        self, reading: Reading, trace: Trace, regions: set[str], *, whole_subject: bool = False,
        heavy_subject: bool = False,
    ) -> Reply | None:
        """A named region none of whose entries is a candidate: the region's entry whose own
        words cover most of the question, if any does well enough (with `whole_subject`, only
        one that also speaks of every specific concept the question names; with
        `heavy_subject`, of the heaviest naming whom a role is for: `_speaks_of_subject`)."""
        found = self._regional_entry(
            reading, regions, whole_subject=whole_subject, heavy_subject=heavy_subject
        )
        if found is None:
            return None
        entry, score = found
        trace.retrieval = [(entry.id, score)]
        unstated = self._facets_not_stated(entry, reading)
        if unstated:
            # "Hur många timmar per gång ska ST-handledningen i Örebro vara?": the region's
            # page on time for supervision gives no length of a session.
            trace.rule, trace.detail = "facet", f"{entry.id} does not state {', '.join(unstated)}"
            return self._composer.unsupported_detail(set(unstated), entry, reading.lang)
        return self._final(entry, score, reading, regions, trace, "retrieval→region")

    def _other_courses(
        self, reading: Reading, candidates: Sequence[Candidate], asked: Sequence[str]
    ) -> list[Entry]:
        """"Inte Skolverkets kurs, utan den andra för gymnasie/vux – hur lång?": a course ruled
        out and a course's facet asked of a group a role candidate is keyed on. The courses of
        the roles keyed on that group (same region), less those the ruled-out words name, that
        state what is asked; empty when no course is ruled out."""
        ruled_out = set(reading.negated)
        if not any(c.startswith(ALIAS_PREFIX) and c[len(ALIAS_PREFIX):] in self.knowledge.courses
                   for c in ruled_out) and not any(key <= ruled_out for key in self._course_keys):
            return []
        subjects = {
            k for c in candidates if isinstance(c.entry, Role) for k in c.key
            if self._weights.get(k, 0) >= self._settings.subject_weight
        }
        scopes = {c.entry.scope for c in candidates if isinstance(c.entry, Role)}
        if not subjects:
            return []
        spoken = {
            reading.tokens[p]
            for c, positions in reading.ruled_out
            if self._weights.get(c, 0) > self._settings.generic_weight
            for p in positions
        }
        # What names the ruled-out course ("Skolverkets", "webb"), not the word "kurs".
        specific = ruled_out - set(self._settings.course_words)
        others: list[Entry] = []
        roles = {r.id: r for c in subjects for r in self._roles_keyed_on.get(c, ())}
        for role in sorted(roles.values(), key=lambda r: self._role_order[r.id]):
            if role.scope not in scopes:
                continue
            for course in self.knowledge.courses_of(role):
                keyed = self._keyed(course)
                if (
                    course in others or ALIAS_PREFIX + course.id in ruled_out
                    or keyed & specific
                    or any(self._retriever.grounded(course.id, w) for w in spoken)
                    or not self._states(course, asked)
                ):
                    continue
                others.append(course)
        # "... the longer web course for ...": those keyed on what the question still names.
        named = set(reading.found) - set(self._settings.course_words) - subjects - self._details
        keyed_on_named = [
            c for c in others if named & self._keyed(c)
        ]
        return keyed_on_named or others

    def _the_other_one(self, reading: Reading, asked: Sequence[str]) -> Entry | None:
        """"Inte ortopedkursen, den andra i april – när är den?": with something ruled out and
        no key fitting, the one entry that states what is asked, is not named by what is ruled
        out, and whose own words hold every other word of the question ("april"); else None."""
        if not reading.negated:
            return None
        explained = {p for ps in reading.found.values() for p in ps}
        words = [
            reading.tokens[p] for p in reading.content
            if p not in explained and len(reading.tokens[p]) >= 4
            and reading.tokens[p] not in _NOT_FOCUS and reading.tokens[p] not in _OTHER
        ]
        if not words:
            return None
        ruled_out = set(reading.negated)
        # The words of what is ruled out, general ones ("course") aside: an entry speaking of
        # it (a listing of both courses) is not "the other one" either.
        spoken = {
            reading.tokens[p]
            for c, positions in reading.ruled_out
            if self._weights.get(c, 0) > self._settings.generic_weight
            for p in positions
        }
        fitting = [
            e for e in self.knowledge.answerables()
            if self._states(e, asked)
            and not any(set(key) <= ruled_out for key in e.match)
            and all(self._retriever.grounded(e.id, w) for w in words)
            and not any(self._retriever.grounded(e.id, w) for w in spoken)
        ]
        return fitting[0] if len(fitting) == 1 else None

    def _named_apart_from(self, entry: Entry, reading: Reading) -> bool:
        """Whether the question names the entry by words it does not rule out: a match key of
        the entry, free of what is ruled out, that the question completes and that holds more
        than general words ("inte steg 1 utan steg 2": the steps' entry is named by "steg 2"
        too; "except the intro course, which web courses": the intro course only by "web")."""
        kept = set(reading.found)
        return any(
            set(key) <= kept
            and any(
                k.startswith(ALIAS_PREFIX) or self._weights.get(k, 0) > self._settings.generic_weight
                for k in key
            )
            for key in entry.match
        )

    def _facets_not_stated(self, entry: Entry, reading: Reading) -> list[str]:
        """The facets the question asks (a count aside, what is ruled out or only told
        aside) that an entry found by retrieval does not state."""
        told = {c for c in reading.found if reading.found[c] <= reading.told}
        asked = set(reading.found) & self._details - told - set(reading.negated) - {COUNT}
        asked -= self._about_sources
        return sorted(d for d in asked if d not in self._answers.get(entry.id, ()))

    def _subject_concepts(self, reading: Reading) -> list[str]:
        """The specific concepts (weight 2 or more, no facet, no region) the question names."""
        return [
            c for c in reading.found
            if self._weights.get(c, 0) >= 2 and c not in self._details and c not in self._regions
        ]

    def _speaks_of_subject(self, entry: Entry, reading: Reading, *, heavy: bool = False) -> bool:
        """Whether `entry` speaks of every specific concept the question names, by its match
        keys or its own words ("Socialstyrelsen" is not spoken of by Örebro's course page).
        `heavy`: of those of weight 3 or more that name whom a role is for (students at a
        university, APL pupils), not the form of the question ("which courses")."""
        keyed = {k for key in entry.match for k in key}
        subjects = self._subject_concepts(reading)
        if heavy:
            subjects = [
                c for c in subjects if self._weights.get(c, 0) >= 3 and c in self._roles_keyed_on
            ]
        return all(
            c in keyed
            or all(self._retriever.grounded(entry.id, reading.tokens[p]) for p in reading.found[c])
            for c in subjects
        )

    def _regional_entry(
        self, reading: Reading, regions: set[str], *, whole_subject: bool = False,
        heavy_subject: bool = False,
    ) -> tuple[Entry, float] | None:
        """The entry of `regions` that retrieval ranks first among theirs (with `whole_subject`,
        among those that speak of every specific concept the question names), with its BM25
        score, when its own words cover at least `regional_coverage` of the question's (region
        names aside); None otherwise."""
        region_words = {p for c, ps in reading.found.items() if c in self._regions for p in ps}
        words = [reading.tokens[p] for p in reading.content if p not in region_words]
        field = [
            t for i, t in enumerate(reading.tokens)
            if t in FIELD_WORDS and i not in reading.negated_positions
        ]
        hits = self._search(words + field, top=20)
        # What is asked (how often, how long): the region's entry that states it first, else
        # its first entry (whose reply then says the detail is not given).
        asked = sorted((set(reading.found) & self._details) - set(reading.negated))
        # Who may supervise someone ("vem får handleda BT-läkare i Skåne?"): only a page that
        # states it (a supervision table, Örebro's VO-college steps), not any page speaking of
        # BT or using the verb.
        supervisors = self._asks_who_supervises(reading)
        for must_state in ([True, False] if asked else [False]):
            for hit in hits:
                entry = self.knowledge.entries[hit.entry_id]
                if entry.scope not in regions or (
                    supervisors and not self._states_who_supervises(entry)
                ) or (
                    whole_subject and not self._speaks_of_subject(entry, reading)
                ) or (
                    heavy_subject and not self._speaks_of_subject(entry, reading, heavy=True)
                ) or (must_state and not self._states(entry, asked)):
                    continue
                grounded = [w for w in words if self._retriever.grounded(entry.id, w)]
                if words and len(grounded) / len(words) >= self._settings.regional_coverage:
                    return entry, hit.score
                break
        return None

    def _asks_yes_or_no(self, reading: Reading) -> bool:
        """Whether the question opens with its verb ("måste …?", "does …?"), at the start or
        right after the region it names ("I'm in Värmland – does the requirement apply …?")."""
        tokens = reading.tokens
        starts = {0} | {
            max(ps) + 1 for c, ps in reading.found.items() if c in self._regions and ps
        }
        return any(p < len(tokens) and tokens[p] in _YES_NO for p in starts)

    def _national_rule(self, reading: Reading, uncovered: Sequence[str]) -> Reply | None:
        """The answer to a question naming only regions the sources do not cover, when the
        question decided without them is answered by national guidance alone (Socialstyrelsen's
        rules apply in every region). None otherwise: a region's guidance is never passed off
        as another's."""
        dropped = reading.positions_of(list(uncovered))
        alone = replace(
            reading,
            found={c: p for c, p in reading.found.items() if c not in uncovered},
            content=tuple(p for p in reading.content if p not in dropped),
        )
        decided = Trace()
        reply = self._decide(alone, decided)
        entry = self.knowledge.entries.get(reply.entry_id or "")
        if reply.status is not Status.ANSWER or entry is None or entry.scope != "national":
            return None
        # "Region Gotland: must the ST supervisor course be given with a university?": the ST
        # regulations say supervisors must have training, never with whom; what applies
        # everywhere is no answer to a question it does not speak of.
        # (an entry's alias, "ST supervisor", is the name of a region's role, not a subject)
        unspoken = not self._speaks_of_subject(
            entry, replace(alone, found={
                c: p for c, p in alone.found.items() if not c.startswith(ALIAS_PREFIX)
            }),
        )
        if decided.rule != "several" and unspoken:
            return None
        national = self.knowledge.scopes.get("national")
        names = {national.name.sv, national.name.en} if national is not None else set()
        if not reply.sources or any(source.scope not in names for source in reply.sources):
            # A region's guidance is part of the answer: the national part alone, when the
            # answer led with it ("måste ST-handledare ha gått handledarutbildning?": the ST
            # regulations, beside Stockholm's recommended course).
            if unspoken:
                return None
            alone_reply = self._composer.entry(entry, reading.lang, score=reply.score, regions=set())
            if any(source.scope not in names for source in alone_reply.sources):
                return None  # its related entries are a region's
            return alone_reply
        return reply

    def _per_region(self, reading: Reading, regions: set[str], trace: Trace) -> Reply | None:
        """Several covered regions named ("skillnad mellan Stockholm och Örebro för
        ST-handledare?"): the question decided for each region alone, as if it named only that
        one, and the answers given region by region. None (the usual rules decide) unless each
        region's own guidance answers it."""
        chosen: list[Entry] = []
        for region in sorted(regions):
            others = {
                c for c in reading.found if c in self._regions and self._regions[c] != region
            }
            dropped = reading.positions_of(list(others))
            alone = replace(
                reading,
                found={c: p for c, p in reading.found.items() if c not in others},
                content=tuple(p for p in reading.content if p not in dropped),
            )
            sub = Trace()
            reply = self._decide(alone, sub)
            entry = self.knowledge.entries.get(reply.entry_id or "")
            if reply.status is Status.ANSWER and entry is not None and entry.scope == "national":
                # National guidance answered; the region's own candidate on the same subject
                # is what a comparison of regions asks for.
                entry = next(
                    (c.entry for c in sub.candidates
                     if not isinstance(c.entry, Clarification) and c.entry.scope == region
                     and c.score >= self._settings.min_score
                     and self._speaks_of_subject(c.entry, alone)),
                    entry,
                )
            if reply.status is not Status.ANSWER or entry is None or entry.scope != region:
                return None
            chosen.append(entry)
        trace.rule, trace.detail = "regions", ", ".join(e.id for e in chosen)
        return self._composer.entries(chosen, reading.lang, 0.0, regions, by_region=True)

    def _retrieval_only(self, reading: Reading, trace: Trace, regions: set[str]) -> Reply:
        """No concept key fits: an entry may still be the one whose own words the question
        uses ("mallar", "medsittning"), if nearly every content word is that entry's."""
        broad = self._broad_question(reading)
        if broad is not None:
            trace.rule, trace.detail = "clarify", f"only general words: {broad.id}"
            return self._composer.clarification(broad, reading.lang, 0.0)
        hits = self._search([reading.tokens[p] for p in reading.content])
        trace.retrieval = [(h.entry_id, h.score) for h in hits[:3]]
        share = 0.0
        if hits:
            best = hits[0]
            words = [reading.tokens[p] for p in reading.content]
            # Every content word counts, concept words too: the entry must speak of what the
            # question speaks of ("handleda en psykolog under PTP" is not answered by an entry
            # on pedagogical time in PTP that says nothing of supervising).
            grounded = [w for w in words if self._retriever.grounded(best.entry_id, w)]
            share = len(grounded) / len(words) if words else 0.0
            clear = (
                len(hits) == 1
                or best.score >= self._settings.retrieval_tie_ratio * hits[1].score
                or self._alone_grounds_the_rest(reading, best.entry_id, hits[1].entry_id)
            )
            # "Nämns PTP någonstans?": asked where a word is used, the one word is enough.
            least = 1 if _MENTIONED & set(reading.tokens) else self._settings.retrieval_min_words
            if share >= self._settings.retrieval_coverage and len(grounded) >= least and clear:
                entry = self.knowledge.entries[best.entry_id]
                if (
                    self._asks_who_supervises(reading)
                    and WHO_MAY_SUPERVISE in self.knowledge.concepts
                    and not self._names_supervisors(entry)
                ):
                    # "Who supervises psychologists during their PTP year?": an entry on PTP
                    # that names no supervisors does not answer who.
                    trace.rule, trace.detail = "supervision", f"{entry.id} lists no supervisors"
                    return self._composer.unsupported_detail({WHO_MAY_SUPERVISE}, entry, reading.lang)
                unstated = self._facets_not_stated(entry, reading)
                if unstated:
                    trace.rule, trace.detail = "facet", f"{entry.id} does not state {', '.join(unstated)}"
                    return self._composer.unsupported_detail(set(unstated), entry, reading.lang)
                return self._final(entry, best.score, reading, regions, trace, "retrieval")
            trace.detail = f"retrieval: {share:.0%} of the words are {best.entry_id}'s"
        trace.rule = "weak"
        trace.detail = trace.detail or "no entry's key fits"
        domain = [c for c in reading.found if c not in self._question_words]
        if not domain and share < self._settings.out_of_domain_share:
            # Nothing of the domain ("vad blir det för väder?"): one line on what the bot is
            # for, not the list of whom to ask about supervision.
            trace.rule = "out_of_domain"
            return self._composer.out_of_domain(reading.lang)
        return self._composer.no_match(reading.lang)

    def _alone_grounds_the_rest(self, reading: Reading, best: str, second: str) -> bool:
        """Whether `best` speaks every word no concept explains ("ptp" in "Örebros strategi
        nämner PTP") and `second` does not: the words both share do not choose between them."""
        explained = {p for positions in reading.found.values() for p in positions}
        rest = [reading.tokens[p] for p in reading.content if p not in explained]
        return bool(rest) and all(self._retriever.grounded(best, w) for w in rest) and not all(
            self._retriever.grounded(second, w) for w in rest
        )

    def _names_asked(self, reading: Reading) -> set[str]:
        """The facets asked by "vem är <post>?" / "who is the <post>?": the name of whoever
        holds it (`Concept.post`), not what the post is."""
        asked_at = {p for c in self._question_words for p in reading.found.get(c, ())}
        facets = set()
        for concept, facet in self._posts.items():
            positions = reading.found.get(concept)
            if not positions:
                continue
            start = min(positions)
            for verb in range(start - 1, max(start - 4, 0), -1):
                if reading.tokens[verb] in _IS and verb - 1 in asked_at:
                    facets.add(facet)
        return facets

    def _broad_question(self, reading: Reading) -> Clarification | None:
        """The clarification whose `broad` keys are all a question speaks of ("får jag
        handleda?"): every word understood, no region, no follow-up, nothing else named."""
        if reading.unknown or reading.from_context or not self._broad:
            return None
        domain = {c for c in reading.found if c not in self._question_words}
        if not domain or domain & self._regions.keys():
            return None
        for clarification in self._broad:
            own = {c for key in clarification.broad for c in key}
            if domain <= own and any(set(key) <= domain for key in clarification.broad):
                return clarification
        return None

    def _retrieval_choice(
        self, reading: Reading, entry_ids: Sequence[str], trace: Trace,
        keyed: set[str] | None = None,
    ) -> Entry | None:
        """Among `entry_ids`, the one retrieval clearly prefers on the question's words that no
        concept explains, or, given `keyed` (the concepts of the keys the candidates matched), no
        such concept: those weighed the candidates alike; a concept none of them matched on, like
        "steg" in "vilket steg krävs för att handleda nyanställda?", is for their text to tell
        apart."""
        explained = {
            p for c, positions in reading.found.items() if keyed is None or c in keyed
            for p in positions
        }
        words = [
            reading.tokens[p] for p in reading.content if p not in explained
            and len(reading.tokens[p]) >= 3
        ]
        if not words:
            return None
        hits = {h.entry_id: h.score for h in self._search(words, top=50)}
        ranked = sorted(((hits.get(i, 0.0), i) for i in entry_ids), reverse=True)
        trace.retrieval = [(i, s) for s, i in ranked[:3]]
        if len(ranked) < 2 or ranked[0][0] <= 0:
            return None
        if ranked[0][0] >= self._settings.retrieval_tie_ratio * max(ranked[1][0], 1e-9):
            return self.knowledge.entries.get(ranked[0][1])
        return None

    def _who_supervises(self, reading: Reading) -> list[tuple[Role, bool]]:
        """"Kan en ST-läkare handleda AT-läkare?": a level named before the verb (the would-be
        supervisor) and roles' trainees named after it. Each such role with whether the
        source's table names that supervisor (never "yes" to "bara/only ...")."""
        # The verb, not a course's name ("AT-handledarutbildning" is a course, not a question
        # of who supervises whom).
        verb = _supervise_verb(reading)
        if not verb or _without_training(reading.tokens):
            # "... en specialistläkare utan handledarutbildning ...": not who, but whether
            # training is required; the table's "yes" would be wrong.
            return []
        first = min(verb)
        if not any(t in _PERMISSION or t in _MAY for t in reading.tokens[:first]):
            # "handledarutb för specialistläkare som handleder ST": no question of who may.
            return []
        roles = self._supervising
        levels = self._levels
        before = {c for c, p in reading.found.items() if c in levels and min(p) < first}
        after = {c for c, p in reading.found.items() if c in levels and max(p) > first}
        if not before or not after:
            return []
        only = any(t in _ONLY for t in reading.tokens)
        verdicts = []
        for role in roles:
            assert role.supervision is not None
            if role.supervision.supervisee in after:
                allowed = bool(before & set(role.supervision.supervisors)) and not only
                verdicts.append((role, allowed))
        return verdicts

    def _unlisted_supervisee(
        self, reading: Reading, candidates: Sequence[Candidate]
    ) -> Entry | None:
        """"Får en AT-läkare handleda läkarstudenter?": a doctor's level named before the verb
        and, after it, a subject whose entry lists no supervisors (no `supervision` table):
        that entry (the sources do not say who may supervise them). None otherwise, and when
        the knowledge base has no concept for this detail."""
        verb = self._permission_verb(reading)
        if not verb:
            return None
        levels = self._levels
        # The would-be supervisor is who the question opens with ("får en AT-läkare ...").
        before = {c for c, p in reading.found.items() if c in levels and min(p) <= 3 and max(p) < verb[0]}
        after = {
            c for c, p in reading.found.items()
            if min(p) > verb[0] and c not in levels and c not in self._details
            and c not in self._regions and self._weights.get(c, 0) >= 2
        }
        if not before or not after:
            return None
        return next(
            (c.entry for c in candidates
             if not isinstance(c.entry, Clarification) and set(c.key) & after
             and not (isinstance(c.entry, Role) and c.entry.supervision is not None)),
            None,
        )

    def _permission_verb(self, reading: Reading) -> list[int]:
        """The positions of the verb "handleda/supervise" (`_supervise_verb`) in a question of
        permission ("får/kan/may/can" first), not the noun "handledning" ("får
        ST-handledningen äta upp min tid?" asks no one's permission); empty otherwise, and when
        the knowledge base has no concept for who may supervise."""
        tokens = reading.tokens
        if WHO_MAY_SUPERVISE not in self.knowledge.concepts or not tokens:
            return []
        if tokens[0] not in _PERMISSION:
            return []
        return [p for p in _supervise_verb(reading) if not _SUPERVISION_NOUN.match(tokens[p])]

    def _supervisee_never_named(self, reading: Reading) -> bool:
        """A question of permission ("får/kan/may/can" first) naming a would-be supervisor
        before the verb "handleda/supervise" (or "vara handledare för") and, after it, only
        words no concept explains ("... för en PTP-psykolog?"): whom it asks about, no source
        speaks of as supervised."""
        tokens = reading.tokens
        verb = self._permission_verb(reading)
        if not verb:
            return False
        last = max(verb)  # "vara handledare för": after "handledare"
        found = [
            p for c, ps in reading.found.items() if c != "supervise" and c not in self._regions
            for p in ps
        ]
        before = [p for p in found if p < verb[0]]
        after = [p for p in found if p > last]
        unknown_after = [
            tokens[p] for p in reading.content
            if p > last and tokens[p] in reading.unknown and len(tokens[p]) >= 3
        ]
        return bool(before) and not after and bool(unknown_after)

    def _supervisee_unknown_in(
        self, supervision: Sequence[tuple[Role, bool]], regions: set[str]
    ) -> bool:
        """"I Region Örebro län, får en ST-läkare handleda AT-läkare?": a question of who may
        supervise whom (`supervision`: `_who_supervises`) whose supervisees no entry of the
        named regions is keyed on together with supervising; their pages speak of supervising
        others (Örebro's of ST), so only another region's table could say, and that is not the
        named region's rule."""
        named = regions - {"national"}
        if not named or not supervision:
            return False
        supervisees = {r.supervision.supervisee for r, _ in supervision if r.supervision}
        return not any(
            self._scope_of[i] in named and any(
                concept in key and "supervise" in key for key in self._keys[i]
            )
            for concept in supervisees for i in self._keyed_on.get(concept, ())
        )

    def _asks_who_supervises(self, reading: Reading) -> bool:
        """"Vem får handleda en AKA?", "who supervises psychologists ...?": the question word
        "vem/who" opens the question, before the verb "handleda/supervise"."""
        verb = [p for p in _supervise_verb(reading) if _VERB_FORM.match(reading.tokens[p])]
        asked = reading.found.get(WHO, frozenset())
        return bool(verb and asked and min(asked) <= 1 and min(asked) < verb[0])

    def _role_asked_who_may_be(self, reading: Reading) -> str | None:
        """"Vem får bli studierektor?", "who is allowed to act as external assessor in BT?":
        "vem/who" opening the question, a word of permission and "vara/bli/be" within a few
        words; the heaviest concept named after that (the role), else None."""
        tokens = reading.tokens
        if not tokens or tokens[0] not in ("vem", "who"):
            return None
        window = tokens[1:6]
        may = [i for i, t in enumerate(window) if t in _MAY]
        be = [i for i, t in enumerate(window) if t in _BE and may and i > may[0]]
        if not be:
            return None
        start = be[0] + 1
        after = [
            c for c, ps in reading.found.items()
            if min(ps) > start and c not in self._details and c not in self._regions
            and c not in self._question_words
        ]
        return max(after, key=lambda c: self._weights.get(c, 0), default=None)

    def _unknown_would_be(self, reading: Reading) -> str | None:
        """"Får pensionerade läkare vara ST-handledare?": a question of permission ("får/
        kan/may/can" first, "vara/bli/be" later) whose would-be holder is described by a word
        no source uses; that word, else None."""
        tokens = reading.tokens
        be = _holder_end(tokens, verb_too=False)
        if be is None:
            return None
        return next(
            (t for t in tokens[1:be]
             if len(t) >= 4 and t in reading.unknown and not self._retriever.known(t)
             and t not in _WITHOUT and t not in _QUALIFIERS),
            None,
        )

    def _profession_asked_to_supervise(self, reading: Reading, best: Candidate) -> Entry | None:
        """"Får en sjuksköterska handleda läkarstudenter?": a bare question of permission
        (nothing else asked: no course, requirement or "which") naming a profession, not a
        doctor's level, as the would-be supervisor, answered by an entry that never says who
        supervises whom. The sources give courses for supervisors, not who may supervise whom;
        that entry, else None."""
        tokens = reading.tokens
        if (
            WHO_MAY_SUPERVISE not in self.knowledge.concepts or not tokens
            or tokens[0] not in _PERMISSION or isinstance(best.entry, Clarification)
            or self._names_supervisors(best.entry)
        ):
            return None
        verb = [p for p in _supervise_verb(reading) if _VERB_FORM.match(tokens[p])]
        if not verb:
            return None
        if any(c in reading.found for c in self._settings.what_it_takes):
            return None  # "... vad behöver hen för utbildning?": what it takes is answered
        if any(t in _WHICH or t in ("vad", "what", "how", "hur") for t in tokens):
            return None
        if reading.numbers or any(t in ("om", "if") for t in tokens[verb[0]:]):
            return None  # "... om jag bara har steg 1?": a condition the steps speak of
        professions = [
            c for c, ps in reading.found.items()
            if max(ps) < verb[0] and c not in self._levels and c not in self._question_words
            and c not in self._regions and self._weights.get(c, 0) >= 2
        ]
        return best.entry if professions else None

    def _who_may_supervise(self, reading: Reading, best: Candidate) -> Entry | None:
        """"Vem får handleda tandläkarstudenter?", "who is allowed to supervise nursing
        students?": "vem/who", a word of permission and the verb "handleda/supervise", nothing
        else asked (no course, requirement or "which"), answered by an entry that never says who
        supervises whom; that entry, else None."""
        tokens = reading.tokens
        if (
            WHO_MAY_SUPERVISE not in self.knowledge.concepts or len(tokens) < 3
            or tokens[0] not in ("vem", "who") or isinstance(best.entry, Clarification)
            or self._names_supervisors(best.entry)
            or not any(t in _MAY for t in tokens[1:4])
        ):
            return None
        verb = [p for p in _supervise_verb(reading) if _VERB_FORM.match(tokens[p]) and p <= 5]
        if not verb:
            return None
        if any(c in reading.found for c in self._settings.what_it_takes) and all(
            self._retriever.grounded(best.entry.id, w) for w in reading.unknown if len(w) >= 4
        ):
            return None  # "..., vad krävs?": what it takes is answered (not "krav på yrkesår")
        if any(t in _WHICH for t in tokens):
            return None
        supervisees = {
            c for c, ps in reading.found.items()
            if min(ps) > verb[0] and self._weights.get(c, 0) >= self._settings.subject_weight
            and c not in self._details and c not in self._regions
        }
        if supervisees & self._supervisees_named:
            return None  # "vem får handleda YH-studerande?": VO-college's steps say who
        return best.entry

    @functools.cached_property
    def _supervisees_named(self) -> frozenset[str]:
        """The concepts the entries stating who may supervise whom speak of (by key or text):
        a role's supervision table, or an entry listing `who_may_supervise` in `answers`
        (VO-college's steps). Worked out on first use."""
        named: set[str] = set()
        for entry in self.knowledge.answerables():
            if isinstance(entry, Role) and entry.supervision is not None:
                named.add(entry.supervision.supervisee)
            elif WHO_MAY_SUPERVISE in entry.answers:
                named |= self._keyed(entry) | self._text_concepts(entry)
        return frozenset(named)

    def _unlisted_holder(self, reading: Reading, best: Candidate) -> str | None:
        """"Can a nurse be the main supervisor for an ST doctor?", "can a nurse supervise a BT
        doctor?": a question of permission ("får/kan/can" first, "vara/be" or the verb
        "handleda" later) answered by a role whose supervision table
        lists doctors' levels, naming a would-be holder who is no such level and whom the
        role's text never names; that word, else None."""
        tokens = reading.tokens
        entry = best.entry
        if not isinstance(entry, Role) or entry.supervision is None:
            return None
        be = _holder_end(tokens, verb_too=True)
        if be is None:
            return None
        holders = [
            p for c, ps in reading.found.items() for p in ps
            if p < be and c not in self._levels and c not in self._question_words
            and self._weights.get(c, 0) >= 2
        ]
        # ... or the word right after "får en / can a" when no concept explains it ("får en
        # psykolog vara handledare för ST-läkare?").
        first = 1
        while first < be and tokens[first] in _QUANTIFIERS:
            first += 1
        if first < be and tokens[first] in reading.unknown and len(tokens[first]) >= 4:
            holders.append(first)
        return next(
            (tokens[p] for p in sorted(holders) if not self._retriever.grounded(entry.id, tokens[p])),
            None,
        )

    def _names_who_may_be(self, entry: Entry, reading: Reading) -> bool:
        """Whether the entry says who may hold the role asked about: a supervision table, or,
        for a supervisor's role, the verb "handleda" in its own text."""
        if isinstance(entry, Role) and entry.supervision is not None:
            return True
        return "supervise" in reading.found and self._names_supervisors(entry)

    def _states_who_supervises(self, entry: Entry) -> bool:
        """Whether the entry states who may supervise whom: a supervision table, or
        `who_may_supervise` among its facets (`answers`)."""
        return (isinstance(entry, Role) and entry.supervision is not None) or self._states(
            entry, [WHO_MAY_SUPERVISE]
        )

    def _names_supervisors(self, entry: Entry) -> bool:
        """Whether the entry says who supervises whom: a supervision table, or the verb in its
        own text ("steg 3 ger möjlighet att handleda mindre erfarna handledare")."""
        return entry.id in self._naming_supervisors

    def _facet_owner(
        self, top: Candidate, candidates: Sequence[Candidate], reading: Reading, asked: Sequence[str]
    ) -> Candidate | None:
        """The candidate keyed on the word the facets `asked` are asked of ("hur ofta är
        *återträffarna*", "how long is *the X*": the first word after the facet's words, a
        copula or article aside; a specific concept, weight 2 or more), when `top` neither is
        keyed on it nor uses that word and no candidate keyed on it states them; else None."""
        facet_positions = reading.positions_of([c for c in reading.found if c in self._details])
        if not facet_positions:
            return None
        after = max(facet_positions) + 1
        while after < len(reading.tokens) and reading.tokens[after] in _COPULAS:
            after += 1
        subject = next(
            (c for c, ps in reading.found.items()
             if after in ps and c not in self._details and c not in self._regions
             and not c.startswith(ALIAS_PREFIX) and self._weights.get(c, 0) >= 2),
            None,
        )
        if subject is None or any(subject in key for key in _keys(top.entry)):
            return None
        if self._spoken_by([top], reading, subject):
            return None
        owners = [
            c for c in candidates
            if c is not top and not isinstance(c.entry, Clarification) and subject in c.key
        ]
        if any(self._states(c.entry, asked) for c in owners):
            return None  # one of them states it: the usual rules choose
        return owners[0] if owners else None

    def _unexplained_subject(
        self, top: Candidate, others: Sequence[Candidate], reading: Reading
    ) -> list[str]:
        """The specific concepts (weight 2 or more, no facet) that made `top` the best and that
        none of `others` speaks of: answering with them would drop what was asked about."""
        other_concepts = {c for o in others for key in _keys(o.entry) for c in key}
        evidence = frozenset().union(*(o.evidence for o in others))
        return [
            c for c in top.key
            if self._weights.get(c, 0) >= 2 and c not in self._details
            and c not in other_concepts
            and not reading.positions_of([c]) <= evidence
            and not self._spoken_by(others, reading, c)
        ]

    def _spoken_by(self, others: Sequence[Candidate], reading: Reading, concept: str) -> bool:
        """Whether one of `others` uses the very words the question names `concept` with
        ("ALF" in the funding entry's "ALF-avtalet")."""
        words = [reading.tokens[p] for p in reading.found.get(concept, ())]
        return bool(words) and any(
            not isinstance(o.entry, Clarification)
            and all(self._retriever.grounded(o.entry.id, w, whole=True) for w in words)
            for o in others
        )

    def _several(self, candidates: list[Candidate], reading: Reading) -> list[Candidate]:
        """Strong candidates that rest on different words of the question, each naming its own
        subject: "samma kurs för AT- och BT-handledare?" is two roles, answered together."""
        chosen: list[Candidate] = []
        used: set[int] = set()
        seen_subjects: set[str] = set()
        for c in candidates:
            if isinstance(c.entry, Clarification) or c.score < self._settings.min_score:
                continue
            subjects = {
                k for k in c.key
                if k.startswith(ALIAS_PREFIX)
                or (self._weights.get(k, 0) >= self._settings.subject_weight and k not in self._details)
            }
            if ALIAS_PREFIX + c.entry.id in reading.found:
                subjects.add(ALIAS_PREFIX + c.entry.id)  # named by its own name ("ST-handledare")
            subject_positions = reading.positions_of(list(subjects))
            if not subjects or subject_positions <= used or subjects <= seen_subjects:
                continue
            if any(_same_thing(c.entry, o.entry) for o in chosen):
                continue
            if chosen and not _same_kind(chosen[0].entry, c.entry):
                continue
            chosen.append(c)
            used |= c.evidence
            seen_subjects |= subjects
            if len(chosen) == self._settings.max_subjects:
                break
        return chosen

    def _states(self, entry: Entry | Clarification, asked: Sequence[str]) -> bool:
        if isinstance(entry, Clarification):
            return any(self._states(self.knowledge.entries[o], asked) for o in entry.options if o in self.knowledge.entries)
        facets = self._answers.get(entry.id, frozenset())
        return all(d in facets for d in asked)

    def _facets_of(self, entry: Entry) -> frozenset[str]:
        """The facets an entry states: those it lists (`answers`), those its match keys name,
        and, for a course (or a role recommending courses), those its course fields give."""
        facets = set(entry.answers) | {c for key in entry.match for c in key}
        courses = self.knowledge.courses_of(entry)
        for concept, field_name in self._course_field.items():
            if any(getattr(course, field_name) for course in courses):
                facets.add(concept)
        text = fold(f"{entry.text.sv} {entry.text.en}")
        facets.update(c for c, pattern in self._stated_by.items() if pattern.search(text))
        return frozenset(facets)

    def _counts(self, entry: Entry, reading: Reading) -> bool:
        """Whether the entry states a number of the thing a "how many X" question counts (a
        number followed by X in its own text: "2 seminarier")."""
        positions = sorted(reading.found.get(COUNT, ()))
        if not positions:
            return False
        after = positions[-1] + 1
        nouns = [t for t in reading.tokens[after:after + 3] if t not in self._ignorable][:1]
        if not nouns:
            # "Does it include seminars? how many?": the thing counted was named before.
            nouns = [reading.tokens[p] for p in reading.content if p < positions[0]]
        counted = self._counted(entry.id)
        for noun in nouns:
            wanted = stem(noun)
            if any(
                b == wanted
                or (len(wanted) >= 5 and (b.startswith(wanted[:5]) or (by_word and b.endswith(wanted))))
                for b, by_word in counted
            ):
                # "2 seminarier"; a compound ending in it counts it too ("fem
                # kompetensområden" are five "områden").
                return True
        return False

    def _counted(self, entry_id: str) -> tuple[tuple[str, bool], ...]:
        """The stems of the entry's words right after a number ("2 seminarier"), each with
        whether the number was written as a word; worked out once per entry."""
        counted = self._counted_nouns.get(entry_id)
        if counted is None:
            words = self._words.get(entry_id, ())
            # Whether a number word counted it: only then does it count a compound's last
            # part ("fem kompetensområden" are five "områden"; "360-gradersbedömning" is no count).
            # A number after a label ("steg 2", "steg 1 och 2", "del 1") names which one; it
            # counts nothing.
            pairs: list[tuple[str, bool]] = []
            labelled = False
            for index, (a, b) in enumerate(pairwise(words)):
                if not (a.isdigit() or a in _NUMBER_WORDS):
                    if a not in _LIST_JOINS:
                        labelled = False
                    continue
                before = words[index - 1] if index else ""
                labelled = before in _LABELS or (labelled and before in _LIST_JOINS)
                if not labelled:
                    pairs.append((stem(b), a in _NUMBER_WORDS))
            counted = tuple(pairs)
            self._counted_nouns[entry_id] = counted
        return counted

    def _focus_not_stated(self, entry: Entry, reading: Reading) -> str | None:
        """The word a "which/what X" question asks for (the word right after the
        interrogative, an article aside), when no concept explains it and the entry's own
        words never use it."""
        tokens = reading.tokens
        # Words explained by a concept this entry's keys (or facets) name.
        own = self._answers.get(entry.id, frozenset())
        explained = {p for c, ps in reading.found.items() if c in own for p in ps}
        anywhere = {p for ps in reading.found.values() for p in ps}
        for focus, strict in self._focus_positions(tokens):
            word = tokens[focus]
            if strict and (focus in anywhere or self._retriever.known(word)):
                continue  # "finns det nåt nationellt stöd": a word the sources do use
            if (
                focus in explained or word in self._ignorable or word in _NOT_FOCUS
                or word.isdigit() or len(word) < 4
                or self._retriever.grounded(entry.id, word)
                # the head of one of its compounds ("nivå" of "miniminivån")
                or any(
                    len(w) > len(word) + 2 and (w.endswith(word) or w.endswith(word + "n"))
                    for w in self._words.get(entry.id, ())
                )
            ):
                continue
            return word
        return None

    @staticmethod
    def _focus_positions(tokens: Sequence[str]) -> list[tuple[int, bool]]:
        """Where the thing a question asks for stands: after "vilken/which" (an article
        aside), after "finns det/is there" (a quantifier aside), after "recommend/tipsa om" (a
        word of praise aside), beside "included/ingår", and the verb after "var kan jag/where
        can I" when it does more than look for the entry ("parkera", "download").
        With each, whether it is asked for only when no source uses the word (`strict`: what
        follows "finns det" may be an adjective of what the entry is about)."""
        found: list[tuple[int, bool]] = []
        for position, token in enumerate(tokens[:-1]):
            if token in _WHICH:
                focus = position + 1
                if tokens[focus] in _ARTICLES and focus + 1 < len(tokens):
                    focus += 1
                found.append((focus, False))
            elif token in _RECOMMEND_ME:
                # "can you recommend a good lunch place ...": what is to be recommended.
                focus = position + 1
                while focus < len(tokens) - 1 and (
                    tokens[focus] in _QUANTIFIERS or tokens[focus] in _PRAISE
                ):
                    focus += 1
                if focus < len(tokens):
                    found.append((focus, True))
            elif token in _INCLUDED and position > 0:
                # "Is lunch included ...?", "ingår lunch ...?": the word before or after.
                for focus in (position - 1, position + 1):
                    if 0 <= focus < len(tokens) and tokens[focus] not in _COPULAS:
                        found.append((focus, True))
            elif any(tuple(tokens[position : position + len(p)]) == p for p in _EXISTENTIAL):
                focus = position + 2
                while focus < len(tokens) - 1 and tokens[focus] in _QUANTIFIERS:
                    focus += 1
                if focus < len(tokens):
                    found.append((focus, True))
            elif any(tuple(tokens[position : position + len(p)]) == p for p in _WHERE_CAN):
                focus = position + 3
                if focus < len(tokens) and tokens[focus] not in _LOOKING:
                    found.append((focus, True))
        return found

    def _qualifier_not_stated(
        self, entries: Sequence[Entry], reading: Reading, words: frozenset[str] = _QUALIFIERS
    ) -> str | None:
        """A qualifier ("annan specialitet", "samtidigt") none of `entries` speaks of, with the
        word it qualifies; None when there is none or an entry uses it."""
        tokens = reading.tokens
        if "supervise" not in reading.found:
            return None  # who may supervise whom, and with what, is where sources stop short
        for position, token in enumerate(tokens):
            if token not in words or position in reading.negated_positions:
                continue
            if token == "utan" and (
                tokens[position + 1 : position + 2] == ("att",)
                or any(t in NEGATIONS for t in tokens[max(0, position - 10) : position])
            ):
                continue  # "inte X utan Y" contrasts; "utan att ha gått ..." is the training rule's
            if token in _WITHOUT and _without_training(tokens[position:]):
                continue  # "without any supervisor training": the training rule's
            if any(
                self._retriever.grounded(e.id, token, whole=True)
                or token in self._words.get(e.id, ())  # a function word ("another")
                for e in entries
            ):
                continue
            if token in ("samma", "same") and len(entries) == 1 and _RECOMMENDED.match(
                " ".join(tokens[position + 1 : position + 2])
            ) and len([
                c for c in self._subject_concepts(reading)
                if c in self._keyed(entries[0]) or c in self._text_concepts(entries[0])
            ]) >= 2:
                continue  # "samma rekommendation för vux som gymnasiet?": one entry covers both
            at = [
                p for p in range(position + 1, min(position + 3, len(tokens)))
                if tokens[p] not in _QUANTIFIERS
            ][:1]
            if at and (
                any(self._retriever.grounded(e.id, tokens[at[0]]) for e in entries)
                or any(
                    at[0] in ps for c, ps in reading.found.items()
                    if c in self._details or c in self._levels or c in self._regions
                    or c.startswith(ALIAS_PREFIX) or c in self._settings.course_words
                    or self._weights.get(c, 0) >= self._settings.subject_weight
                )
            ):
                # "en annan ST-läkare", "samma längd", "annan klinik": what it qualifies is
                # a subject, a facet or the entry's own word; the rules read that.
                continue
            return " ".join(tokens[p] for p in [position, *at])
        return None

    def _numbers_not_stated(self, entry: Entry, reading: Reading) -> list[str]:
        stated = self._numbers.get(entry.id, frozenset())
        return [n for n in reading.numbers if n not in stated]

    def _related(self, entry: Entry) -> list[Entry]:
        return [self.knowledge.entries[r] for r in entry.related if r in self.knowledge.entries]

    @staticmethod
    def _keyed(entry: Entry) -> set[str]:
        return {c for key in entry.match for c in key}

    def _text_concepts(self, entry: Entry) -> frozenset[str]:
        """The concepts an entry's own title and text name (in either language), worked out
        once per entry when first asked."""
        found = self._spoken.get(entry.id)
        if found is None:
            title = entry_title(entry)
            words = normalize(f"{title.sv} {title.en} {entry.text.sv} {entry.text.en}")
            found = self._spoken[entry.id] = frozenset(self._concepts.find(words, exact=True))
        return found

    def _lone_guess(self, best: Candidate, reading: Reading) -> bool:
        """One concept and words we do not know: the question is likely about something else
        ("vilka läkemedel får en ST-läkare skriva ut" is not about ST supervision). A concept
        named by a phrase of several words, or a heavy one, is specific enough on its own."""
        generic = not isinstance(best.entry, Clarification) and all(
            self._weights.get(c, 0) <= self._settings.generic_weight
            and not c.startswith(ALIAS_PREFIX)  # named by its own name: specific
            for c in best.key
        )
        if not isinstance(best.entry, Clarification) and all(
            self._weights.get(c, 0) <= self._settings.generic_weight or c in self._details
            for c in best.key
        ):
            keyed = {c for key in best.entry.match for c in key}
            spoken = self._text_concepts(best.entry)
            if any(
                c not in keyed and c not in spoken for c in reading.found
                if self._weights.get(c, 0) >= self._settings.subject_weight
                and c not in self._details and c not in self._regions
                and not c.startswith(ALIAS_PREFIX)
            ):
                # "hur ofta ska jag träffa min AT-läkare?": only a facet and general words fit
                # Örebro's ST page; AT, what the question is about, it never speaks of.
                return True
        if generic and any(
            not self._retriever.grounded(best.entry.id, w) for w in reading.unknown if len(w) >= 4
        ):
            # Only general words fit ("what course is required to supervise PTP psychologists"):
            # the words nothing explains are what it is about, and the entry never uses them.
            return True
        foreign = [w for w in reading.unknown if not self._retriever.known(w)]
        asking_back = isinstance(best.entry, Clarification) and any(len(w) >= 6 for w in foreign)
        if (len(foreign) >= 2 or asking_back) and all(
            self._weights.get(c, 0) <= self._settings.generic_weight or c in self._details
            for c in best.key
        ):
            # "how do I book train + hotel for the handledarkurs?", "how do I apply for parental
            # leave?" (asked back "which course?"): only general words or a facet fit, and words
            # no source uses are what it is about.
            return True
        if (
            len(foreign) >= self._settings.foreign_words_outweigh
            and len(foreign) > best.explained
            and 2 * len(foreign) > len(reading.content)
            and not any(c.startswith(ALIAS_PREFIX) for c in best.key)
        ):
            # "pat med bröstsmärta och ST-höjning på EKG, vad gör jag först?": more words no
            # source uses than words the entry rests on; "ST" is a coincidence.
            return True
        if best.explained > 1 or best.key[0].startswith(ALIAS_PREFIX):
            return False
        concept = best.key[0]
        if len(reading.found[concept]) > 1:
            return False  # named by a phrase ("tid för handledning i schemat")
        if reading.unknown and all(
            self._retriever.grounded(best.entry.id, w) for w in reading.unknown
        ) and not isinstance(best.entry, Clarification):
            return False  # its own words ("när fastställdes strategin"): not a guess
        # Words neither the vocabulary nor any entry's text knows ("write a referral").
        if len(foreign) >= self._settings.foreign_words_limit:
            return True
        trusted = self._weights[concept] >= self._settings.trusted_concept_weight
        return not trusted and len(reading.unknown) >= self._settings.lone_key_unknown_limit

    def _candidates(
        self, reading: Reading, regions: set[str], *, prune: bool = False
    ) -> list[Candidate]:
        """Every entry one of whose keys the question completes, best first (equal scores in
        knowledge-base order); each group of entries with the same keys is scored once.

        `prune`: when `regions` are asked and some candidate is theirs (or national, or a
        clarification), another region's entries stand for their group by the first of them
        only, in groups whose entries also state the same facets. The rules read of another
        region's entries only the first one, or the first one stating a facet, which pruning
        keeps; the trace of the region rule asks again without pruning."""
        found = reading.found
        groups = [
            (group, scored)
            for group in {g for concept in found for g in self._by_concept.get(concept, ())}
            if (scored := self._group_score(group, found)) is not None
        ]
        homes = regions | {"national", None}
        scopes = self._scope_of
        prune = prune and bool(regions) and any(
            not homes.isdisjoint(self._group_scopes[group]) for group, _ in groups
        )
        ranked: list[tuple[int, Candidate]] = []
        for group, (score, key, explained, evidence) in groups:
            members = self._groups[group]
            if prune and self._prunable[group]:
                members = _own_and_first_other(members, scopes, homes)
            for index in members:
                bonus = 0.0
                if regions and scopes[index] in regions:
                    bonus = self._settings.region_bonus
                entry = self._entries[index]
                ranked.append((index, Candidate(entry, score + bonus, key, explained, evidence, bonus)))
        ranked.sort(key=_first)
        candidates = [c for _, c in ranked]
        candidates.sort(key=_score_of, reverse=True)
        return candidates

    def _group_score(self, group: int, found: Found) -> _Scored | None:
        """`_score` of the group's first entry, looked up when the question being answered
        has already had it scored with the same concepts of that entry found at the same words
        (the region rules decide a question again for each region it names)."""
        index = self._groups[group][0]
        turn = _TURN.get()
        if turn is None or self._is_clarification[index]:
            return self._score(index, found)  # a clarification's depends on every concept
        seen = (group, tuple([(c, found[c]) for c in self._concepts_of_entry[index] if c in found]))
        memo = turn.scores
        if seen not in memo:
            memo[seen] = self._score(index, found)
        return memo[seen]

    def _search(self, tokens: Sequence[str], *, top: int = 5) -> list[Hit]:
        """`Retriever.search`, once per message for the same words (callers only read it)."""
        turn = _TURN.get()
        if turn is None:
            return self._retriever.search(tokens, top=top)
        key = (tuple(tokens), top)
        hits = turn.hits.get(key)
        if hits is None:
            hits = turn.hits[key] = self._retriever.search(tokens, top=top)
        return hits

    def _score(self, index: int, found: Found) -> _Scored | None:
        entry = self._entries[index]
        if isinstance(entry, Clarification) and self._more_specific(entry, found):
            return None
        best: float | None = None
        best_key: tuple[str, ...] = ()
        covered: frozenset[int] = frozenset()
        present = found.keys()
        for key, concepts in zip(self._keys[index], self._key_sets[index], strict=True):
            if present >= concepts:
                weight, positions = self._weigh(key, found, frozenset())
                if best is None or weight > best:
                    best, best_key, covered = weight, key, positions
        if best is None:
            return None
        mentioned = [c for c in self._concepts_of_entry[index] if c in found]
        extra, _ = self._weigh([c for c in mentioned if c not in best_key], found, covered)
        explained = len(set(best_key) | set(mentioned))
        return best + self._settings.mention_bonus * extra, best_key, explained, covered

    def _more_specific(self, clarification: Clarification, found: Found) -> bool:
        """A question back is for a broad question only: it is skipped when the question names
        something more specific than the clarification's own keys (a concept of weight
        `specific_weight` or more that is neither one of its keys, a region nor a facet), or
        one of its `unless` concepts."""
        own = {c for key in clarification.match for c in key}
        if found.keys() & set(clarification.unless):
            return True
        return any(
            c not in own
            and self._weights.get(c, 0) >= self._settings.specific_weight
            and c not in self._regions
            and c not in self._details
            and c not in self._question_words
            for c in found
        )

    def _weigh(
        self, concepts: Sequence[str], found: Found, covered: frozenset[int]
    ) -> tuple[float, frozenset[int]]:
        """The concepts' weight, counting the words of the question once: "studenter" is both
        a student and a university student, but it is one word of evidence."""
        total = 0.0
        weights = self._weights
        for concept in sorted(concepts, key=self._weight_order.__getitem__):
            positions = found[concept]
            if positions and positions <= covered:
                continue
            total += weights[concept]
            covered |= positions
        return total, covered


def _own_and_first_other(
    members: list[int], scopes: list[str | None], homes: set[str | None]
) -> list[int]:
    """The members of `homes`' scopes, and the first of the others (knowledge-base order)."""
    kept: list[int] = []
    other = False
    for index in members:
        if scopes[index] in homes:
            kept.append(index)
        elif not other:
            kept.append(index)
            other = True
    return kept


def _first(pair: tuple[int, Candidate]) -> int:
    return pair[0]


def _score_of(candidate: Candidate) -> float:
    return candidate.score


def _scope(entry: Entry | Clarification) -> str | None:
    return None if isinstance(entry, Clarification) else entry.scope


def _same_thing(a: Entry | Clarification, b: Entry | Clarification) -> bool:
    """A role and the one course it recommends are one subject, not two."""
    for x, y in ((a, b), (b, a)):
        if isinstance(x, Role) and isinstance(y, Course) and y.id in x.courses:
            return True
    return False


def _same_kind(a: Entry | Clarification, b: Entry | Clarification) -> bool:
    """Whether two entries can be two subjects of one question: any role or course can; two
    pieces of guidance only from the same scope (a national text and a region's are not)."""
    if isinstance(a, Role | Course) or isinstance(b, Role | Course):
        return True
    return _scope(a) == _scope(b)


def _near_word(token: str, words: set[str]) -> bool:
    if token in words:
        return True
    return len(token) >= 4 and any(
        len(w) >= 4 and (w.startswith(token[:5]) or token.startswith(w[:5])) for w in words
    )


def _subject_words(entry: Entry) -> str:
    if isinstance(entry, Course | Role):
        return entry.aliases[0] if entry.aliases else entry.name.sv
    return entry.title.sv


def _replace_context(reply: Reply, context: dict[str, Any]) -> Reply:
    return replace(reply, context=context)


def _alias_concepts(knowledge: KnowledgeBase, weight: float) -> list[Concept]:
    """Each entry's aliases ("ST-handledare", "AKA") become a concept that alone finds it."""
    return [
        Concept(id=ALIAS_PREFIX + entry.id, terms=list(entry.aliases), weight=weight)
        for entry in knowledge.entries.values()
        if isinstance(entry, Course | Role) and entry.aliases
    ]


def _keys(entry: Entry | Clarification) -> list[list[str]]:
    if isinstance(entry, Course | Role) and entry.aliases:
        return [*entry.match, [ALIAS_PREFIX + entry.id]]
    return entry.match


def _answers(entry: Entry | Clarification) -> set[str]:
    """The details an entry can answer: those it lists, and those its match keys require."""
    return set(getattr(entry, "answers", ())) | {c for key in entry.match for c in key}


class _SocialPhrases:
    """Greetings, thanks and calls for help that make up a whole message."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self._phrases = [
            (tuple(normalize(p)), kind)
            for kind, phrases in (
                ("help", knowledge.help),
                ("thanks", knowledge.thanks),
                ("greeting", knowledge.greetings),
            )
            for p in phrases
        ]
        self._phrases.sort(key=lambda pair: len(pair[0]), reverse=True)
        # The phrases that can start at a token (in the order above): only those are tried.
        self._empty = [(phrase, kind) for phrase, kind in self._phrases if not phrase]
        self._starting: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for phrase, kind in self._phrases:
            if phrase:
                self._starting.setdefault(phrase[0], []).append((phrase, kind))
        for starting in self._starting.values():
            starting.extend(self._empty)

    def kind(self, tokens: list[str], filler: frozenset[str]) -> str | None:
        if not tokens:
            return "help"
        kinds: set[str] = set()
        position = 0
        while position < len(tokens):
            for phrase, kind in self._starting.get(tokens[position], self._empty):
                if tuple(tokens[position : position + len(phrase)]) == phrase:
                    kinds.add(kind)
                    position += len(phrase)
                    break
            else:
                if tokens[position] not in filler:
                    return None
                position += 1
        if not kinds:
            return None
        return "help" if "help" in kinds or "greeting" in kinds else "thanks"
