"""Decides what a question is about: one answer, a question back, or an honest "I don't know".

A question's concepts (bot.concepts) are compared with each entry's match keys. An entry whose
whole key is present is a candidate, scored by the weights of that key. Then, in this order:
- a detail nobody can answer (a price, a course date) makes it a no-match that says so;
- a clarification entry, or several different entries scoring alike, ask back with options;
- the best candidate above `min_score` is the answer; below it there is no match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from bot.compose import Composer
from bot.concepts import ConceptMatcher, FuzzySettings
from bot.knowledge.base import Entry, KnowledgeBase
from bot.knowledge.schema import Clarification, Concept, Course, Role
from bot.language import FUNCTION_WORDS, detect_language
from bot.messages import Lang, Option, Reply
from bot.text import normalize

ALIAS_PREFIX = "alias--"
# The concepts found in a question, each with the positions of the words that name it.
Found = Mapping[str, frozenset[int]]


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
    alias_weight: float = 3.0
    region_bonus: float = 0.5  # "... i Örebro?" prefers Region Örebro län's entry  # an entry's own alias ("AKA", "ST-handledare") is decisive
    option_label_ratio: float = 80.0  # how closely typed words must match an option's label
    fuzzy: FuzzySettings = field(default_factory=FuzzySettings)


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: Entry | Clarification
    score: float
    # The concepts of the key that made this entry a candidate.
    key: tuple[str, ...] = ()
    # How many of the question's concepts the entry speaks of (its key and any other key).
    explained: int = 0


class Engine:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        settings: MatchSettings | None = None,
        contact_sv: str | None = None,
        contact_en: str | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.version = knowledge.version
        self._settings = settings or MatchSettings()
        aliases = _alias_concepts(knowledge, self._settings.alias_weight)
        concepts = [*knowledge.concepts.values(), *aliases]
        self._concepts = ConceptMatcher(concepts, fuzzy=self._settings.fuzzy)
        self._weights = {c.id: c.weight for c in concepts}
        self._details = {c.id for c in knowledge.concepts.values() if c.detail is not None}
        self._regions: dict[str, str] = {
            c.id: c.region for c in knowledge.concepts.values() if c.region
        }
        self._filler = frozenset(t for phrase in knowledge.filler for t in normalize(phrase))
        self._ignorable = self._filler | FUNCTION_WORDS
        self._social = _SocialPhrases(knowledge)
        self._entries: list[Entry | Clarification] = [
            *knowledge.answerables(),
            *knowledge.clarifications.values(),
        ]
        self._by_concept: dict[str, list[int]] = {}
        for index, entry in enumerate(self._entries):
            for concept in {c for key in _keys(entry) for c in key}:
                self._by_concept.setdefault(concept, []).append(index)
        self._composer = Composer(knowledge, contact_sv=contact_sv, contact_en=contact_en)

    def answer(
        self,
        text: str,
        *,
        context: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> Reply:
        """The reply to `text`; `context` is the last answer's `Reply.context` (a follow-up may use
        it), `profile` the user's `Reply.profile` (e.g. their region). Both may be None."""
        lang = detect_language(text)
        tokens = normalize(text)
        social = self._social.kind(tokens, self._filler)
        if social is not None:
            return self._composer.social(social, lang)
        found = _longest_readings(self._concepts.find(tokens, skip=self._filler))
        unknown = self._concepts.unknown(tokens, skip=self._ignorable)
        return self._decide(found, lang, unknown=len(unknown))

    def concepts_of(self, text: str) -> set[str]:
        """The concept ids found in `text` (for coordinators and tests)."""
        return set(_longest_readings(self._concepts.find(normalize(text), skip=self._filler)))

    def answer_option(self, value: str, lang: str | None) -> Reply:
        """The reply for an option the user picked; `value` is an entry id."""
        chosen: Lang = "en" if lang == "en" else "sv"
        entry = self.knowledge.entries.get(value)
        if entry is None:
            return self._composer.no_match(chosen)
        return self._composer.entry(entry, chosen, score=None, regions=set())

    def pick_option(self, options: Sequence[Option], typed: str) -> Option | None:
        """Which of `options` the user meant by `typed`: its number, its value or its words."""
        cleaned = typed.strip().rstrip(".)").strip()
        for option in options:
            if cleaned == option.value:
                return option
        digits = [t for t in normalize(cleaned) if t.isdigit()]
        if len(digits) == 1 and len(normalize(cleaned)) <= 3:
            number = int(digits[0])
            return options[number - 1] if 1 <= number <= len(options) else None
        typed_words = " ".join(normalize(cleaned))
        scored = [
            (fuzz.token_set_ratio(typed_words, " ".join(normalize(o.label))), o) for o in options
        ]
        best = max(scored, key=lambda pair: pair[0], default=None)
        if best is not None and best[0] >= self._settings.option_label_ratio:
            return best[1]
        return None

    def _decide(self, found: Found, lang: Lang, *, unknown: int) -> Reply:
        concepts = set(found)
        regions: set[str] = {self._regions[c] for c in concepts if c in self._regions}
        candidates = self._candidates(found, regions)
        asked_details = concepts & self._details
        if asked_details:
            unanswered = [c for c in candidates if not asked_details <= _answers(c.entry)]
            if len(unanswered) == len(candidates):
                subject = candidates[0].entry if candidates else None
                return self._composer.unsupported_detail(asked_details, subject, lang)
            candidates = [c for c in candidates if c not in unanswered]
        if not candidates:
            return self._composer.no_match(lang)
        best = candidates[0]
        # Asking back is never a wrong confident answer, so no minimum applies to it; but a lone
        # word among unknown ones ("en kurs i Excel") is not worth a question back either.
        if isinstance(best.entry, Clarification):
            if self._lone_guess(best, found, unknown):
                return self._composer.no_match(lang)
            return self._composer.clarification(best.entry, lang, best.score)
        if best.score < self._settings.min_score or self._lone_guess(best, found, unknown):
            return self._composer.no_match(lang)
        close = [
            c
            for c in candidates
            if best.score - c.score <= self._settings.tie_margin
            and not isinstance(c.entry, Clarification)
        ]
        if len(close) > 1:
            entries = [c.entry for c in close[: self._settings.max_options]]
            return self._composer.choose_between(entries, lang, best.score)  # type: ignore[arg-type]
        return self._composer.entry(best.entry, lang, score=best.score, regions=regions)

    def _lone_guess(self, best: Candidate, found: Found, unknown: int) -> bool:
        """One concept and words we do not know: the question is likely about something else
        ("vilka läkemedel får en ST-läkare skriva ut" is not about ST supervision). A concept
        named by a phrase of several words, or a heavy one, is specific enough on its own."""
        if best.explained > 1 or best.key[0].startswith(ALIAS_PREFIX):
            return False
        concept = best.key[0]
        trusted = (self._weights[concept] >= self._settings.trusted_concept_weight
                   or len(found[concept]) > 1)
        return not trusted and unknown >= self._settings.lone_key_unknown_limit

    def _candidates(self, found: Found, regions: set[str]) -> list[Candidate]:
        candidates = []
        indexes = {i for concept in found for i in self._by_concept.get(concept, ())}
        for index in sorted(indexes):
            entry = self._entries[index]
            scored = self._score(entry, found)
            if scored is not None:
                score, key, explained = scored
                if getattr(entry, "scope", None) in regions:
                    score += self._settings.region_bonus
                candidates.append(Candidate(entry, score, key, explained))
        candidates.sort(key=lambda c: c.score, reverse=True)
        return candidates

    def _score(
        self, entry: Entry | Clarification, found: Found
    ) -> tuple[float, tuple[str, ...], int] | None:
        if isinstance(entry, Clarification) and found.keys() & set(entry.unless):
            return None
        best: float | None = None
        best_key: list[str] = []
        covered: frozenset[int] = frozenset()
        for key in _keys(entry):
            if all(c in found for c in key):
                weight, positions = self._weigh(key, found, frozenset())
                if best is None or weight > best:
                    best, best_key, covered = weight, key, positions
        if best is None:
            return None
        mentioned = [c for c in {c for key in _keys(entry) for c in key} if c in found]
        extra, _ = self._weigh([c for c in mentioned if c not in best_key], found, covered)
        explained = len(set(best_key) | set(mentioned))
        return best + self._settings.mention_bonus * extra, tuple(best_key), explained

    def _weigh(
        self, concepts: Sequence[str], found: Found, covered: frozenset[int]
    ) -> tuple[float, frozenset[int]]:
        """The concepts' weight, counting the words of the question once: "studenter" is both
        a student and a university student, but it is one word of evidence."""
        total = 0.0
        for concept in sorted(concepts, key=lambda c: self._weights[c], reverse=True):
            positions = found[concept]
            if positions and positions <= covered:
                continue
            total += self._weights[concept]
            covered |= positions
        return total, covered


def _longest_readings(found: Found) -> Found:
    """Drops a concept whose words are part of a longer one's: "ST-kurser" is the ST course
    programme, not ST plus a course; "årliga rapporten" the annual report, not something yearly.
    Aliases identify an entry and do not hide the concepts inside them."""
    longer = [p for c, p in found.items() if not c.startswith(ALIAS_PREFIX)]
    return {c: p for c, p in found.items() if not any(p < other for other in longer)}


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

    def kind(self, tokens: list[str], filler: frozenset[str]) -> str | None:
        if not tokens:
            return "help"
        kinds: set[str] = set()
        position = 0
        while position < len(tokens):
            for phrase, kind in self._phrases:
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
