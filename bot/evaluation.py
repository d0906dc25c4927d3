"""Runs a question set against the engine: the knowledge base's regression test.

The format is that of `shared/eval/questions-dev.yaml`: `q`, `lang`, `expect` (answer | clarify |
no_match), `must_include` (case-insensitive substrings, `a|b` = either; `?` in a clarify item means
the reply asks back), `category` and, optionally, `kind`.

`expect` may be a list of statuses: the first is preferred, any is right; `must_include` is
checked only when the reply has the first status. A question whose only acceptable status is
`no_match` is *out of scope*: answering it with `answer` is the worst failure, listed first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.messages import Reply, Status
from bot.render_text import render_text


@dataclass(frozen=True, slots=True)
class Question:
    q: str
    lang: str
    expect: tuple[str, ...]
    must_include: tuple[str, ...]
    category: str
    kind: str = ""

    @property
    def out_of_scope(self) -> bool:
        """Only `no_match` is right: the sources cannot answer it."""
        return self.expect == (Status.NO_MATCH,)


@dataclass(frozen=True, slots=True)
class Outcome:
    question: Question
    status: str
    lang: str
    text: str
    problems: tuple[str, ...]

    @property
    def right(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Report:
    outcomes: tuple[Outcome, ...]

    @property
    def share_right(self) -> float:
        return sum(o.right for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def out_of_scope_answered(self) -> list[Outcome]:
        return [
            o
            for o in self.outcomes
            if o.question.out_of_scope and o.status == Status.ANSWER
        ]

    def by_category(self) -> dict[str, tuple[int, int]]:
        return self._table(lambda q: q.category)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        return self._table(lambda q: q.kind) if any(o.question.kind for o in self.outcomes) else {}

    def _table(self, group: Callable[[Question], str]) -> dict[str, tuple[int, int]]:
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for outcome in self.outcomes:
            table[group(outcome.question)][0] += outcome.right
            table[group(outcome.question)][1] += 1
        return {c: (r, n) for c, (r, n) in sorted(table.items())}


class QuestionSetError(ValueError):
    """A question file that cannot be read: the message names the file, the item and the fix."""


def load_questions(path: Path) -> list[Question]:
    """The questions of a YAML question set: a list of items, or a mapping whose `questions` key
    holds that list. Each item has `q` and `expect` (a status or a list of statuses, the first
    preferred) and optionally `lang` (default sv), `must_include` (strings, `a|b` for
    alternatives), `category` and `kind`. Raises `QuestionSetError` on a file of another shape."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as error:
        raise QuestionSetError(f"{path}: cannot be read as YAML ({error})") from error
    items = loaded.get("questions") if isinstance(loaded, dict) else loaded
    if not isinstance(items, list):
        raise QuestionSetError(
            f"{path}: expected a list of questions (or a `questions:` key holding one)"
        )
    questions = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "q" not in item or "expect" not in item:
            raise QuestionSetError(
                f"{path}: question {number} needs the keys `q` and `expect`: {item!r:.80}"
            )
        expect = item["expect"]
        questions.append(
            Question(
                q=str(item["q"]),
                lang=str(item.get("lang", "sv")),
                expect=tuple(str(e) for e in expect) if isinstance(expect, list) else (str(expect),),
                must_include=tuple(str(m) for m in item.get("must_include") or ()),
                category=str(item.get("category", "-")),
                kind=str(item.get("kind", "")),
            )
        )
    return questions


def judge(question: Question, reply: Reply) -> Outcome:
    text = render_text(reply)
    problems = []
    if reply.status not in question.expect:
        problems.append(f"expected {' or '.join(question.expect)}, got {reply.status}")
    if reply.lang != question.lang:
        problems.append(f"expected a reply in {question.lang}, got {reply.lang}")
    lowered = text.lower()
    if reply.status == question.expect[0]:
        for required in question.must_include:
            if required == "?" and reply.question:
                continue
            if not any(alt.lower() in lowered for alt in required.split("|")):
                problems.append(f"missing '{required}'")
    return Outcome(question, str(reply.status), reply.lang, text, tuple(problems))


def run(ask: Callable[[str], Reply], questions: Sequence[Question]) -> Report:
    return Report(tuple(judge(q, ask(q.q)) for q in questions))


async def run_async(
    ask: Callable[[str], Awaitable[Reply]], questions: Sequence[Question]
) -> Report:
    """`run` for an asynchronous `ask` (the service): the questions one after another."""
    return Report(tuple([judge(q, await ask(q.q)) for q in questions]))


def format_report(report: Report) -> str:
    lines = [f"{len(report.outcomes)} questions, {report.share_right:.1%} right"]
    for category, (right, total) in report.by_category().items():
        lines.append(f"  category {category}: {right}/{total} ({right / total:.0%})")
    for kind, (right, total) in report.by_kind().items():
        lines.append(f"  kind {kind or '-'}: {right}/{total} ({right / total:.0%})")
    answered = report.out_of_scope_answered
    if answered:
        lines.append(f"OUT-OF-SCOPE ANSWERED: {len(answered)}")
    wrong = answered + [o for o in report.outcomes if not o.right and o not in answered]
    for outcome in wrong:
        lines.append(f"\nFAIL [{outcome.question.category}] {outcome.question.q}")
        lines += [f"  - {p}" for p in outcome.problems]
        lines.append("  reply: " + outcome.text.replace("\n", "\n         ")[:600])
    return "\n".join(lines)
