"""Reminder replies: what is due at a meeting, each topic with its cadence and its source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from bot.knowledge.schema import Source, Topic
from bot.messages import Lang, Option, Reply, SourceRef, Status
from bot.reminders.due import due_topics
from bot.reminders.model import Reminder, to_epoch
from bot.reminders.phrases import PHRASES

SNOOZE_HOUR = 3600
SNOOZE_DAY = 86400


@dataclass(frozen=True, slots=True)
class Knowledge:
    """The part of the knowledge base reminders need."""

    topics: Sequence[Topic]
    sources: Mapping[str, Source]


def what(reminder: Reminder, lang: Lang) -> str:
    words = PHRASES[lang]
    return words.with_label.format(label=reminder.label) if reminder.label else words.without_label


def topic_lines(
    knowledge: Knowledge, reminder: Reminder, meeting: datetime, lang: Lang
) -> list[str]:
    """One line per topic due at `meeting`, then one line naming the sources once.

    Topics counted "times during ST" that are due at the same meeting are one line: the Skåne
    table lists them as alternatives ("Specialistkollegium alt 360 gradersbedömning")."""
    return _lines(knowledge, _due(tuple(knowledge.topics), reminder, meeting), lang)


def _lines(knowledge: Knowledge, due: Sequence[Topic], lang: Lang) -> list[str]:
    words = PHRASES[lang]
    lines: list[str] = []
    alternatives = [t for t in due if t.cadence.kind == "times_during_st"]
    for topic in due:
        if topic in alternatives[1:]:
            continue
        if topic is (alternatives[0] if len(alternatives) > 1 else None):
            lines.append(
                words.alternatives_line.format(
                    titles=words.either.join(getattr(t.title, lang) for t in alternatives),
                    cadences="; ".join(
                        f"{getattr(t.title, lang)}: {words.cadence(t.cadence)}"
                        + (f" ({getattr(t.cadence.note, lang)})" if t.cadence.note else "")
                        for t in alternatives
                    ),
                )
            )
            continue
        note = getattr(topic.cadence.note, lang) if topic.cadence.note else ""
        lines.append(
            words.topic_line.format(
                title=getattr(topic.title, lang),
                cadence=words.cadence(topic.cadence),
                note=f" ({note})" if note else "",
            )
        )
    cited = dict.fromkeys(
        _citation(knowledge.sources.get(topic.source), topic.source) for topic in due
    )
    if cited:
        label = words.source if len(cited) == 1 else words.sources
        lines.append(f"{label}: {'; '.join(cited)}")
    return lines


def used_sources(
    knowledge: Knowledge, reminder: Reminder, meeting: datetime, lang: Lang = "sv"
) -> tuple[SourceRef, ...]:
    return _sources(knowledge, _due(tuple(knowledge.topics), reminder, meeting), lang)


def _sources(knowledge: Knowledge, due: Sequence[Topic], lang: Lang) -> tuple[SourceRef, ...]:
    seen: dict[str, SourceRef] = {}
    for topic in due:
        source = knowledge.sources.get(topic.source)
        if source is not None and source.id not in seen:
            dated = getattr(source.source_date, lang) if source.source_date else None
            seen[source.id] = SourceRef(
                source.title, source.publisher, source.scope, source.reviewed, source.url, dated
            )
    return tuple(seen.values())


def meeting_text(knowledge: Knowledge, reminder: Reminder, meeting: datetime, lang: Lang) -> str:
    return _text(_lines(knowledge, _due(tuple(knowledge.topics), reminder, meeting), lang), lang)


def _text(lines: list[str], lang: Lang) -> str:
    words = PHRASES[lang]
    return "\n".join([words.to_cover, *lines]) if lines else words.nothing_due


def delivered(
    knowledge: Knowledge,
    reminder: Reminder,
    occurrence: datetime,
    seq: int,
    *,
    late_since: datetime | None,
) -> Reply:
    """The proactive reminder; its options come back as `reminder:snooze|skip:...` choices.
    Its due topics are computed once and not cached (each delivery is another meeting)."""
    lang = reminder.lang
    due = due_topics(knowledge.topics, reminder, occurrence)
    words = PHRASES[lang]
    local = reminder.schedule.local(occurrence)
    paragraphs = [words.reminder.format(what=what(reminder, lang), date=words.when(local))]
    if late_since is not None:
        paragraphs.append(words.late.format(date=words.when(reminder.schedule.local(late_since))))
    paragraphs.append(_text(_lines(knowledge, due, lang), lang))
    key = f"{reminder.id}:{to_epoch(occurrence)}:{seq}"
    options = (
        Option(words.snooze_hour, f"reminder:snooze:{key}:{SNOOZE_HOUR}"),
        Option(words.snooze_day, f"reminder:snooze:{key}:{SNOOZE_DAY}"),
        Option(words.skip, f"reminder:skip:{key}"),
    )
    return Reply(
        Status.ANSWER,
        lang,
        tuple(paragraphs),
        options=options,
        kind="reminder",
        sources=_sources(knowledge, due, lang),
    )


@lru_cache(maxsize=256)
def _due(topics: tuple[Topic, ...], reminder: Reminder, meeting: datetime) -> tuple[Topic, ...]:
    return tuple(due_topics(topics, reminder, meeting))


def _citation(source: Source | None, source_id: str) -> str:
    if source is None:
        return source_id
    return f"{source.title} ({source.publisher})"
