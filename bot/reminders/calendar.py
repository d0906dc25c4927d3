"""The meeting series as an .ics file: one VEVENT per meeting (each has its own due topics),
for a bounded horizon (12 months), times in the reminder's own time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from bot.messages import Lang
from bot.reminders.model import Reminder, to_epoch
from bot.reminders.render import Knowledge, topic_lines, what

HORIZON = timedelta(days=365)
MEETING_LENGTH = timedelta(hours=1)


def calendar_file(
    reminders: Sequence[Reminder],
    knowledge: Knowledge,
    *,
    now: datetime,
    lang: Lang,
    horizon: timedelta = HORIZON,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Handledarbot//reminders//SV")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for reminder in reminders:
        for meeting in reminder.schedule.between(now, now + horizon):
            if to_epoch(meeting) not in reminder.skipped:
                calendar.add_component(_event(reminder, meeting, knowledge, now, lang))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _event(
    reminder: Reminder, meeting: datetime, knowledge: Knowledge, now: datetime, lang: Lang
) -> Event:
    event = Event()
    event.add("uid", f"reminder-{reminder.id}-{to_epoch(meeting)}@handledarbot")
    event.add("dtstamp", now)
    event.add("dtstart", meeting)
    event.add("dtend", meeting + MEETING_LENGTH)
    event.add("summary", what(reminder, lang))
    event.add("description", "\n".join(topic_lines(knowledge, reminder, meeting, lang)))
    return event
