"""Which topics land on which meetings, with a controllable clock; DST keeps local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reminders.due import due_topics, next_meeting
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


@settings(max_examples=150, deadline=None)
@given(
    weekday=st.integers(0, 6),
    interval=st.integers(1, 4),
    nth=st.sampled_from([None, 1, 2, -1]),
    offset=st.integers(0, 1500),
    hour=st.integers(0, 23),
)
def test_fast_forwarded_rule_gives_the_same_meetings_as_iterating_from_the_start(
    weekday: int, interval: int, nth: int | None, offset: int, hour: int
) -> None:
    rec = (
        Recurrence("monthly", weekday, interval=interval, nth=nth)
        if nth
        else Recurrence("weekly", weekday, interval=interval)
    )
    schedule = Schedule(rec, datetime(2024, 1, 10, hour, 0), TZ)
    moment = schedule.localize(datetime(2024, 1, 10, 12, 0) + timedelta(days=offset))
    slow = schedule.rule()
    local = schedule.local(moment)
    assert schedule.after(moment) == schedule.localize(slow.after(local))
    expected_before = slow.before(local)
    found_before = schedule.before(moment)
    assert found_before == (schedule.localize(expected_before) if expected_before else None)
