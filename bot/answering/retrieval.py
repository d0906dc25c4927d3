"""Step 2 of answering: ranked retrieval (BM25, via bm25s) over every entry's own words.

Each entry is one document: its title or name, aliases, text, course facts and example questions,
in Swedish and English, folded and stemmed with Snowball's Swedish stemmer (snowballstemmer;
English words pass through it harmlessly, the same way in documents and questions). Retrieval is
one signal beside the concept layer: it finds entries by words that only occur in their text
("mallar", "återträffar", "medsittning"), and it tells which words of a question an entry does
not speak of (`grounded`), which the engine uses to keep precision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np
import snowballstemmer

from bot.knowledge.schema import CadenceGroup, Course, Guidance, Role, Text
from bot.text import normalize

Entry = Course | Role | Guidance | CadenceGroup

_STEMMER = snowballstemmer.stemmer("swedish")
# bm25s narrates every index build at DEBUG: not news for an operator's log.
logging.getLogger("bm25s").setLevel(logging.WARNING)


@lru_cache(maxsize=100_000)
def stem(token: str) -> str:
    """The Snowball (Swedish) stem of a folded token."""
    return str(_STEMMER.stemWord(token))


def stems(text: str) -> list[str]:
    return [stem(t) for t in normalize(text)]


def document_text(entry: Entry) -> str:
    """Every word an entry states or is asked with, in both languages."""
    parts: list[Text | str] = []
    if isinstance(entry, Course | Role):
        parts += [entry.name, *entry.aliases]
    else:
        parts.append(entry.title)
    parts.append(entry.text)
    if isinstance(entry, Course):
        parts += [
            t for t in (entry.provider, entry.format, entry.duration, entry.credits, entry.apply)
            if t is not None
        ]
    parts += entry.examples
    return " ".join(p if isinstance(p, str) else f"{p.sv} {p.en}" for p in parts)


def _best(scores: np.ndarray, top: int) -> list[int]:
    """The indexes of the `top` highest positive scores, highest first, equal scores in index
    order (deterministic). Only the entries scoring at least the `top`-th highest score (all
    of those, so that ties are kept whole) are sorted: a base of thousands needs only a few."""
    if top <= 0:
        return []
    cut = len(scores) - top
    threshold = np.partition(scores, cut)[cut] if cut > 0 else 0
    chosen = np.flatnonzero(scores >= threshold) if threshold > 0 else np.flatnonzero(scores > 0)
    order = chosen[np.lexsort((chosen, -scores[chosen]))]
    best: list[int] = order[:top].tolist()
    return best


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: str
    score: float


class Retriever:
    """BM25 over the entries; `search` ranks them for a question's tokens."""

    def __init__(
        self, entries: Iterable[Entry], *, ignore: frozenset[str],
        rank_only: frozenset[str] = frozenset(),
        tokens: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`ignore`: words neither indexed nor searched. `rank_only`: words among them that
        rank entries when searched for but ground nothing (`grounded`, `known`): the field's
        own words ("handledning" would otherwise ground every compound of it). `tokens`: each
        entry's `normalize(document_text(entry))` by id, where the caller has them already."""
        self._ids: list[str] = []
        corpus: list[list[str]] = []
        self._vocab: list[frozenset[str]] = []
        ranked = ignore - rank_only
        self._rank_only = rank_only
        # The rank-only words that can end a compound, by length: a token's ending is looked
        # up once per length, not compared with every word.
        self._head_lengths = sorted({len(w) for w in rank_only if len(w) >= 5})
        self._head_terms = {w: _ranked(w) for w in rank_only if len(w) >= 5}
        heads: dict[str, list[str]] = {}  # a token's, worked out once per build
        for entry in entries:
            known = tokens.get(entry.id) if tokens is not None else None
            words_of = normalize(document_text(entry)) if known is None else known
            # A rank-only word is its own term: "handledare" does not make "handledarens",
            # which shares its stem, any more common.
            words = [_ranked(t) if t in rank_only else stem(t) for t in words_of if t not in ranked]
            for token in words_of:
                found = heads.get(token)
                if found is None:
                    found = heads[token] = self._heads((token,))
                words += found
            self._ids.append(entry.id)
            corpus.append(words or ["-"])
            self._vocab.append(frozenset(stem(t) for t in words_of if t not in ignore))
        self._index_of = {entry_id: i for i, entry_id in enumerate(self._ids)}
        self._ignore = ranked
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        self._known = frozenset().union(*self._vocab) if self._vocab else frozenset()
        self._ranked = self._known | {_ranked(t) for t in rank_only}

    def search(self, tokens: Sequence[str], *, top: int = 5) -> list[Hit]:
        words = [
            _ranked(t) if t in self._rank_only else stem(t)
            for t in tokens if t not in self._ignore and not t.isdigit()
        ]
        words += self._heads(tokens)
        words = [w for w in words if w in self._ranked]
        if not words or not self._ids:
            return []
        scores = self._bm25.get_scores(words)
        best = _best(scores, top)
        return [Hit(self._ids[i], s) for i, s in zip(best, scores[best].tolist(), strict=True)]

    def _heads(self, tokens: Sequence[str]) -> list[str]:
        """The rank-only words that end compounds among `tokens`: a "handledarutbildning" is
        an "utbildning" too."""
        heads = []
        for token in tokens:
            for length in self._head_lengths:
                if length >= len(token):
                    break
                term = self._head_terms.get(token[-length:])
                if term is not None:
                    heads.append(term)
        return heads

    def grounded(self, entry_id: str, token: str, *, whole: bool = False) -> bool:
        """Whether the entry's own words include `token` (by stem, or as a compound part).
        `whole`: the token itself, not only a part of it ("studierektor" does not ground
        "studierektorsgruppen"), must be in one of the entry's words."""
        index = self._index_of.get(entry_id)
        if index is None:
            return False
        vocab = self._vocab[index]
        word = stem(token)
        if word in vocab or _definite(token) in vocab:
            return True
        return len(word) >= 5 and any(
            len(v) >= 5 and (word in v or (not whole and v in word)) for v in vocab
        )

    def known(self, token: str) -> bool:
        """Whether any entry uses this word."""
        return stem(token) in self._known or _definite(token) in self._known


def _ranked(token: str) -> str:
    """The index term of a rank-only word: marked apart from the stems of content words."""
    return "=" + stem(token)


def _definite(token: str) -> str:
    """The stem of a noun ending in a vowel, taken from its definite form: folded (å→a) the
    stemmer reads "omrade" (område) as a participle ("omr") but "omraden" as "omrad"."""
    return stem(token + "n") if token[-1:] in ("a", "e") else stem(token)
