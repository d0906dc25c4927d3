"""Which knowledge-base topics are due at a given meeting of a series.

- each_meeting: every meeting.
- every_months N: the first meeting on or after each N-month mark, counted from the trainee's ST
  start if known, else from the series start. The first meeting of a series covers the marks of
  one whole period before it (a week, two weeks, a month ...), so a mark that falls between
  creating the reminder and its first meeting is not skipped.
- yearly: as every 12 months.
- times_during_st N (specialistkollegium 3, 360-degree assessment 2; the Skåne table lists them in
  its yearly column as "Specialistkollegium alt 360 gradersbedömning", as the topic's `note` in
  knowledge/topics.yaml says): at the yearly marks, only the first N of them; render.py shows two
  such topics due together as alternatives.
- unscheduled (the source gives no cadence: "Efter behov", "Regelbundet", an unmarked row): never.
- end_of_year: the last meeting of the series that falls in December.
Skipped meetings are not meetings: what was due at one moves to the next.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from bot.knowledge.schema import Topic
from bot.reminders.model import Reminder, to_epoch

_MAX_SKIPS = 500


def next_meeting(
    reminder: Reminder, after: datetime, *, inclusive: bool = False
) -> datetime | None:
    """The first meeting after (or at) `after` that the user has not skipped."""
    found = reminder.schedule.after(after, inclusive=inclusive)
    for _ in range(_MAX_SKIPS):
        if found is None or to_epoch(found) not in reminder.skipped:
            return found
        found = reminder.schedule.after(found)
    return None


def previous_meeting(reminder: Reminder, meeting: datetime) -> datetime | None:
    found = reminder.schedule.before(meeting)
    for _ in range(_MAX_SKIPS):
        if found is None or to_epoch(found) not in reminder.skipped:
            return found
        found = reminder.schedule.before(found)
    return None


def due_topics(topics: Sequence[Topic], reminder: Reminder, meeting: datetime) -> list[Topic]:
    """The topics for `meeting` (aware), in knowledge-base order."""
    previous = previous_meeting(reminder, meeting)
    local = reminder.schedule.local(meeting).date()
    since = (
        reminder.schedule.local(previous).date()
        if previous is not None
        else _period_before(reminder, local)
    )
    reference = reminder.st_start or reminder.series_start
    marks: dict[int, int | None] = {}  # months -> the mark at this meeting; topics share them

    def mark(months: int) -> int | None:
        if months not in marks:
            marks[months] = _mark_between(reference, months, since, local)
        return marks[months]

    december = local.month == 12 and _last_in_year(reminder, meeting)
    return [t for t in topics if _is_due(t, mark, december)]


def _last_in_year(reminder: Reminder, meeting: datetime) -> bool:
    following = next_meeting(reminder, meeting)
    schedule = reminder.schedule
    return following is None or schedule.local(following).year > schedule.local(meeting).year


def _period_before(reminder: Reminder, first: date) -> date:
    """The day one period before the first meeting: where a previous meeting would have been."""
    rec = reminder.schedule.recurrence
    if rec.freq == "monthly":
        return add_months(first, -rec.interval)
    return first - timedelta(weeks=rec.interval)


def _is_due(topic: Topic, mark: Callable[[int], int | None], last_in_december: bool) -> bool:
    kind = topic.cadence.kind
    if kind == "each_meeting":
        return True
    if kind == "unscheduled":
        return False
    if kind == "end_of_year":
        return last_in_december
    k = mark((topic.cadence.months if kind == "every_months" else 12) or 12)
    if kind == "times_during_st":
        return k is not None and k <= (topic.cadence.times or 0)
    return k is not None


def _mark_between(reference: date, months: int, since: date, day: date) -> int | None:
    """The k >= 1 of a mark reference + k*months with since < mark <= day, else None. Marks
    before k = (months from reference to since) // months lie in earlier months than `since`."""
    k = max(1, _months_between(reference, since) // months)
    while True:
        mark = add_months(reference, k * months)
        if mark > day:
            return None
        if mark > since:
            return k
        k += 1


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's last day (31 Jan + 1 → 28/29 Feb),
    as dateutil's relativedelta does."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month
