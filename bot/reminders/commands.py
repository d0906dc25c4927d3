"""Reminder commands in chat: create (with confirmation), list, pause, resume, change, cancel,
"what's next", calendar export, and the snooze/skip buttons of a delivered reminder.

`try_handle` returns None for anything that is not a reminder command, so the knowledge base
answers it. Nothing is stored until the user confirms what the bot understood. Every query is
scoped to the sender (platform + user id): nobody sees or changes another user's reminders.
"""

from __future__ import annotations

import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.language import detect_language
from bot.messages import Attachment, Lang, Message, Option, Reply, Status
from bot.ports import Clock
from bot.reminders.calendar import calendar_file
from bot.reminders.due import next_meeting
from bot.reminders.model import NewReminder, Owner, Reminder, Schedule, from_epoch
from bot.reminders.parse import (
    Problem,
    Request,
    build_schedule,
    is_reminder_request,
    looks_like_schedule,
    merge,
    parse_request,
)
from bot.reminders.phrases import PHRASES
from bot.reminders.render import Knowledge, meeting_text, what
from bot.reminders.store import ReminderStore

MAX_DRAFTS = 10_000
_YES = re.compile(r"^(?:ja|japp|yes|y|ok|okej|spara|save|1)\b")
_NO = re.compile(r"^(?:nej|no|n|avbryt|cancel|2)\b")
_LIST = re.compile(
    r"^(?:visa\s+|lista\s+|show\s+|list\s+)?(?:mina|alla|my|all)?\s*(?:påminnelser|reminders)\s*\??$"
)
_NEXT = re.compile(r"\bnästa\s+möte|\bwhat'?s\s+next\b|\bnext\s+meeting\b|\bvad\s+är\s+nästa\b")
_EXPORT = re.compile(
    r"\bexport\w*\b.*\b(?:kalender|calendar)|\b(?:kalender|calendar)\w*\s+export|\.ics\b"
)
_ACTIONS = (
    ("pause", re.compile(r"^(?:pausa|pause)\b")),
    ("resume", re.compile(r"^(?:återuppta|återstarta|starta\s+igen|resume|unpause|restart)\b")),
    ("cancel", re.compile(r"^(?:ta\s+bort|radera|avsluta|stoppa|cancel|delete|remove|stop)\b")),
    ("change", re.compile(r"^(?:ändra|flytta|byt|change|move|reschedule)\b")),
)
_REF_NUMBER = re.compile(
    r"(?:påminnelse\w*|reminder\w*|nr\.?|nummer|number|#)\s*(\d{1,4})\b|^\s*(\d{1,4})\b"
)
_REMINDER_WORD = re.compile(r"\bpåminnelse\w*|\breminders?\b")


@dataclass(frozen=True, slots=True)
class _Draft:
    token: str
    request: Request
    lang: Lang
    address: str


class ReminderCommands:
    def __init__(
        self,
        *,
        store: ReminderStore,
        clock: Clock,
        knowledge: Knowledge,
        timezone: str = "Europe/Stockholm",
    ) -> None:
        self._store = store
        self._clock = clock
        self._knowledge = knowledge
        self._timezone = timezone
        self._drafts: OrderedDict[tuple[str, str, str], _Draft] = OrderedDict()

    async def try_handle(self, message: Message) -> Reply | None:
        if message.choice is not None and message.choice.startswith("reminder:"):
            return await self._choice(message, message.choice.split(":"))
        text = re.sub(r"^\s*/handledning\s+", "", message.text).strip()
        low = text.lower()
        key = (message.platform, message.user_id, message.conversation_id)
        draft = self._drafts.get(key)
        if draft is not None and not draft.request.problems:
            if _YES.match(low):
                return await self._confirm(message, draft)
            if _NO.match(low):
                del self._drafts[key]
                return _reply(draft.lang, PHRASES[draft.lang].discarded)
        lang = detect_language(text)
        if is_reminder_request(text):
            request = parse_request(text, now=self._clock.now(), timezone=self._timezone)
            return self._draft(message, request, lang)
        if draft is not None and draft.request.problems and looks_like_schedule(low):
            follow = parse_request(text, now=self._clock.now(), timezone=self._timezone)
            return self._draft(message, merge(draft.request, follow), draft.lang)
        return await self._command(message, low, lang)

    # --- create -------------------------------------------------------------------------------

    def _draft(self, message: Message, request: Request, lang: Lang) -> Reply:
        key = (message.platform, message.user_id, message.conversation_id)
        draft = _Draft(uuid.uuid4().hex[:16], request, lang, message.address or "")
        self._drafts.pop(key, None)
        self._drafts[key] = draft
        while len(self._drafts) > MAX_DRAFTS:
            self._drafts.popitem(last=False)
        if request.problems:
            return self._ask_back(request, lang)
        return self._understood(draft)

    def _ask_back(self, request: Request, lang: Lang) -> Reply:
        words = PHRASES[lang]
        texts = [_problem_text(p, lang) for p in request.problems]
        return Reply(
            Status.CLARIFY,
            lang,
            (*texts[1:], words.nothing_saved),
            question=texts[0],
            kind="reminder_clarify",
        )

    def _understood(self, draft: _Draft) -> Reply:
        words = PHRASES[draft.lang]
        schedule = build_schedule(draft.request, now=self._clock.now(), timezone=self._timezone)
        preview = _preview(schedule, draft.request, draft.lang)
        dates = [words.when(schedule.local(d)) for d in _first(schedule, self._clock.now(), 3)]
        paragraphs = [words.understood, f"{preview}."]
        if draft.request.st_start:
            paragraphs.append(words.st_start.format(date=words.day(draft.request.st_start)))
        paragraphs.append("\n".join([words.next_three, *(f"• {d}" for d in dates)]))
        paragraphs.append(words.timezone.format(zone=self._timezone))
        options = (
            Option(words.yes_save, f"reminder:confirm:{draft.token}"),
            Option(words.no, f"reminder:discard:{draft.token}"),
        )
        return Reply(
            Status.CLARIFY,
            draft.lang,
            tuple(paragraphs),
            question=words.confirm,
            options=options,
            kind="reminder_confirm",
        )

    async def _confirm(self, message: Message, draft: _Draft) -> Reply:
        self._drafts.pop((message.platform, message.user_id, message.conversation_id), None)
        now = self._clock.now()
        schedule = build_schedule(draft.request, now=now, timezone=self._timezone)
        new = NewReminder(
            _owner(message),
            message.address or draft.address,
            draft.request.label,
            draft.lang,
            schedule,
            draft.request.st_start,
        )
        first = _first(schedule, now, 1)[0]
        reminder = await self._store.add(new, first=first, now=now)
        words = PHRASES[draft.lang]
        return _reply(
            draft.lang,
            words.saved.format(
                what=what(reminder, draft.lang),
                desc=_describe(schedule, draft.lang),
                date=words.when(schedule.local(first)),
            ),
        )

    # --- buttons --------------------------------------------------------------------------------

    async def _choice(self, message: Message, parts: list[str]) -> Reply | None:
        action = parts[1] if len(parts) > 1 else ""
        if action in ("confirm", "discard"):
            return await self._confirm_choice(message, action, parts[2] if len(parts) > 2 else "")
        if action in ("snooze", "skip") and len(parts) >= 5 and all(p.isdigit() for p in parts[2:]):
            return await self._meeting_choice(message, action, [int(p) for p in parts[2:]])
        return _reply(detect_language(message.text), PHRASES["sv"].expired)

    async def _confirm_choice(self, message: Message, action: str, token: str) -> Reply:
        key = (message.platform, message.user_id, message.conversation_id)
        draft = self._drafts.get(key)
        if draft is None or draft.token != token or draft.request.problems:
            lang = draft.lang if draft else detect_language(message.text)
            return _reply(lang, PHRASES[lang].expired)
        if action == "discard":
            del self._drafts[key]
            return _reply(draft.lang, PHRASES[draft.lang].discarded)
        return await self._confirm(message, draft)

    async def _meeting_choice(self, message: Message, action: str, numbers: list[int]) -> Reply:
        reminder_id, occurrence_epoch, seq = numbers[0], numbers[1], numbers[2]
        owner = _owner(message)
        reminder = next((r for r in await self._store.mine(owner) if r.id == reminder_id), None)
        if reminder is None:
            lang = detect_language(message.text)
            return _reply(lang, PHRASES[lang].expired)
        words = PHRASES[reminder.lang]
        now = self._clock.now()
        occurrence = from_epoch(occurrence_epoch)
        if action == "snooze":
            due = now + timedelta(seconds=numbers[3] if len(numbers) > 3 else 3600)
            await self._store.snooze(owner, reminder.id, occurrence, seq + 1, due)
            return _reply(
                reminder.lang, words.snoozed.format(date=words.when(reminder.schedule.local(due)))
            )
        skipped = replace(reminder, skipped=reminder.skipped | {occurrence_epoch})
        following = next_meeting(skipped, max(now, occurrence))
        await self._store.save(owner, skipped, next_occurrence=following, now=now)
        after = f", {words.when(reminder.schedule.local(following))}" if following else ""
        return _reply(
            reminder.lang,
            words.skipped.format(date=words.when(reminder.schedule.local(occurrence)), next=after),
        )

    # --- list, next, export, pause, resume, change, cancel ------------------------------------

    async def _command(self, message: Message, low: str, lang: Lang) -> Reply | None:
        if _LIST.match(low):
            return await self._list(message, lang)
        if _NEXT.search(low):
            return await self._next(message, low, lang)
        if _EXPORT.search(low):
            return await self._export(message, lang)
        for action, pattern in _ACTIONS:
            found = pattern.match(low)
            if found:
                return await self._act(message, action, message.text[found.end() :], lang)
        return None

    async def _list(self, message: Message, lang: Lang) -> Reply:
        words = PHRASES[lang]
        reminders = await self._store.mine(_owner(message))
        if not reminders:
            return _reply(lang, words.list_empty)
        lines = [self._line(n, r, lang) for n, r in enumerate(reminders, start=1)]
        return Reply(
            Status.ANSWER, lang, (words.list_header, "\n".join(lines)), kind="reminder_list"
        )

    def _line(self, n: int, reminder: Reminder, lang: Lang) -> str:
        words = PHRASES[lang]
        following = next_meeting(reminder, self._clock.now())
        line = words.list_line.format(
            n=n,
            what=what(reminder, lang),
            desc=_describe(reminder.schedule, lang),
            next=words.when(reminder.schedule.local(following)) if following else "–",
        )
        return line + (words.paused_mark if reminder.status == "paused" else "")

    async def _next(self, message: Message, low: str, lang: Lang) -> Reply:
        words = PHRASES[lang]
        reminders = [r for r in await self._store.mine(_owner(message)) if r.status == "active"]
        named = [r for r in reminders if r.label and r.label.lower() in low]
        paragraphs: list[str] = []
        for reminder in named or reminders:
            meeting = next_meeting(reminder, self._clock.now())
            if meeting is None:
                paragraphs.append(words.no_next.format(what=what(reminder, lang)))
                continue
            paragraphs.append(
                words.next_meeting.format(
                    what=what(reminder, lang), date=words.when(reminder.schedule.local(meeting))
                )
            )
            paragraphs.append(meeting_text(self._knowledge, reminder, meeting, lang))
        return Reply(
            Status.ANSWER, lang, tuple(paragraphs or [words.list_empty]), kind="reminder_next"
        )

    async def _export(self, message: Message, lang: Lang) -> Reply:
        words = PHRASES[lang]
        reminders = [r for r in await self._store.mine(_owner(message)) if r.status == "active"]
        if not reminders:
            return _reply(lang, words.export_empty)
        data = calendar_file(reminders, self._knowledge, now=self._clock.now(), lang=lang)
        attachment = Attachment("handledning.ics", "text/calendar", data)
        return Reply(
            Status.ANSWER,
            lang,
            (words.export,),
            kind="reminder_calendar",
            attachments=(attachment,),
        )

    async def _act(self, message: Message, action: str, rest: str, lang: Lang) -> Reply | None:
        words = PHRASES[lang]
        reminders = await self._store.mine(_owner(message))
        target, mentioned = _resolve(rest, reminders)
        if target is None:
            if not mentioned:
                return None
            return Reply(
                Status.CLARIFY,
                lang,
                (await self._list(message, lang)).paragraphs,
                question=words.which if reminders else None,
                kind="reminder_clarify",
            )
        n = reminders.index(target) + 1
        owner, now = _owner(message), self._clock.now()
        label = what(target, lang)
        if action == "cancel":
            await self._store.delete(owner, target.id)
            return _reply(lang, words.cancelled.format(n=n, what=label))
        if action == "pause":
            await self._store.save(
                owner, replace(target, status="paused"), next_occurrence=None, now=now
            )
            return _reply(lang, words.paused.format(n=n, what=label))
        if action == "resume":
            return await self._resume(owner, target, n, lang)
        return await self._change(owner, target, n, rest, lang)

    async def _resume(self, owner: Owner, target: Reminder, n: int, lang: Lang) -> Reply:
        words, now = PHRASES[lang], self._clock.now()
        following = next_meeting(target, now)
        await self._store.save(
            owner, replace(target, status="active"), next_occurrence=following, now=now
        )
        shown = words.when(target.schedule.local(following)) if following else "–"
        return _reply(lang, words.resumed.format(n=n, what=what(target, lang), next=shown))

    async def _change(self, owner: Owner, target: Reminder, n: int, rest: str, lang: Lang) -> Reply:
        words, now = PHRASES[lang], self._clock.now()
        request = parse_request(
            _REF_NUMBER.sub(" ", rest), now=now, timezone=target.schedule.timezone
        )
        bad = [p for p in request.problems if p.code in ("bad_time", "bad_date")]
        if bad or (request.hour is None and request.recurrence is None and request.start is None):
            problem = bad[0] if bad else Problem("no_time")
            return Reply(
                Status.CLARIFY,
                lang,
                (words.nothing_saved,),
                question=_problem_text(problem, lang),
                kind="reminder_clarify",
            )
        old = target.schedule
        full = replace(
            request,
            recurrence=request.recurrence or old.recurrence,
            hour=request.hour if request.hour is not None else old.start.hour,
            minute=request.minute if request.hour is not None else old.start.minute,
            problems=(),
        )
        schedule = build_schedule(full, now=now, timezone=old.timezone)
        if request.recurrence is None and request.start is None:  # same days, new time
            schedule = replace(
                old, start=old.start.replace(hour=full.hour or 0, minute=full.minute or 0)
            )
        changed = replace(target, schedule=schedule, skipped=frozenset())
        following = next_meeting(changed, now)
        await self._store.save(owner, changed, next_occurrence=following, now=now)
        shown = words.when(schedule.local(following)) if following else "–"
        return _reply(
            lang,
            words.changed.format(
                n=n, what=what(changed, lang), desc=_describe(schedule, lang), next=shown
            ),
        )


def _resolve(rest: str, reminders: list[Reminder]) -> tuple[Reminder | None, bool]:
    """The reminder `rest` names (by list number or trainee label), and whether it names one."""
    low = rest.lower()
    found = _REF_NUMBER.search(low)
    if found:
        n = int(found.group(1) or found.group(2))
        return (reminders[n - 1] if 1 <= n <= len(reminders) else None), True
    for reminder in reminders:
        if reminder.label and re.search(rf"\b{re.escape(reminder.label.lower())}\b", low):
            return reminder, True
    mentioned = _REMINDER_WORD.search(low) is not None
    if mentioned and len(reminders) == 1:
        return reminders[0], True
    return None, mentioned


def _owner(message: Message) -> Owner:
    return Owner(message.platform, message.user_id)


def _reply(lang: Lang, text: str) -> Reply:
    return Reply(Status.ANSWER, lang, (text,), kind="reminder")


def _first(schedule: Schedule, now: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment: datetime | None = schedule.after(now, inclusive=True)
    while moment is not None and len(found) < count:
        found.append(moment)
        moment = schedule.after(moment)
    return found


def _describe(schedule: Schedule, lang: Lang) -> str:
    return PHRASES[lang].recurrence(schedule.recurrence, schedule.start.hour, schedule.start.minute)


def _preview(schedule: Schedule, request: Request, lang: Lang) -> str:
    words = PHRASES[lang]
    label = words.with_label.format(label=request.label) if request.label else words.without_label
    return f"{label}, {_describe(schedule, lang)}"


def _problem_text(problem: Problem, lang: Lang) -> str:
    words = PHRASES[lang]
    template = getattr(words, problem.code)
    if problem.code == "no_recurrence":
        quoted = f" (”{problem.fragment}”)" if lang == "sv" else f" (“{problem.fragment}”)"
        return str(template.format(fragment=quoted if problem.fragment else ""))
    return str(template.format(fragment=problem.fragment))
