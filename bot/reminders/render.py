"""Reminder replies: what is due at a meeting, each topic with its cadence and its source."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from bot.knowledge.schema import Source, Topic
from bot.messages import Lang, Option, Reply, SourceRef, Status
from bot.reminders.due import due_topics, next_meeting
from bot.reminders.model import Reminder, Schedule, to_epoch
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


@dataclass(frozen=True, slots=True)
class Agenda:
    """What a meeting of a plan brings, in one language: its date as written, the due topics'
    text and sources, and the next meeting not skipped (None when the series has ended)."""

    date: str
    text: str
    sources: tuple[SourceRef, ...]
    following: datetime | None


_Plan = tuple[Schedule, date | None, frozenset[int], datetime, Lang]


class Agendas:
    """Each meeting's `Agenda`, kept for the last `size` (plan, meeting, language) asked for.

    A plan is what decides the due topics: the schedule, the ST start and the skipped meetings.
    Reminders that share one (every trainee of a clinic on the same Monday meeting) and each
    retry of a delivery are rendered once; memory is bounded by `size`, not by the reminders."""

    def __init__(self, knowledge: Knowledge, *, size: int = 1024) -> None:
        self._knowledge = knowledge
        self._size = size
        self._kept: OrderedDict[_Plan, Agenda] = OrderedDict()

    def agenda(self, reminder: Reminder, meeting: datetime) -> Agenda:
        key = (reminder.schedule, reminder.st_start, reminder.skipped, meeting, reminder.lang)
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found
        found = self._kept[key] = _agenda(self._knowledge, reminder, meeting)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return found


def _agenda(knowledge: Knowledge, reminder: Reminder, meeting: datetime) -> Agenda:
    lang = reminder.lang
    due = due_topics(knowledge.topics, reminder, meeting)
    return Agenda(
        PHRASES[lang].when(reminder.schedule.local(meeting)),
        _text(_lines(knowledge, due, lang), lang),
        _sources(knowledge, due, lang),
        next_meeting(reminder, meeting),
    )


def delivered(
    agenda: Agenda,
    reminder: Reminder,
    occurrence: datetime,
    seq: int,
    *,
    late_since: datetime | None,
) -> Reply:
    """The proactive reminder for `occurrence`, whose `agenda` it is; its options come back as
    `reminder:snooze|skip:...` choices."""
    lang = reminder.lang
    words = PHRASES[lang]
    paragraphs = [words.reminder.format(what=what(reminder, lang), date=agenda.date)]
    if late_since is not None:
        paragraphs.append(words.late.format(date=words.when(reminder.schedule.local(late_since))))
    paragraphs.append(agenda.text)
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
        sources=agenda.sources,
    )


@lru_cache(maxsize=256)
def _due(topics: tuple[Topic, ...], reminder: Reminder, meeting: datetime) -> tuple[Topic, ...]:
    return tuple(due_topics(topics, reminder, meeting))


def _citation(source: Source | None, source_id: str) -> str:
    if source is None:
        return source_id
    return f"{source.title} ({source.publisher})"
