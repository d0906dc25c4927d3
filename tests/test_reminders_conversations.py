"""Reminder commands as supervisors type them, and the dangerous cases: nothing created, changed
or deleted unless the user meant it. Through the real Service with a real SQLite store."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from adapters.console import chat as console_chat
from bot.app import build_service
from bot.knowledge.loader import load_knowledge
from bot.messages import Message
from bot.reminders.clock import FakeClock
from bot.reminders.commands import ReminderCommands
from bot.reminders.due import due_topics, next_meeting
from bot.reminders.model import NewReminder, Owner, Reminder
from bot.reminders.phrases import reminder_help
from bot.reminders.render import Knowledge, meeting_text
from bot.reminders.store import SqlReminderStore
from bot.reminders.store_sqlite import open_sqlite_store
from bot.settings import Settings
from bot.state import AWAITING, MemoryStateStore, key_of
from bot.testing import Chat
from tests.reminder_worker import KNOWLEDGE

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)  # a Wednesday
SMALL_KB = Path(__file__).resolve().parent / "fixtures" / "small_kb"
REAL_KB = Path(__file__).resolve().parent.parent / "knowledge"
USER = Owner("slack", "U-ANNA")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlReminderStore]:
    opened = await open_sqlite_store(tmp_path / "r.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def state() -> MemoryStateStore:
    return MemoryStateStore()


@pytest.fixture
def commands(
    store: SqlReminderStore, clock: FakeClock, state: MemoryStateStore
) -> ReminderCommands:
    return ReminderCommands(store=store, clock=clock, knowledge=KNOWLEDGE, state=state)


@pytest.fixture
def anna(settings: Settings, commands: ReminderCommands) -> Chat:
    small = settings.model_copy(update={"knowledge_dir": SMALL_KB})
    return Chat(build_service(small, commands=[commands]), user="U-ANNA", platform="slack")


async def labels(store: SqlReminderStore) -> list[str]:
    return [r.label for r in await store.mine(USER)]


async def create(chat: Chat, text: str) -> None:
    reply = await chat.say(text)
    assert reply.kind == "reminder_confirm", chat.text
    assert "Sparat" in (await chat.say("ja")).paragraphs[0] or chat.replies[-1].lang == "en"


# --- understood as written ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "day"),
    [
        ("paminn mig varje mandag kl 8 om handledning med bjorn", "bjorn", "måndag"),
        ("påmin mig varje onsdag kl 10 om handledning med Sara", "Sara", "onsdag"),
        ("paminm mig varje fredag kl 9 om handledning med Omar", "Omar", "fredag"),
        (
            "jag vill ha en påminnelse var tredje torsdag kl 11 inför handledningen med Nils",
            "Nils",
            "var tredje torsdag",
        ),
        (
            "påminn mig sista fredagen i månaden kl 13 om handledning med johan",
            "johan",
            "sista fredagen",
        ),
    ],
)
async def test_create_with_typos_without_diacritics_and_names_as_written(
    anna: Chat, store: SqlReminderStore, text: str, label: str, day: str
) -> None:
    reply = await anna.say(text)
    assert reply.kind == "reminder_confirm", anna.text
    assert f"med {label}," in anna.text and day in anna.text
    assert await labels(store) == []  # nothing before yes
    await anna.say("ja")
    assert await labels(store) == [label]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("mina paminnelser", "sv"), ("vilka påminnelser har jag?", "sv"), ("show my reminders", "en")],
)
async def test_list_in_the_words_people_use_and_in_their_language(
    anna: Chat, text: str, lang: str
) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Erik")
    reply = await anna.say(text)
    assert reply.kind == "reminder_list" and reply.lang == lang
    assert "1. Handledning med Erik" in anna.text or "1. Supervision with Erik" in anna.text


async def test_one_off_date_in_two_weeks_and_every_third_month(
    anna: Chat, store: SqlReminderStore
) -> None:
    await anna.say("påminn mig den 15 januari kl 10 om handledning med Sara")
    assert "en gång, torsdag 15 januari 2026 kl. 10:00" in anna.text
    await anna.say("ja")
    await anna.say("påminn mig om två veckor om att boka handledning med Omar")
    assert "Vilken tid?" in anna.text
    await anna.say("kl 9")
    assert "en gång, onsdag 3 september 2025 kl. 09:00" in anna.text
    await anna.say("ja")
    await anna.say("påminn mig var tredje månad kl 9 om genomgång av delmålen med Erik")
    assert "Vilken dag i månaden?" in anna.text  # never a guessed day
    await anna.say("första tisdagen")
    assert "första tisdagen var 3:e månad kl. 09:00" in anna.text
    assert "2 september 2025" in anna.text and "2 december 2025" in anna.text
    await anna.say("ja")
    assert await labels(store) == ["Sara", "Omar", "Erik"]
    [sara] = [r for r in await store.mine(USER) if r.label == "Sara"]
    assert next_meeting(sara, datetime(2026, 1, 16, tzinfo=UTC)) is None  # once only


# --- confirmations that cannot misfire --------------------------------------------------------


async def test_a_yes_or_number_answers_only_the_question_just_asked(
    commands: ReminderCommands, state: MemoryStateStore, store: SqlReminderStore
) -> None:
    def said(text: str) -> Message:
        return Message(text=text, user_id="U-ANNA", conversation_id="C1", platform="slack")

    asked = await commands.try_handle(said("påminn mig varje måndag kl 8 om handledning med Erik"))
    assert asked is not None and asked.kind == "reminder_confirm"
    pending = await state.get(key_of("slack", "U-ANNA", "C1"), AWAITING)
    assert pending is not None and pending["kind"] == "reminder_confirm"
    json.dumps(pending)  # the slot is JSON, so SQL stores can keep it
    # the service then asks a clarifying question in the same conversation: it owns the slot now
    await state.put(key_of("slack", "U-ANNA", "C1"), AWAITING, {"kind": "clarify"}, 60)
    assert await commands.try_handle(said("1")) is None  # the service picks option 1
    assert await store.mine(USER) == []


async def test_an_unrelated_message_abandons_the_pending_reminder(
    anna: Chat, store: SqlReminderStore
) -> None:
    await anna.say("påminn mig varje onsdag kl 9 om handledning med Karin")
    question = "Hur ofta ska ST-handledning ske?"
    reply = await anna.say(question)
    assert reply.kind == "knowledge"
    # The service puts the note before the answer, once.
    assert reply.paragraphs[0] == "(Påminnelsen du började på är avbruten; den lades inte in.)"
    commands = anna.service._commands[0]
    assert isinstance(commands, ReminderCommands)
    said = Message(text=question, user_id="U-ANNA", conversation_id="U-ANNA", platform="slack")
    assert commands.take_note(said) is None
    assert (await anna.say("ja")).kind != "reminder"
    assert await labels(store) == []


async def test_delete_typed_while_a_new_reminder_waits_deletes_nothing_silently(
    anna: Chat, store: SqlReminderStore
) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Erik")
    await anna.say("påminn mig varje onsdag kl 10 om handledning med Sara")
    reply = await anna.say("ta bort 1")
    assert reply.kind == "reminder_delete"
    assert "lades inte in" in reply.paragraphs[0] and "1. Handledning med Erik" in anna.text
    assert await labels(store) == ["Erik"]
    await anna.say("nej")
    assert await labels(store) == ["Erik"]


@pytest.mark.parametrize(
    "command",
    [
        "avbryt påminnelsen för Nils",
        "ta bort Nils",
        "radera påminnelse 1",
        "stäng av påminnelserna för Nils",
        "sluta påminna mig om Nils på fredagar",
        "stop reminding me about Nils",
        "cancel the reminder for Nils",
        "delete reminder 1",
        "remove Nils",
        "turn off the reminder for Nils",
    ],
)
async def test_every_delete_verb_asks_first_and_never_creates(
    anna: Chat, store: SqlReminderStore, command: str
) -> None:
    await create(anna, "påminn mig varje fredag kl 8 om handledning med Nils")
    reply = await anna.say(command)
    assert reply.kind == "reminder_delete", anna.text
    assert await labels(store) == ["Nils"]
    done = await anna.say("yes" if reply.lang == "en" else "ja")
    assert "Nils" in done.paragraphs[0]
    assert await labels(store) == []


async def test_delete_in_english_is_answered_in_english(anna: Chat) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Erik")
    reply = await anna.say("delete reminder 1")
    assert reply.lang == "en" and reply.question == "Shall I delete the reminder above?"
    assert (await anna.say("yes")).paragraphs[0] == (
        "Reminder 1 (Supervision with Erik) has been deleted."
    )


async def test_two_reminders_with_one_name_ask_which_and_numbers_stay_stable(
    anna: Chat, store: SqlReminderStore
) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Anna")
    await create(anna, "påminn mig varje torsdag kl 13 om handledning med Anna")
    await create(anna, "påminn mig varje onsdag kl 10 om handledning med Sara")
    reply = await anna.say("ta bort Anna")
    assert reply.kind == "reminder_which" and "1. " in anna.text and "2. " in anna.text
    assert len(await labels(store)) == 3
    assert (await anna.say("den på torsdagar")).kind == "reminder_delete"
    await anna.say("ja")
    assert [r.schedule.recurrence.weekday for r in await store.mine(USER)] == [0, 2]
    # reminder 3 is still number 3 after reminder 2 is gone
    assert (await anna.say("radera påminnelse 3")).kind == "reminder_delete"
    assert "3. Handledning med Sara" in anna.text
    await anna.say("ja")
    assert await labels(store) == ["Anna"]
    assert (
        "Jag hittar ingen påminnelse ”2”" in (await anna.say("ta bort påminnelse 2")).paragraphs[0]
    )


async def test_change_day_time_or_both(anna: Chat, store: SqlReminderStore) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Erik")
    await create(anna, "remind me every Monday at 9 about supervision with Chloe")
    await anna.say("flytta Erik till onsdagar")
    assert "varje onsdag kl. 08:00" in anna.text
    await anna.say("move Chloe to Fridays at 10")
    assert "every Friday at 10:00" in anna.text
    await anna.say("change Chloe to 3:30pm")
    assert "every Friday at 15:30" in anna.text
    erik, chloe = await store.mine(USER)
    assert (erik.schedule.recurrence.weekday, erik.schedule.start.hour) == (2, 8)
    assert (chloe.schedule.recurrence.weekday, chloe.schedule.start.time().isoformat()) == (
        4,
        "15:30:00",
    )


async def test_pause_and_resume_all_and_skip_by_words(anna: Chat, store: SqlReminderStore) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Erik")
    await create(anna, "påminn mig varje onsdag kl 10 om handledning med Sara")
    await anna.say("pausa alla påminnelser")
    assert {r.status for r in await store.mine(USER)} == {"paused"}
    await anna.say("återuppta alla påminnelser")
    assert {r.status for r in await store.mine(USER)} == {"active"}
    reply = await anna.say("hoppa över nästa möte med Sara")
    assert "onsdag 27 augusti 2025" in reply.paragraphs[0]
    [_, sara] = await store.mine(USER)
    following = next_meeting(sara, NOW)
    assert following is not None and following.date() == date(2025, 9, 3)


# --- saving can fail ---------------------------------------------------------------------------


class FullDisk:
    """A store whose first `add` fails as SQLite does on a full disk."""

    def __init__(self, store: SqlReminderStore) -> None:
        self.store, self.failures = store, 1

    async def add(self, new: NewReminder, *, first: datetime, now: datetime) -> Reminder:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return await self.store.add(new, first=first, now=now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def test_a_failed_save_says_so_and_yes_retries(
    settings: Settings, store: SqlReminderStore, clock: FakeClock
) -> None:
    commands = ReminderCommands(store=FullDisk(store), clock=clock, knowledge=KNOWLEDGE)  # type: ignore[arg-type]
    anna = Chat(
        build_service(settings.model_copy(update={"knowledge_dir": SMALL_KB}), commands=[commands])
    )
    await anna.say("påminn mig varje måndag kl 8 om handledning med Erik")
    failed = await anna.say("ja")
    assert "Påminnelsen sparades inte: lagringen är full (database or disk is full)." in anna.text
    assert failed.options and await store.mine(Owner("test", "tester")) == []
    await anna.say("ja")
    assert anna.text.startswith("Sparat som påminnelse 1")
    assert len(await store.mine(Owner("test", "tester"))) == 1


# --- topics, summer time, calendar --------------------------------------------------------------


def _reminder(st_start: date | None, start: datetime, weekday: int = 0) -> Reminder:
    from bot.reminders.model import Recurrence, Schedule

    schedule = Schedule(Recurrence("weekly", weekday), start, "Europe/Stockholm")
    return Reminder(1, USER, "", "Anna", "sv", schedule, st_start, "active", frozenset())


def test_specialistkollegium_or_360_yearly_at_most_three_and_two_times() -> None:
    kb = load_knowledge(REAL_KB)
    knowledge = Knowledge(topics=kb.topics, sources=kb.sources)
    reminder = _reminder(date(2025, 9, 1), datetime(2025, 9, 1, 8, 0))
    seen = []
    for year in range(1, 6):
        meeting = next_meeting(reminder, datetime(2025 + year, 9, 1, tzinfo=UTC), inclusive=True)
        assert meeting is not None
        ids = {t.id for t in due_topics(kb.topics, reminder, meeting)}
        seen.append({"topic-specialistkollegium", "topic-360"} & ids)
        text = meeting_text(knowledge, reminder, meeting, "sv")
        if 1 <= year <= 2:
            assert (
                "Specialistkollegium eller 360-gradersbedömning (alternativ)" in text
            )
    assert [len(s) for s in seen] == [2, 2, 1, 0, 0]
    assert seen[2] == {"topic-specialistkollegium"}


def test_a_three_month_mark_before_the_first_meeting_is_not_skipped() -> None:
    # ST started 1 June; created Wednesday 27 Aug (before the 1 Sept mark), first meeting Monday 1 Sept
    # would include it anyway; here the mark is 29 Aug, between creation and Monday 1 Sept.
    reminder = _reminder(date(2025, 5, 29), datetime(2025, 9, 1, 8, 0))
    first = next_meeting(reminder, datetime(2025, 8, 27, 10, tzinfo=UTC), inclusive=True)
    assert first is not None and first.date() == date(2025, 9, 1)
    assert "cbd" in {t.id for t in due_topics(KNOWLEDGE.topics, reminder, first)}
    second = next_meeting(reminder, first)
    assert second is not None
    assert "cbd" not in {t.id for t in due_topics(KNOWLEDGE.topics, reminder, second)}


def test_next_meeting_names_each_source_once() -> None:
    kb = load_knowledge(REAL_KB)
    knowledge = Knowledge(topics=kb.topics, sources=kb.sources)
    reminder = _reminder(date(2025, 9, 1), datetime(2025, 9, 1, 8, 0))
    text = meeting_text(knowledge, reminder, datetime(2026, 9, 7, 6, tzinfo=UTC), "sv")
    assert text.count("Källa") == 1 and text.count("•") >= 3


async def test_a_time_that_does_not_exist_says_so_and_the_ics_agrees(
    anna: Chat, clock: FakeClock, store: SqlReminderStore
) -> None:
    clock.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))  # summer time starts Sunday 28 March
    await anna.say("påminn mig varje söndag kl 2.30 om handledning med Anna")
    assert "kl. 02:30 finns inte 28 mars 2027" in anna.text and "blir kl. 03:30" in anna.text
    assert "söndag 28 mars 2027 kl. 03:30" in anna.text
    await anna.say("ja")
    export = await anna.say("exportera kalender")
    calendar = Calendar.from_ical(export.attachments[0].data)
    starts = [e.decoded("dtstart") for e in calendar.walk("VEVENT")]
    local = [s.astimezone(starts[0].tzinfo) for s in starts]
    assert local[0].strftime("%Y-%m-%d %H:%M") == "2027-03-21 02:30"
    assert local[1].strftime("%Y-%m-%d %H:%M %z") == "2027-03-28 03:30 +0200"
    assert b"20270328T033000" in export.attachments[0].data


# --- discoverable, and the console's machine-readable mode --------------------------------------


async def test_a_bare_delete_lists_and_asks_which(anna: Chat, store: SqlReminderStore) -> None:
    await create(anna, "påminn mig varje måndag kl 8 om handledning med Erik")
    await create(anna, "påminn mig varje torsdag kl 9 om handledning med Omar")
    reply = await anna.say("ta bort")
    assert reply.kind == "reminder_which" and "Erik" in anna.text and "Omar" in anna.text
    assert (await anna.say("2")).kind == "reminder_delete"
    await anna.say("ja")
    assert await labels(store) == ["Erik"]


async def test_how_to_make_a_reminder_is_answered(anna: Chat) -> None:
    reply = await anna.say("hur gör jag en påminnelse?")
    assert reply.kind == "reminder_help" and reply.paragraphs == reminder_help("sv")
    assert "påminn mig varannan tisdag kl 14" in anna.text
    assert (await anna.say("how do I set up a reminder?")).lang == "en"


async def test_chat_jsonl_prints_one_json_object_per_reply(anna: Chat, tmp_path: Path) -> None:
    stdin = io.StringIO(
        "påminn mig varje måndag kl 8 om handledning med Erik\nja\nmina påminnelser\n"
    )
    stdout = io.StringIO()
    await console_chat(
        anna.service, stdin=stdin, stdout=stdout, user="u", folder=tmp_path, jsonl=True
    )
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [r["status"] for r in rows] == ["clarify", "answer", "answer"]
    assert rows[0]["options"][0]["label"] == "Ja, spara" and rows[0]["lang"] == "sv"
    assert "Erik" in rows[2]["text"] and set(rows[2]) >= {"text", "options", "sources"}
