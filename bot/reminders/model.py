"""Reminders as values: who owns one, the meeting series it follows, and a claimed delivery.

Meeting times are wall-clock times in the reminder's time zone: "tisdag kl 14" stays 14:00 across
daylight-saving changes. An occurrence is identified by its UTC instant (whole seconds).
"""

from __future__ import annotations

import re
from calendar import monthrange
from calendar import weekday as weekday_of
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.messages import Lang

_DST_SLACK = timedelta(hours=2)
_MAX_PERIODS = 1200  # 100 years of monthly meetings; a 29 February every 12 months needs 8
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ReminderStatus = Literal["active", "paused"]


@dataclass(frozen=True, slots=True)
class Owner:
    platform: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Weekly every `interval` weeks on `weekday`; monthly every `interval` months on the `nth`
    `weekday` (-1 = last) or, with `nth` None, on the start's day of the month; or "once": one
    meeting at the schedule's start."""

    freq: Literal["weekly", "monthly", "once"]
    weekday: int  # 0 = Monday
    interval: int = 1
    nth: int | None = None

    def to_rule(self) -> str:
        day = WEEKDAY_CODES[self.weekday]
        if self.freq == "once":
            return f"FREQ=WEEKLY;COUNT=1;BYDAY={day}"
        if self.freq == "monthly" and self.nth is None:
            return f"FREQ=MONTHLY;INTERVAL={self.interval}"
        if self.freq == "monthly":
            return f"FREQ=MONTHLY;INTERVAL={self.interval};BYDAY={self.nth:+d}{day}"
        return f"FREQ=WEEKLY;INTERVAL={self.interval};BYDAY={day}"

    @classmethod
    def from_rule(cls, rule: str) -> Recurrence:
        parts = dict(p.split("=", 1) for p in rule.split(";"))
        if parts["FREQ"] == "MONTHLY" and "BYDAY" not in parts:
            return cls("monthly", 0, interval=int(parts.get("INTERVAL", "1")))
        found = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", parts["BYDAY"])
        if found is None:
            raise ValueError(f"unsupported BYDAY in rule {rule!r}")
        nth = int(found.group(1)) if found.group(1) else None
        freq: Literal["weekly", "monthly", "once"] = (
            "monthly" if parts["FREQ"] == "MONTHLY" else "once" if "COUNT" in parts else "weekly"
        )
        day = WEEKDAY_CODES.index(found.group(2))
        return cls(freq=freq, weekday=day, interval=int(parts.get("INTERVAL", "1")), nth=nth)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A meeting series: `recurrence` from the local wall-clock time `start` in `timezone`."""

    recurrence: Recurrence
    start: datetime  # naive, local wall-clock time of the first possible meeting
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def localize(self, naive: datetime) -> datetime:
        """`naive` local wall-clock time as an aware instant. A time that does not exist (the
        hour skipped when summer time starts) becomes the instant it would have been by the
        offset before the change, i.e. one hour later on the clock (02:30 → 03:30 in Stockholm),
        normalised so that every later use (delivery, .ics) shows that real time."""
        return naive.replace(tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)

    def shifted(self, moment: datetime) -> bool:
        """Is `moment` (from this schedule) not at the requested wall-clock time, because that
        time did not exist that day (summer time)?"""
        local = self.local(moment)
        return (local.hour, local.minute) != (self.start.hour, self.start.minute)

    def local(self, moment: datetime) -> datetime:
        """`moment` (aware) as naive local wall-clock time."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def after(self, moment: datetime, *, inclusive: bool = False) -> datetime | None:
        local = self.local(moment) - _DST_SLACK  # a skipped-hour meeting lies later on the clock
        found = self._series.first_from(local, inclusive=True)
        while found is not None:
            aware = self.localize(found)
            if aware > moment or (inclusive and aware == moment):
                return aware
            found = self._series.first_from(found, inclusive=False)
        return None

    def before(self, moment: datetime) -> datetime | None:
        local = self.local(moment) + _DST_SLACK
        found = self._series.last_before(local)
        while found is not None:
            aware = self.localize(found)
            if aware < moment:
                return aware
            found = self._series.last_before(found)
        return None

    def between(self, first: datetime, last: datetime) -> Iterator[datetime]:
        end = self.local(last)
        found = self._series.first_from(self.local(first), inclusive=True)
        while found is not None and found <= end:
            yield self.localize(found)
            found = self._series.first_from(found, inclusive=False)

    @property
    def _series(self) -> Series:
        return Series(self.recurrence, self.start.replace(microsecond=0))


@dataclass(frozen=True, slots=True)
class Series:
    """The meetings of a schedule as naive local times, by arithmetic: the same meetings as the
    RFC 5545 rule `Recurrence.to_rule()` from `start` (tests/test_reminders_due.py checks this
    against dateutil's rrule), without building a rule object per question.

    Period k >= 0 holds at most one meeting: week k*interval (weeks start on Monday, counted
    from the start's week), or month k*interval from the start's month. A period without such a
    day (the 31st in April, a fifth Monday) has none, and meetings before `start` do not count."""

    recurrence: Recurrence
    start: datetime

    def first_from(self, moment: datetime, *, inclusive: bool) -> datetime | None:
        """The first meeting after `moment` (or at it, if `inclusive`)."""
        k = max(0, self._period(moment))
        for _ in range(1 if self.recurrence.freq == "once" else _MAX_PERIODS):
            found = self._meeting(k)
            if found is not None and (found > moment or (inclusive and found == moment)):
                return found
            k += 1
        return None

    def last_before(self, moment: datetime) -> datetime | None:
        k = self._period(moment)
        for _ in range(_MAX_PERIODS):
            if k < 0:
                return None
            found = self._meeting(k)
            if found is not None and found < moment:
                return found
            k -= 1
        return None

    def _period(self, moment: datetime) -> int:
        """The period `moment` falls in (negative before the first)."""
        r = self.recurrence
        if r.freq == "once":
            return 0 if moment >= self.start else -1
        if r.freq == "weekly":
            return (moment - self._week_base) // timedelta(weeks=r.interval)
        months = (moment.year - self.start.year) * 12 + moment.month - self.start.month
        return months // r.interval

    def _meeting(self, k: int) -> datetime | None:
        r = self.recurrence
        if r.freq == "once":
            return self.start if k == 0 else None
        found: datetime | None
        try:
            if r.freq == "weekly":
                found = self._week_base + timedelta(weeks=k * r.interval)
            else:
                found = self._in_month(self.start.month - 1 + self.start.year * 12 + k * r.interval)
        except (OverflowError, ValueError):  # past year 9999
            return None
        return found if found is not None and found >= self.start else None

    @property
    def _week_base(self) -> datetime:
        """The meeting day in the start's week (Monday-based), at the start's time."""
        return self.start + timedelta(days=self.recurrence.weekday - self.start.weekday())

    def _in_month(self, index: int) -> datetime | None:
        year, month = divmod(index, 12)
        month += 1
        last = monthrange(year, month)[1]
        r = self.recurrence
        if r.nth is None:
            day = self.start.day
        elif r.nth > 0:
            day = 1 + (r.weekday - weekday_of(year, month, 1)) % 7 + 7 * (r.nth - 1)
        else:
            day = last - (weekday_of(year, month, last) - r.weekday) % 7 + 7 * (r.nth + 1)
        if not 1 <= day <= last:
            return None
        return self.start.replace(year=year, month=month, day=day)


def to_epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class NewReminder:
    """A confirmed request, not yet stored."""

    owner: Owner
    address: str
    label: str
    lang: Lang
    schedule: Schedule
    st_start: date | None


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    owner: Owner
    address: str
    label: str
    lang: Lang
    schedule: Schedule
    st_start: date | None
    status: ReminderStatus
    skipped: frozenset[int]  # occurrences (epoch seconds) the user chose to skip

    @property
    def series_start(self) -> date:
        return self.schedule.start.date()


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery a scheduler holds under a lease: meeting `occurrence`, `seq` 0 or a snooze."""

    job_id: int
    reminder: Reminder
    occurrence: datetime
    seq: int
    scheduled_at: datetime
    attempts: int
    token: str


@dataclass(frozen=True, slots=True)
class Sent:
    """The platform accepted the delivery; `following` is the next meeting to queue (seq 0)."""

    claim: Claim
    late: bool
    following: datetime | None


@dataclass(frozen=True, slots=True)
class Retry:
    """Not delivered, worth trying again at `due`."""

    claim: Claim
    due: datetime


@dataclass(frozen=True, slots=True)
class Failed:
    """Not deliverable (user gone, no sender, too many attempts): the reminder is paused."""

    claim: Claim
    reason: str


Outcome = Sent | Retry | Failed
