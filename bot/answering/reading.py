"""Step 1 of answering: what a question says, before any entry is considered.

A `Reading` holds the question's words (folded tokens), its language, the concepts found in it
with the positions of the words that name them, what is negated ("inte ST utan AT"), the regions
it names, the facets (details) it asks for, the numbers it mentions, and the words nobody knows.
The reminder parser and the engine read text the same way (`bot.text`, `bot.language`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from bot.answering.concepts import ConceptMatcher
from bot.language import FUNCTION_WORDS, detect_language
from bot.messages import Lang
from bot.text import fold, normalize

ALIAS_PREFIX = "alias--"
# The concepts found in a question, each with the positions of the words that name it.
Found = Mapping[str, frozenset[int]]

# A negation opens a span that excludes what it names: "inte ST utan AT", "not the web course,
# the longer one". It counts only at the start of a clause or when a contrast follows in the same
# clause, so that "räcker det inte med webbkursen?" keeps its words.
NEGATIONS = frozenset({
    "inte", "ej", "icke", "not", "utom", "forutom", "except", "excluding", "skip", "bortsett",
    "exklusive", "exkl", "besides", "apart", "aside", "utover",
})
CONTRASTS = frozenset({"utan", "but", "instead", "rather"})
# A point or comma between digits is a decimal ("1.5 h", "7,5 hp"), not a clause's end.
_QUOTED = re.compile(r"(?<!\w)'[^']+'(?!\w)|\"[^\"]+\"|[”“][^”“]+[”“]|«[^»]+»")
_CLAUSE = re.compile(r"(?<!\d)[,.]|[,.](?!\d)|[;!?:()\u2013\u2014]|\s-\s")


@dataclass(frozen=True, slots=True)
class Reading:
    text: str
    lang: Lang
    tokens: tuple[str, ...]
    found: Found
    # Concepts whose every word lies in a negated span (removed from `found`).
    negated: frozenset[str] = frozenset()
    negated_positions: frozenset[int] = frozenset()
    # The negated concepts with their positions ("not the orthopaedic course": which words).
    ruled_out: tuple[tuple[str, frozenset[int]], ...] = ()
    # Tokens that are no vocabulary word, function word or filler.
    unknown: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    # Positions of content tokens (neither function words nor filler).
    content: tuple[int, ...] = field(default=())
    # The region the user works in (profile) or the deployment's, when known: a scope id.
    home: str | None = None
    # Read with words of the last answer added (a follow-up).
    from_context: bool = False
    # Positions of the words of statements in a message that also asks ("Jag handleder en läkare
    # inför ansökan om legitimation. Vilken kurs behöver jag?"): context, not what is asked.
    told: frozenset[int] = frozenset()

    def positions_of(self, concepts: set[str] | list[str] | tuple[str, ...]) -> frozenset[int]:
        covered: set[int] = set()
        for concept in concepts:
            covered |= self.found.get(concept, frozenset())
        return frozenset(covered)


def read(
    text: str,
    matcher: ConceptMatcher,
    *,
    filler: frozenset[str],
    names: frozenset[str] = frozenset(),
    ignorable: frozenset[str] | None = None,
    transparent: frozenset[str] = frozenset(),
) -> Reading:
    """Reads `text`: tokens, language, concepts (longest readings), negation, unknown words.
    `names`: concepts that name a thing (a course, an organisation); like entries' aliases, their
    words are left out when telling the language. `ignorable`: `filler | FUNCTION_WORDS`, if
    the caller has it at hand. `transparent`: concepts whose words hide no other concept's
    (regions: "enligt Socialstyrelsen" is an attribution and still names Socialstyrelsen)."""
    # A quoted name ("what is 'verksamhetsintegrerat lärande'?") says nothing of the asker's
    # language; the words around it do.
    unquoted = _QUOTED.sub(" ", text)
    lang = detect_language(unquoted if unquoted != text and normalize(unquoted) else text)
    tokens, clause_of = _tokens_with_clauses(text)
    typed = _as_typed(text, tokens) if matcher.acronyms else []
    capitals = _in_capitals(text, typed)
    every = dict(matcher.find(tokens, skip=filler))
    prepositions = _typed_at(typed)
    if prepositions:
        # "handledare åt BT-läkare": "åt" folds to "at", but typed with its å it is the
        # preposition, never the abbreviation AT ("at bt" is a term of AT: "AT/BT").
        marked = [t if i not in prepositions else "\u00e5t" for i, t in enumerate(tokens)]
        apart = matcher.find(marked, skip=filler)
        for concept in {c for cs in matcher.acronyms.values() for c in cs}:
            if concept in apart:
                every[concept] = apart[concept]
            else:
                every.pop(concept, None)
    for position in capitals:
        for concept in matcher.acronyms.get(tokens[position], ()):
            every[concept] = every.get(concept, frozenset()) | {position}
    found = longest_readings(every, transparent)
    # A name's whole span, its small words too ("för", "och", "i" in "Högskolepedagogik för
    # lärare och handledare i verksamhetsförlagd utbildning").
    named = {
        p for c, ps in found.items() if c.startswith(ALIAS_PREFIX) or c in names
        for a, b in pairwise(sorted(ps)) if b - a <= 2 for p in range(a, b + 1)
    } | {p for c, ps in found.items() if c.startswith(ALIAS_PREFIX) or c in names for p in ps}
    if named and len(tokens) - len(named) >= 3:
        # A Swedish course name in an English question ("apply for Högskolepedagogik för
        # lärare och handledare i VFU") says nothing about the asker's language.
        lang = detect_language(" ".join(t for i, t in enumerate(tokens) if i not in named))
    negated_positions = _negated(tokens, clause_of)
    negated = frozenset(
        c for c, p in found.items() if p and p <= negated_positions
    )
    kept = {c: p for c, p in found.items() if c not in negated}
    if ignorable is None:
        ignorable = filler | FUNCTION_WORDS
    # A lone letter is a clitic or a slip ("ST:n", "AT:s"), never a word of its own.
    # A negation word ("skip", "inte") is understood: it is neither unknown nor content.
    unknown = tuple(
        w for w in matcher.unknown(tokens, skip=ignorable)
        if not _lone_letter(w) and w not in NEGATIONS
    )
    acronyms = frozenset(p for p in capitals if tokens[p] in matcher.acronyms)
    # A number in what is ruled out ("inte introkursen på 1,5 h utan ...") is not asked about.
    numbers = tuple(
        t for i, t in enumerate(tokens) if t.isdigit() and i not in negated_positions
    )
    content = tuple(
        i for i, t in enumerate(tokens)
        if (t not in ignorable or i in acronyms) and i not in negated_positions
        and not _lone_letter(t) and t not in NEGATIONS
    )
    return Reading(
        text=text,
        told=_told(text),
        lang=lang,
        tokens=tuple(tokens),
        found=kept,
        negated=negated,
        negated_positions=negated_positions,
        ruled_out=tuple(sorted((c, p) for c, p in found.items() if c in negated)),
        unknown=unknown,
        numbers=numbers,
        content=content,
    )


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _told(text: str) -> frozenset[int]:
    """Token positions of the sentences that do not ask, when another sentence does (ends with
    "?"): what the user tells about themselves is not the facet they ask for."""
    parts = _SENTENCE.split(text.strip())
    if len(parts) < 2:
        return frozenset()  # one sentence
    sentences = [s for s in parts if normalize(s)]
    asking = [s.rstrip().endswith("?") for s in sentences]
    if len(sentences) < 2 or not any(asking) or all(asking):
        return frozenset()
    told: set[int] = set()
    position = 0
    for sentence, asks in zip(sentences, asking, strict=True):
        count = len(normalize(sentence))
        if not asks:
            told.update(range(position, position + count))
        position += count
    return frozenset(told)


_TOKEN = re.compile(r"[0-9a-z*]+")


def _as_typed(text: str, tokens: list[str]) -> list[str]:
    """Each token as it was typed (compatibility-normalised, case and accents kept); empty when
    a letter whose lower case is longer keeps the positions from lining up."""
    original = unicodedata.normalize("NFKC", text)
    folded = fold(text)
    if len(original) != len(folded):
        return []
    return [original[m.start():m.end()] for m in _TOKEN.finditer(folded)][:len(tokens)]


def _in_capitals(text: str, typed: list[str]) -> frozenset[int]:
    """Positions of the tokens typed in capitals ("AT", "BT") of at least two letters, unless
    the whole message is in capitals (shouting says nothing of abbreviations)."""
    original = unicodedata.normalize("NFKC", text)
    if original.upper() == original:
        return frozenset()
    return frozenset(
        position for position, word in enumerate(typed)
        if len(word) >= 2 and word.isalpha() and word.isupper()
    )


def _typed_at(typed: list[str]) -> frozenset[int]:
    """Positions of the tokens typed "åt" (with its å: the preposition, "for")."""
    return frozenset(position for position, word in enumerate(typed) if word.lower() == "åt")


def _lone_letter(token: str) -> bool:
    return len(token) == 1 and not token.isdigit()


def longest_readings(found: Found, transparent: frozenset[str] = frozenset()) -> Found:
    """Drops a concept whose words are part of a longer one's: "ST-kurser" is the ST course
    programme, not ST plus a course; "årliga rapporten" the annual report, not something yearly.
    Compared run by run (a run: words in a row), so that a concept named twice in a question
    hides nothing beyond each of its own runs. Aliases identify an entry and hide nothing."""
    others = [
        (c, _runs(p)) for c, p in found.items() if not c.startswith(ALIAS_PREFIX)
    ]
    if len(others) < 2:
        return dict(found)  # no longer concept to hide one in
    runs_of = dict(others)
    # A run is hidden in a longer run that contains it (runs are words in a row); a longer run
    # is never the same concept's (its runs are apart).
    spans = {run for c, runs in others if c not in transparent for run in runs}
    hidden_runs = {
        (first, last) for first, last in spans
        if any(s <= first and last <= e and (s, e) != (first, last) for s, e in spans)
    }
    kept = {}
    for concept, positions in found.items():
        runs = runs_of.get(concept)
        if runs is None:  # an alias
            kept[concept] = positions
            continue
        if not runs or not all(run in hidden_runs for run in runs):
            kept[concept] = positions
    return kept


def _runs(positions: frozenset[int]) -> list[tuple[int, int]]:
    """The runs of words in a row among `positions`: (first, last) each, in order."""
    runs: list[tuple[int, int]] = []
    for position in sorted(positions):
        if runs and position == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], position)
        else:
            runs.append((position, position))
    return runs


def _tokens_with_clauses(text: str) -> tuple[list[str], list[int]]:
    tokens: list[str] = []
    clause_of: list[int] = []
    for index, clause in enumerate(_CLAUSE.split(text)):
        for token in normalize(clause):
            tokens.append(token)
            clause_of.append(index)
    return tokens, clause_of


def _negated(tokens: list[str], clause_of: list[int]) -> frozenset[int]:
    negated: set[int] = set()
    for position, token in enumerate(tokens):
        # "other than X" rules X out like "except X".
        opener = position - 1 if token == "than" and position and tokens[position - 1] == "other" else position
        if token not in NEGATIONS and opener == position:
            continue
        clause = clause_of[position]
        span = []
        contrast = False
        for later in range(position + 1, len(tokens)):
            if clause_of[later] != clause:
                break
            if tokens[later] in CONTRASTS:
                contrast = True
                break
            span.append(later)
        starts_clause = opener == 0 or clause_of[opener - 1] != clause
        if span and (contrast or starts_clause):
            negated.update(span)
    return frozenset(negated)
