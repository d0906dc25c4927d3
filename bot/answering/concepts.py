"""Finds the knowledge base's concepts in what a person typed, typos and compounds included.

Each vocabulary term is a token pattern: a word ("handledare"), a stem ("handled*", any ending),
or several of those in sequence ("hur ofta"). A typed token matches a pattern word exactly, by
stem prefix, as the head of a Swedish compound ("sjuksköterske|studenter"), or, failing those,
within a small edit distance (rapidfuzz), so "handledarutbilning" still finds its concept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.knowledge.schema import Concept
from bot.text import normalize


@dataclass(frozen=True, slots=True)
class FuzzySettings:
    """Typo tolerance, chosen on the question sets in `knowledge/` and `shared/eval/`."""

    min_length: int = 5  # shorter tokens (ST, AKA, APL) must be typed right
    long_length: int = 9  # from this length on, two typos are forgiven, below it one
    min_compound_stem: int = 6  # a stem this long is also found inside a compound word
    stem_gap_to_correct: int = 6  # a stem this much shorter than the word leaves room for a typo
    cache_size: int = 50_000


Pattern = tuple[str, ...]


class ConceptMatcher:
    def __init__(
        self,
        concepts: Iterable[Concept],
        *,
        fuzzy: FuzzySettings | None = None,
        exact_only: frozenset[str] = frozenset(),
    ) -> None:
        """`exact_only`: concept ids never reached by typo correction (facets: a wrongly
        corrected "longer" → "löner" would turn a question into an honest no-match)."""
        concepts = list(concepts)
        self._fuzzy = fuzzy or FuzzySettings()
        correctable: set[str] = set()
        self._single: dict[str, set[str]] = defaultdict(set)
        self._multi: dict[str, list[tuple[Pattern, str]]] = defaultdict(list)
        for concept in concepts:
            for term in concept.terms:
                pattern = tuple(normalize(term))
                if concept.id not in exact_only:
                    correctable.update(pattern)
                if len(pattern) == 1:
                    self._single[pattern[0]].add(concept.id)
                elif pattern:
                    self._multi[pattern[0]].append((pattern, concept.id))
        words = {word for word in self._single} | {
            word for patterns in self._multi.values() for pattern, _ in patterns for word in pattern
        }
        self._exact = {w for w in words if not w.endswith("*")}
        self._stems = {w[:-1] for w in words if w.endswith("*") and len(w) > 1}
        self._stem_lengths = sorted({len(s) for s in self._stems})
        # Typo candidates are looked up by first letter and length, which keeps the fuzzy search
        # small however large the vocabulary grows (a typo in the first letter is not forgiven).
        self._exact_index = _index(w for w in self._exact if w in correctable)
        self._stem_index = _index(s for s in self._stems if s + "*" in correctable)
        # Typed words already looked up: no lru_cache of a bound method, which would tie the
        # matcher into a reference cycle (kept forever once the engine is frozen out of the
        # collector's sight, see bot.enginebuild) and cannot be pickled.
        self._memo: dict[tuple[str, bool], frozenset[str]] = {}
        # Folded acronym -> the concepts it names when typed in capitals.
        self.acronyms: dict[str, frozenset[str]] = {}
        for concept in concepts:
            for acronym in concept.acronyms:
                for word in normalize(acronym):
                    self.acronyms[word] = self.acronyms.get(word, frozenset()) | {concept.id}

    def __getstate__(self) -> dict[str, object]:
        """Pickles without the memo of typed words: it is only a cache."""
        return {k: v for k, v in self.__dict__.items() if k != "_memo"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._memo = {}

    def words_of(self, token: str, is_filler: bool) -> frozenset[str]:
        """The vocabulary pattern words (`stem*` for stems) that this typed token matches."""
        key = (token, is_filler)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= self._fuzzy.cache_size:
                self._memo.clear()
            found = self._memo[key] = self._words_of(token, is_filler)
        return found

    def find(
        self, tokens: list[str], *, skip: frozenset[str] = frozenset(), exact: bool = False
    ) -> dict[str, frozenset[int]]:
        """The concepts whose terms occur in `tokens`, each with the token positions it covers.
        `exact`: words and stems only, no compound parts or typos (for text the knowledge base
        itself writes: cheaper, and nothing in it is mistyped)."""
        if exact:
            words = [self._exact_words_of(token) for token in tokens]
        else:
            words = [self.words_of(token, token in skip) for token in tokens]
        found: dict[str, set[int]] = defaultdict(set)
        for position, matched in enumerate(words):
            for word in matched:
                for concept in self._single.get(word, ()):
                    found[concept].add(position)
                for pattern, concept in self._multi.get(word, ()):
                    # The second word first: most patterns ("region dalarna") end there.
                    if position + 1 >= len(words) or pattern[1] not in words[position + 1]:
                        continue
                    if _sequence_at(pattern, words, position):
                        found[concept].update(range(position, position + len(pattern)))
        return {concept: frozenset(positions) for concept, positions in found.items()}

    def unknown(self, tokens: list[str], *, skip: frozenset[str] = frozenset()) -> list[str]:
        """The tokens that are no vocabulary word at all (nor `skip` words, nor numbers)."""
        return [
            t for t in tokens if t not in skip and not t.isdigit() and not self.words_of(t, False)
        ]

    def _exact_words_of(self, token: str) -> frozenset[str]:
        matched = {token} if token in self._exact else set()
        for length in self._stem_lengths:
            if length > len(token):
                break
            if token[:length] in self._stems:
                matched.add(token[:length] + "*")
        return frozenset(matched)

    def _words_of(self, token: str, is_filler: bool) -> frozenset[str]:
        matched: set[str] = set()
        if token in self._exact:
            matched.add(token)
        for length in self._stem_lengths:
            if length > len(token):
                break
            if token[:length] in self._stems:
                matched.add(token[:length] + "*")
        if len(token) >= self._fuzzy.min_compound_stem + 2 and token not in self._exact:
            # A word the vocabulary knows as it stands is not split: "supervision" is not
            # also "vision".
            matched |= self._compound_heads(token)
        if (
            not is_filler
            and len(token) >= self._fuzzy.min_length
            and self._worth_correcting(token, matched)
        ):
            matched |= self._near(token)
        return frozenset(matched)

    def _worth_correcting(self, token: str, matched: set[str]) -> bool:
        """Nothing matched, or only a short stem of a long word ("högskol*" of a mistyped
        "högskolepedagogk"): a typo may hide the word that was meant."""
        if not matched:
            # "dagarna" is "dagar" in its definite form, not a typo of "Dalarna".
            return not any(
                token.endswith(ending) and token[: -len(ending)] in self._exact
                for ending in _INFLECTIONS if len(token) - len(ending) >= 4
            )
        if any(not word.endswith("*") for word in matched):
            return False
        longest = max(len(word) - 1 for word in matched)
        return len(token) - longest >= self._fuzzy.stem_gap_to_correct

    def _compound_heads(self, token: str) -> set[str]:
        found = set()
        minimum = self._fuzzy.min_compound_stem
        for start in range(1, len(token) - minimum + 1):
            tail = token[start:]
            if tail in self._exact and len(tail) >= minimum:
                found.add(tail)
            for length in self._stem_lengths:
                if length >= minimum and token[start : start + length] in self._stems:
                    found.add(token[start : start + length] + "*")
        return found

    def _near(self, token: str) -> set[str]:
        limit = 1 if len(token) < self._fuzzy.long_length else 2
        found = set()
        best: tuple[int, str] | None = None
        for length in range(len(token) - limit, len(token) + limit + 1):
            words = self._exact_index.get((token[0], length), ())
            near = process.extractOne(token, words, scorer=Levenshtein.distance, score_cutoff=limit)
            if near is not None and (best is None or near[1] < best[0]):
                best = (near[1], near[0])
        if best is not None:
            found.add(best[1])
        for length in self._stem_lengths:
            if length < self._fuzzy.min_length or length > len(token) + 1:
                continue
            stems = self._stem_index.get((token[0], length), ())
            for prefix in {token[: length - 1], token[:length], token[: length + 1]}:
                near = process.extractOne(
                    prefix, stems, scorer=Levenshtein.distance, score_cutoff=1
                )
                if near is not None:
                    found.add(near[0] + "*")
        return found


# Swedish definite and plural endings: a vocabulary word with one of these is that word
# inflected, never a typo of another.
_INFLECTIONS = ("na", "arna", "erna", "orna", "en", "et", "n", "t", "ar", "er", "or")


def _sequence_at(pattern: Pattern, words: list[frozenset[str]], position: int) -> bool:
    if position + len(pattern) > len(words):
        return False
    return all(word in words[position + offset] for offset, word in enumerate(pattern))


def _index(words: Iterable[str]) -> Mapping[tuple[str, int], list[str]]:
    table: dict[tuple[str, int], list[str]] = defaultdict(list)
    for word in words:
        table[(word[0], len(word))].append(word)
    return table
