"""Which topics land on which meetings, with a controllable clock; DST keeps local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reminders.due import add_months, due_topics, next_meeting
from bot.reminders.model import Owner, Recurrence, Reminder, Schedule, to_epoch
from tests.reminder_worker import TOPICS

TZ = "Europe/Stockholm"


def reminder(
    rec: Recurrence,
    start: datetime,
    st_start: date | None = None,
    skipped: frozenset[int] = frozenset(),
) -> Reminder:
    return Reminder(
        1,
        Owner("console", "u"),
        "",
        "Anna",
        "sv",
        Schedule(rec, start, TZ),
        st_start,
        "active",
        skipped,
    )


def meetings(r: Reminder, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment = next_meeting(r, r.schedule.localize(r.schedule.start), inclusive=True)
    while moment is not None and len(found) < count:
        found.append(moment)
        moment = next_meeting(r, moment)
    return found


def due_ids(r: Reminder, meeting: datetime) -> set[str]:
    return {t.id for t in due_topics(TOPICS, r, meeting)}


def test_each_meeting_topic_is_due_every_time() -> None:
    r = reminder(Recurrence("weekly", 1, interval=2), datetime(2025, 9, 2, 14, 0))
    assert all("plan-followup" in due_ids(r, m) for m in meetings(r, 30))


def test_three_monthly_topic_lands_on_first_meeting_after_each_mark_from_st_start() -> None:
    # ST start 1 Sep 2025, meetings every other Tuesday from 2 Sep: marks 1 Dec, 1 Mar, 1 Jun.
    r = reminder(
        Recurrence("weekly", 1, interval=2), datetime(2025, 9, 2, 14, 0), st_start=date(2025, 9, 1)
    )
    with_cbd = [m.date() for m in meetings(r, 30) if "cbd" in due_ids(r, m)]
    assert with_cbd == [date(2025, 12, 9), date(2026, 3, 3), date(2026, 6, 9), date(2026, 9, 1)]


def test_half_yearly_and_yearly_topics_counted_from_series_start_without_st_start() -> None:
    r = reminder(Recurrence("weekly", 0), datetime(2025, 1, 6, 8, 0))
    days = meetings(r, 60)
    assert [m.date() for m in days if "half-year" in due_ids(r, m)] == [
        date(2025, 7, 7),
        date(2026, 1, 12),
    ]
    yearly = [m.date() for m in meetings(r, 60) if "plan-revision" in due_ids(r, m)]
    assert yearly == [date(2026, 1, 12)]
    # the Skåne table lists "3 times / twice during ST" in its yearly column
    assert {"kollegium", "360"} <= due_ids(r, days[53])


def test_end_of_year_topic_lands_on_last_meeting_in_december() -> None:
    r = reminder(Recurrence("weekly", 3), datetime(2025, 11, 6, 9, 0))
    hits = [m.date() for m in meetings(r, 70) if "annual-report" in due_ids(r, m)]
    assert hits == [date(2025, 12, 25), date(2026, 12, 31)]


def test_skipped_meeting_moves_its_topics_to_the_next_meeting() -> None:
    r = reminder(
        Recurrence("weekly", 1, interval=2), datetime(2025, 9, 2, 14, 0), st_start=date(2025, 9, 1)
    )
    dec9 = r.schedule.localize(datetime(2025, 12, 9, 14, 0))
    skipping = reminder(
        r.schedule.recurrence, r.schedule.start, date(2025, 9, 1), frozenset({to_epoch(dec9)})
    )
    assert next_meeting(skipping, dec9 - timedelta(days=1)) == dec9 + timedelta(days=14)
    assert "cbd" in due_ids(skipping, dec9 + timedelta(days=14))


def test_daylight_saving_change_keeps_local_time() -> None:
    r = reminder(Recurrence("weekly", 0), datetime(2026, 3, 23, 8, 0))
    before, after = meetings(r, 2)  # 23 March (CET) and 30 March (CEST)
    assert (before.hour, after.hour) == (8, 8)
    assert before.astimezone(UTC).hour == 7 and after.astimezone(UTC).hour == 6
    autumn = reminder(Recurrence("weekly", 0), datetime(2026, 10, 19, 8, 0))
    assert [m.astimezone(UTC).hour for m in meetings(autumn, 2)] == [6, 7]


def test_first_monday_of_every_month() -> None:
    r = reminder(Recurrence("monthly", 0, nth=1), datetime(2025, 8, 21, 10, 0))
    assert [m.date() for m in meetings(r, 3)] == [
        date(2025, 9, 1),
        date(2025, 10, 6),
        date(2025, 11, 3),
    ]


def rrule_meetings(schedule: Schedule) -> rrule:
    """The reference: dateutil's rrule for the series, iterated from its start."""
    r = schedule.recurrence
    start = schedule.start
    if r.freq == "once":
        return rrule(WEEKLY, count=1, dtstart=start)
    if r.freq == "monthly" and r.nth is None:
        return rrule(MONTHLY, interval=r.interval, bymonthday=start.day, dtstart=start)
    day = weekday(r.weekday, r.nth)
    return rrule(
        MONTHLY if r.freq == "monthly" else WEEKLY,
        interval=r.interval,
        byweekday=day,
        dtstart=start,
    )


def rrule_after(schedule: Schedule, moment: datetime, inclusive: bool) -> datetime | None:
    rule = rrule_meetings(schedule)
    found = rule.after(schedule.local(moment) - timedelta(hours=2), inc=True)
    while found is not None:
        aware = schedule.localize(found)
        if aware > moment or (inclusive and aware == moment):
            return aware
        found = rule.after(found)
    return None


def rrule_before(schedule: Schedule, moment: datetime) -> datetime | None:
    rule = rrule_meetings(schedule)
    found = rule.before(schedule.local(moment) + timedelta(hours=2))
    while found is not None:
        aware = schedule.localize(found)
        if aware < moment:
            return aware
        found = rule.before(found)
    return None


RECURRENCES = st.one_of(
    st.builds(Recurrence, st.just("weekly"), st.integers(0, 6), interval=st.integers(1, 4)),
    st.builds(
        Recurrence,
        st.just("monthly"),
        st.integers(0, 6),
        interval=st.integers(1, 12),
        nth=st.sampled_from([None, 1, 2, 4, 5, -1, -2]),
    ),
    st.builds(Recurrence, st.just("once"), st.integers(0, 6)),
)
# Month ends (28-31) and the nights summer time starts and ends in Stockholm.
DAYS = st.one_of(
    st.dates(date(2023, 1, 1), date(2030, 12, 31)),
    st.sampled_from([date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)]),
    st.builds(date, st.integers(2024, 2028), st.integers(1, 12), st.integers(28, 28)),
)
TIMES = st.sampled_from([(0, 0), (1, 30), (2, 0), (2, 30), (3, 0), (8, 0), (14, 15), (23, 30)])


@settings(max_examples=400, deadline=None)
@given(
    rec=RECURRENCES,
    start_day=DAYS,
    start_time=TIMES,
    day=DAYS,
    time=TIMES,
    month_end=st.integers(0, 3),
)
def test_arithmetic_meetings_match_rrule_across_dst_and_month_ends(
    rec: Recurrence,
    start_day: date,
    start_time: tuple[int, int],
    day: date,
    time: tuple[int, int],
    month_end: int,
) -> None:
    if rec.freq == "monthly" and rec.nth is None and start_day.day == 28:
        start_day += timedelta(days=month_end)  # the 28th to the 31st (or into the next month)
    start = datetime.combine(start_day, datetime.min.time()).replace(
        hour=start_time[0], minute=start_time[1]
    )
    schedule = Schedule(rec, start, TZ)
    moment = schedule.localize(
        datetime.combine(day, datetime.min.time()).replace(hour=time[0], minute=time[1])
    )
    assert schedule.after(moment) == rrule_after(schedule, moment, False)
    assert schedule.after(moment, inclusive=True) == rrule_after(schedule, moment, True)
    assert schedule.before(moment) == rrule_before(schedule, moment)
    meeting = schedule.after(moment)
    if meeting is not None:  # exactly at a meeting
        assert schedule.after(meeting, inclusive=True) == meeting
        assert schedule.after(meeting) == rrule_after(schedule, meeting, False)
        assert schedule.before(meeting) == rrule_before(schedule, meeting)
    year = moment + timedelta(days=400)
    expected = [
        schedule.localize(naive)
        for naive in rrule_meetings(schedule).between(
            schedule.local(moment), schedule.local(year), inc=True
        )
    ]
    assert list(schedule.between(moment, year)) == expected


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(1990, 1, 1), date(2090, 12, 31)), months=st.integers(-300, 300))
def test_adding_months_clamps_to_the_month_end_as_relativedelta_does(
    day: date, months: int
) -> None:
    assert add_months(day, months) == day + relativedelta(months=months)
