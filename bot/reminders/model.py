"""Reminders as values: who owns one, the meeting series it follows, and a claimed delivery.

Meeting times are wall-clock times in the reminder's time zone: "tisdag kl 14" stays 14:00 across
daylight-saving changes. An occurrence is identified by its UTC instant (whole seconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

from bot.messages import Lang

_DST_SLACK = timedelta(hours=2)
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

    def rule(self, near: datetime | None = None) -> rrule:
        """The rrule; with `near` (naive local) its start is moved forward by whole periods to
        shortly before `near`, which keeps every occurrence but skips iterating from the start."""
        r = self.recurrence
        if r.freq == "once":
            return rrule(WEEKLY, count=1, dtstart=self.start)
        if r.freq == "monthly" and r.nth is None:
            return rrule(
                MONTHLY, interval=r.interval, bymonthday=self.start.day, dtstart=self._anchor(near)
            )
        day = weekday(r.weekday, r.nth)  # nth None = every such weekday
        freq: Literal[1, 2] = MONTHLY if r.freq == "monthly" else WEEKLY
        return rrule(freq, interval=r.interval, byweekday=day, dtstart=self._anchor(near))

    def _anchor(self, near: datetime | None) -> datetime:
        if near is None or near <= self.start or self.recurrence.freq == "once":
            return self.start
        r = self.recurrence
        if r.freq == "weekly":
            periods = (near - self.start).days // (7 * r.interval) - 2
            return self.start + timedelta(weeks=max(0, periods) * r.interval)
        months = (near.year - self.start.year) * 12 + near.month - self.start.month
        periods = months // r.interval - 3
        if periods <= 0:
            return self.start
        moved = self.start + relativedelta(months=periods * r.interval)
        return moved if r.nth is None else moved.replace(day=1)

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
        rule = self.rule(local)
        found = rule.after(local, inc=True)
        while found is not None:
            aware = self.localize(found)
            if aware > moment or (inclusive and aware == moment):
                return aware
            found = rule.after(found)
        return None

    def before(self, moment: datetime) -> datetime | None:
        local = self.local(moment) + _DST_SLACK
        found = self.rule(local).before(local)
        while found is not None:
            aware = self.localize(found)
            if aware < moment:
                return aware
            found = self.rule(found).before(found)
        return None

    def between(self, first: datetime, last: datetime) -> Iterator[datetime]:
        start = self.local(first)
        for naive in self.rule(start).between(start, self.local(last), inc=True):
            yield self.localize(naive)


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
