"""The coordinators' report: unanswered questions grouped by similarity, and answer ratings.

Grouping is greedy: the questions, as folded tokens (`bot.text.normalize`), are taken most frequent
wording first; each joins the first group whose first question is at least `threshold` similar
(among the groups sharing at least one word with it), else starts a new group. Similarity is word overlap (Dice), where two words are the same when
rapidfuzz's `ratio` is at least `WORD_RATIO` ("parkering" = "parkeringen", typos): character
measures over whole questions rate "Hur lång är handledarutbildningen?" and "Vad kostar
handledarutbildningen?" alike because of the one long word. Groups are listed largest first,
each with its count and up to three different wordings.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from bot.messages import Lang
from bot.text import normalize
from bot.unanswered import Rating, Unanswered

SIMILARITY = 0.6
WORD_RATIO = 80.0
EXAMPLES = 3


@dataclass
class Group:
    key: str  # the folded wording that started the group
    examples: list[str] = field(default_factory=list)
    count: int = 0
    abandoned: int = 0


def group_questions(questions: Sequence[Unanswered], threshold: float = SIMILARITY) -> list[Group]:
    """Similar questions together, largest group first (ties: first seen first)."""
    keys = [" ".join(normalize(q.text)) for q in questions]
    first: dict[str, str] = {}
    for key, question in zip(keys, questions, strict=True):
        first.setdefault(key, question.text)
    groups: list[Group] = []
    owner: dict[str, Group] = {}
    by_word: dict[str, list[int]] = {}  # word -> groups (by index) whose first question has it
    for key, _ in Counter(keys).most_common():
        candidates = sorted({i for word in key.split() for i in by_word.get(word, ())})
        found = next((i for i in candidates if similarity(key, groups[i].key) >= threshold), None)
        if found is None and not key:
            found = next((i for i, g in enumerate(groups) if not g.key), None)
        if found is None:
            found = len(groups)
            groups.append(Group(key))
            for word in set(key.split()):
                by_word.setdefault(word, []).append(found)
        group = owner[key] = groups[found]
        if len(group.examples) < EXAMPLES:
            group.examples.append(first[key])
    for key, question in zip(keys, questions, strict=True):
        owner[key].count += 1
        owner[key].abandoned += question.kind == "abandoned"
    return sorted(groups, key=lambda g: -g.count)


def similarity(a: str, b: str) -> float:
    """Share of words the two (space-separated, normalised) questions have in common, 0 to 1."""
    left, right = a.split(), b.split()
    if not left or not right:
        return 1.0 if left == right else 0.0
    unused = list(right)
    common = 0
    for word in left:
        match = next((w for w in unused if _same_word(word, w)), None)
        if match is not None:
            unused.remove(match)
            common += 1
    return 2 * common / (len(left) + len(right))


@functools.lru_cache(maxsize=1 << 16)
def _same_word(a: str, b: str) -> bool:
    return a == b or fuzz.ratio(a, b) >= WORD_RATIO


_TEXTS = {
    "sv": {
        "none": "Inga obesvarade frågor de senaste {days} dagarna.",
        "head": "Obesvarade frågor de senaste {days} dagarna: {total} st i {groups} grupper.",
        "abandoned": "varav {n} där följdfrågan lämnades obesvarad",
        "ratings": "Betyg på svar (👍/👎):",
        "no_ratings": "Inga betyg på svar ännu.",
        "nearest": (
            "närmast: {entry} (ska den svara, lägg frågan i postens `examples:`; "
            "se `handledarbot explain`)"
        ),
    },
    "en": {
        "none": "No unanswered questions in the last {days} days.",
        "head": "Unanswered questions in the last {days} days: {total} in {groups} groups.",
        "abandoned": "of which {n} left a clarifying question unanswered",
        "ratings": "Answer ratings (👍/👎):",
        "no_ratings": "No answer ratings yet.",
        "nearest": (
            "closest: {entry} (if it should answer, add the question to the entry's "
            "`examples:`; see `handledarbot explain`)"
        ),
    },
}


def format_report(
    questions: Sequence[Unanswered],
    ratings: Sequence[Rating],
    *,
    days: int,
    lang: Lang = "sv",
    limit: int = 30,
    nearest: Callable[[str], str | None] | None = None,
) -> str:
    """The report as plain text (the console, and chat, where adapters escape it).

    `nearest` (optional) names the entry whose own words are closest to a question (the
    engine's `nearest_entry`): where that entry should have answered, the coordinator adds the
    question to its `examples:` in the knowledge base."""
    words = _TEXTS[lang]
    groups = group_questions(questions)
    lines: list[str] = []
    if not groups:
        lines.append(words["none"].format(days=days))
    else:
        lines.append(words["head"].format(days=days, total=len(questions), groups=len(groups)))
    for group in groups[:limit]:
        extra = f" ({words['abandoned'].format(n=group.abandoned)})" if group.abandoned else ""
        lines.append(f"{group.count} × {group.examples[0]}{extra}")
        lines += [f"    ~ {example}" for example in group.examples[1:]]
        closest = nearest(group.examples[0]) if nearest is not None else None
        if closest is not None:
            lines.append("    → " + words["nearest"].format(entry=closest))
    lines.append("")
    lines.append(words["ratings"] if ratings else words["no_ratings"])
    for rating in sorted(ratings, key=lambda r: (-(r.up + r.down), r.entry_id)):
        lines.append(f"{rating.entry_id}: 👍 {rating.up}  👎 {rating.down}")
    return "\n".join(lines)
