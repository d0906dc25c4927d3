"""Reminder conversations through the real Service: create, confirm, list, change, ownership."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.app import build_service
from bot.reminders.clock import FakeClock
from bot.reminders.commands import ReminderCommands
from bot.reminders.model import Owner
from bot.reminders.store import SqlReminderStore
from bot.reminders.store_sqlite import open_sqlite_store
from bot.settings import Settings
from bot.testing import Chat
from tests.reminder_worker import KNOWLEDGE

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)  # a Wednesday
SMALL_KB = Path(__file__).resolve().parent / "fixtures" / "small_kb"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlReminderStore]:
    opened = await open_sqlite_store(tmp_path / "r.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def anna(settings: Settings, store: SqlReminderStore, clock: FakeClock) -> Chat:
    commands = ReminderCommands(store=store, clock=clock, knowledge=KNOWLEDGE)
    small = settings.model_copy(update={"knowledge_dir": SMALL_KB})  # stable while KB is edited
    return Chat(build_service(small, commands=[commands]), user="U-ANNA", platform="slack")


def other_user(chat: Chat, user: str) -> Chat:
    return Chat(chat.service, user=user, platform="slack")


async def saved(store: SqlReminderStore, user: str = "U-ANNA") -> int:
    return len(await store.mine(Owner("slack", user)))


async def create(chat: Chat, text: str) -> None:
    reply = await chat.say(text)
    await chat.click(reply.options[0].value)


async def test_swedish_request_is_repeated_back_and_saved_only_after_yes(
    anna: Chat, store: SqlReminderStore
) -> None:
    reply = await anna.say(
        "påminn mig varannan tisdag kl 14 om handledning med Anna, ST-start 1 september 2025"
    )
    text = anna.text
    assert reply.lang == "sv" and reply.kind == "reminder_confirm"
    assert "Handledning med Anna, varannan tisdag kl. 14:00" in text
    assert "ST-start: 1 september 2025" in text
    for day in ("tisdag 26 augusti 2025", "tisdag 9 september 2025", "tisdag 23 september 2025"):
        assert day in text
    assert "Europe/Stockholm" in text
    assert [o.label for o in reply.options] == ["Ja, spara", "Nej"]
    assert await saved(store) == 0
    done = await anna.click(reply.options[0].value)
    assert "Sparat" in done.paragraphs[0]
    assert await saved(store) == 1
    listing = await anna.say("mina påminnelser")
    assert "1. Handledning med Anna: varannan tisdag kl. 14:00" in listing.paragraphs[1]


async def test_english_request_confirmed_by_typing_yes(anna: Chat, store: SqlReminderStore) -> None:
    reply = await anna.say("remind me every Monday at 8 about supervision with Erik")
    assert reply.lang == "en"
    assert "Supervision with Erik, every Monday at 08:00" in anna.text
    assert [o.label for o in reply.options] == ["Yes, save", "No"]
    await anna.say("yes")
    assert "Saved" in anna.text
    assert "every Monday at 08:00" in (await anna.say("my reminders")).paragraphs[1]


@pytest.mark.parametrize(
    ("text", "explained"),
    [
        ("påminn mig nästa blå måndag kl 14 om handledning med Anna", "”nästa blå måndag”"),
        ("påminn mig varje måndag kl 25 om handledning", "”kl 25” är ingen tid"),
        ("påminn mig varje tisdag om handledning med Anna", "Vilken tid?"),
        ("remind me every other week at 9 about supervision", "Which day of the week?"),
        ("påminn mig varje måndag kl 8, ST-start blåbärsdagen", "”blåbärsdagen”"),
    ],
)
async def test_unclear_requests_are_explained_and_nothing_is_stored(
    anna: Chat, store: SqlReminderStore, text: str, explained: str
) -> None:
    reply = await anna.say(text)
    assert reply.status == "clarify" and not reply.options
    assert explained in anna.text
    await anna.say("ja")
    assert await saved(store) == 0


async def test_missing_time_can_be_given_in_the_next_message(
    anna: Chat, store: SqlReminderStore
) -> None:
    await anna.say("påminn mig varannan tisdag om handledning med Anna")
    reply = await anna.say("kl 9.30")
    assert reply.kind == "reminder_confirm"
    assert "varannan tisdag kl. 09:30" in anna.text
    await anna.say("nej")
    assert await saved(store) == 0


async def test_other_questions_go_to_the_knowledge_base(anna: Chat) -> None:
    reply = await anna.say("Hur ofta ska ST-handledning ske?")
    assert not reply.kind.startswith("reminder")


async def test_pause_resume_change_cancel_by_number_and_label(
    anna: Chat, store: SqlReminderStore
) -> None:
    await create(anna, "påminn mig varannan tisdag kl 14 om handledning med Anna")
    await create(anna, "påminn mig varje torsdag kl 9 om handledning med Bo")
    assert "2 (Handledning med Bo) är pausad" in (await anna.say("pausa Bo")).paragraphs[0]
    assert "(pausad)" in (await anna.say("mina påminnelser")).paragraphs[1].splitlines()[1]
    assert "igång igen" in (await anna.say("återuppta påminnelse 2")).paragraphs[0]
    changed = await anna.say("ändra påminnelse 1 till kl 15.30")
    assert "varannan tisdag kl. 15:30" in changed.paragraphs[0]
    assert "tisdag 26 augusti 2025 kl. 15:30" in changed.paragraphs[0]
    asked = await anna.say("ta bort Anna")
    assert asked.question == "Ska jag ta bort påminnelsen ovan?" and await saved(store) == 2
    assert "borttagen" in (await anna.say("ja")).paragraphs[0]
    [left] = await store.mine(Owner("slack", "U-ANNA"))
    assert left.label == "Bo" and left.status == "active"


async def test_a_user_sees_and_changes_only_their_own_reminders(
    anna: Chat, store: SqlReminderStore
) -> None:
    await create(anna, "påminn mig varannan tisdag kl 14 om handledning med Anna")
    erik = other_user(anna, "U-ERIK")
    assert "inga påminnelser" in (await erik.say("mina påminnelser")).paragraphs[0]
    await erik.say("ta bort påminnelse 1")
    await erik.say("pausa Anna")
    [mine] = await store.mine(Owner("slack", "U-ANNA"))
    assert mine.status == "active"
    snooze = f"reminder:snooze:{mine.id}:1756130400:0:3600"
    assert "gäller inte längre" in (await erik.click(snooze)).paragraphs[0]
    teams_anna = Chat(anna.service, user="U-ANNA", platform="teams")
    assert "inga påminnelser" in (await teams_anna.say("mina påminnelser")).paragraphs[0]


async def test_whats_next_lists_due_topics_with_cadence_and_source(anna: Chat) -> None:
    await create(
        anna,
        "remind me every other Tuesday at 14 about supervision with Anna, ST start 26 May 2025",
    )
    reply = await anna.say("what's next")
    text = "\n".join(reply.paragraphs)
    assert "Tuesday 26 August 2025 at 14:00" in text
    assert "Follow-up of the education plan — every meeting" in text
    assert "Case-based discussion — every 3 months" in text
    assert "Source: Verktygslåda för ST-handledare (Region Skåne)" in text


async def test_calendar_export_is_an_ics_file_with_topics_per_event(anna: Chat) -> None:
    await create(anna, "påminn mig första måndagen varje månad kl 10 om handledning med Sara")
    reply = await anna.say("exportera kalender")
    [attachment] = reply.attachments
    assert attachment.content_type == "text/calendar" and attachment.filename.endswith(".ics")
    calendar = Calendar.from_ical(attachment.data)
    events = calendar.walk("VEVENT")
    assert len(events) == 12
    first = events[0]
    assert first.decoded("dtstart") == datetime(
        2025, 9, 1, 10, 0, tzinfo=first.decoded("dtstart").tzinfo
    )
    assert str(first.decoded("dtstart").tzinfo) == "Europe/Stockholm"
    assert "Uppföljning av utbildningsplanen — varje möte" in str(first.get("description"))
    december = [e for e in events if e.decoded("dtstart").month == 12]
    assert "Årsrapport" in str(december[0].get("description"))
    assert calendar.walk("VTIMEZONE")
