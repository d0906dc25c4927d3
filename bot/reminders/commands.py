"""Reminder commands in chat: create (with confirmation), list, pause, resume, change, delete
(with confirmation), skip, "what's next", calendar export, help, and the snooze/skip buttons of a
delivered reminder.

`try_handle` returns None for anything that is not a reminder command, so the knowledge base
answers it. Nothing is stored until the user confirms what the bot understood, and nothing is
deleted until the user confirms which reminder. Every query is scoped to the sender (platform +
user id): nobody sees or changes another user's reminders.

Confirmations cannot misfire. The question the bot just asked lives in the conversation's
`AWAITING` slot of a `bot.state.StateStore` (key `bot.state.key_of(platform, user, conversation)`),
as JSON: `{"kind": "reminder_confirm" | "reminder_missing" | "reminder_delete" | "reminder_which",
"token": str, "lang": "sv"|"en", ...}`. A "ja"/"yes"/"1" answers only that question; whoever asks
next (the knowledge base's clarifying question too) overwrites the slot; any other message
abandons the question. Reminders are always referred to by their own id (shown in every list), so
numbers never shift after a delete.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.language import detect_language
from bot.messages import Attachment, Lang, Message, Option, Reply, Status
from bot.ports import Clock
from bot.reminders.due import next_meeting
from bot.reminders.model import (
    NewReminder,
    Owner,
    Recurrence,
    Reminder,
    Schedule,
    from_epoch,
    to_epoch,
)
from bot.reminders.parse import (
    Problem,
    Request,
    build_schedule,
    is_reminder_request,
    looks_like_schedule,
    merge,
    parse_request,
    request_from_json,
    request_to_json,
    weekday_in,
)
from bot.reminders.phrases import PHRASES, reminder_help
from bot.reminders.render import Knowledge, meeting_text, what
from bot.reminders.store import ReminderStore
from bot.state import AWAITING, AWAITING_TTL, MemoryStateStore, StateStore, key_of
from bot.text import fold

log = logging.getLogger(__name__)

_MAX_NOTES = 10_000
_KINDS = ("reminder_confirm", "reminder_missing", "reminder_delete", "reminder_which")

# All patterns read folded text (bot.text.fold): "påminnelser" and "paminnelser" are one word.
_POLITE = r"^(?:(?:/handledning|kan du|kan ni|snalla|jag vill|jag skulle vilja|vill|please|can you|"
_POLITE += r"could you|i want to|i'd like to|id like to|hej|hi)[\s,]+)*"
_YES = re.compile(
    r"^(?:ja|japp|jajamen|jo|javisst|absolut|gor det|kor|ok|okej|okay|yes|yep|yeah|y|sure|"
    r"spara|save|go ahead|do it|confirm|bekrafta|1)\b"
)
_NO = re.compile(
    r"^(?:nej|nope|no|n|avbryt|cancel|strunta i det|glom det|never mind|nevermind|behall|keep|"
    r"spara inte|don't|dont|2)\b"
)
_HELP = re.compile(
    r"^(?:hjalp|help)\b.*\b(?:paminn|remind)|\bhur\s+(?:\w+\s+){0,2}(?:jag|man|vi|du)\b.*\bpaminn"
    r"|\bhow\s+(?:do|can|should|would)\s+(?:i|we|you)\b.*\bremind"
    r"|\b(?:vad kan|what can)\b.*\b(?:paminnelse|reminder)|\b(?:paminnelse|reminder)s?\s+help\b"
)
_ACTIONS = (
    ("skip", re.compile(r"\b(?:hoppa\s+over|hoppar\s+over|stall\s+in|skippa|skip)\b")),
    ("snooze", re.compile(r"\b(?:skjut\s+upp|skjuta\s+upp|snooze|postpone|senarelagg)\b")),
    (
        "resume",
        re.compile(
            _POLITE + r"(?:ateruppta|aterstarta|starta\s+om|starta\b.*\bigen|aktivera|sla\s+pa"
            r"|resume|unpause|restart|reactivate|turn\b.*\bback\s+on|turn\s+on|switch\s+on)\b"
        ),
    ),
    (
        "cancel",
        re.compile(
            _POLITE + r"(?:ta\s+bort|radera|avbryt|avsluta|stoppa|stang\s+av|sluta\s+paminna"
            r"|sluta\s+skicka|cancel|delete|remove|stop|turn\s+off|switch\s+off|deactivate"
            r"|get\s+rid\s+of|erase)\b"
        ),
    ),
    ("pause", re.compile(_POLITE + r"(?:pausa|pause|vila|hold|put\b.*\bon\s+hold)\b")),
    (
        "change",
        re.compile(_POLITE + r"(?:andra|flytta|byt|byta|lagg\s+om|change|move|reschedule)\b"),
    ),
)
_REMINDER_WORD = re.compile(r"\b(?:pa?m+i+n+e?l+s\w*|re?m+i+n+d+e+r\w*)")
_REMINDERS_PLURAL = re.compile(
    r"\b(?:pa?m+i+n+e?l+s\w*er\w*|pa?m+i+n+e?l+s\w*na|re?m+i+n+d+e+rs)\b"
)
_LIST_WORD = re.compile(
    r"\b(?:visa|lista|list|show|se|kolla|vilka|which|what|har|have|any|mina|my)\b"
)
_NEXT = re.compile(
    r"\bnasta\s+(?:mote|gang|handledning|traff)|\bnext\s+(?:meeting|session|time|supervision)"
    r"|\bwhat'?s\s+next\b|\bwhats\s+next\b|\bvad\s+ar\s+nasta\b"
    r"|\b(?:ta\s+upp|prata\s+om|ga\s+igenom|cover|discuss)\b.*\b(?:nasta|next)\b"
)
_EXPORT = re.compile(
    r"\b(?:exportera|export|ics|ical|icalendar|outlook|kalenderfil)\b"
    r"|\b(?:i|in|into|till|to|med|with)\s+(?:min|mitt|mina|my|the|a)?\s*(?:kalender|kalendern|calendar)\b"
)
_ONCE_WORDS = re.compile(
    r"\b(?:engangs\w*|bara\s+(?:den|en)\s+(?:dag|gang)\w*|en\s+gang|one-?(?:time|off)|once"
    r"|just\s+(?:that|this|one)\s+(?:day|time))\b"
)
_ALL = re.compile(r"\b(?:alla|samtliga|all|every|everything)\b")
_REF_NUMBER = re.compile(
    r"(?:paminnelse\w*|reminder\w*|nr\.?|nummer|number|#|no\.)\s*(\d{1,6})\b(?![:.]\d)"
)
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,6})\b(?![:.]\d)")
_CAPITALISED = re.compile(r"\b[A-ZÅÄÖ][a-zåäöéü-]+\b")
_EN_WORDS = frozenset(
    "my show list reminder reminders delete remove cancel stop pause resume move change skip "
    "snooze remind me what's whats next meeting with the to turn off on back all yes no please "
    "set up export calendar every at about".split()
)
_SV_WORDS = frozenset(
    "mina visa lista paminnelse paminnelser paminnelsen paminnelserna ta bort radera avbryt "
    "pausa ateruppta flytta andra byt hoppa over mig med till kl om nasta mote alla ja nej "
    "sluta stang av exportera kalender varje pa for".split()
)


class ReminderCommands:
    def __init__(
        self,
        *,
        store: ReminderStore,
        clock: Clock,
        knowledge: Knowledge,
        timezone: str = "Europe/Stockholm",
        state: StateStore | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._knowledge = knowledge
        self._timezone = timezone
        self._state: StateStore = state if state is not None else MemoryStateStore()
        self._notes: OrderedDict[str, str] = OrderedDict()

    def take_note(self, message: Message) -> str | None:
        """The short note that a pending reminder question was dropped by `message`, when
        `try_handle` returned None for it (the knowledge base answers): the service can put it
        before that answer. Taken once; None when there is none."""
        return self._notes.pop(
            key_of(message.platform, message.user_id, message.conversation_id), None
        )

    async def try_handle(self, message: Message) -> Reply | None:
        key = key_of(message.platform, message.user_id, message.conversation_id)
        awaiting = await self._state.get(key, AWAITING)
        pending = awaiting if awaiting and awaiting.get("kind") in _KINDS else None
        if message.choice is not None and message.choice.startswith("reminder:"):
            return await self._choice(message, key, pending, message.choice.split(":"))
        text = re.sub(r"^\s*/handledning\s+", "", message.text).strip()
        low = fold(text)
        note: str | None = None
        if pending is not None:
            answered = await self._answer(message, key, pending, text, low)
            if answered is not None:
                return answered
            await self._state.delete(key, AWAITING)  # not an answer: the question is dropped
            note = _abandoned(pending)
        reply = await self._command(message, key, text, low, _lang(text, low))
        if reply is None and note:
            self._notes[key] = note
            while len(self._notes) > _MAX_NOTES:
                self._notes.popitem(last=False)
        if reply is not None and note:
            reply = replace(reply, paragraphs=(note, *reply.paragraphs))
        return reply

    # --- the pending question -------------------------------------------------------------------

    async def _answer(
        self, message: Message, key: str, pending: dict[str, Any], text: str, low: str
    ) -> Reply | None:
        """The reply when `text` answers the pending question, else None."""
        kind, lang = pending["kind"], _pending_lang(pending)
        yes, no = _is_yes(text, low), _is_no(low)
        if kind == "reminder_confirm":
            if yes:
                return await self._save(message, key, pending)
            if no:
                await self._state.delete(key, AWAITING)
                return _reply(lang, PHRASES[lang].discarded)
            request = request_from_json(pending["request"])
            if _ONCE_WORDS.search(low) and request.recurrence and request.recurrence.freq == "once":
                again = self._understood(request, lang, str(pending["token"]))
                return replace(again, paragraphs=(PHRASES[lang].is_once, *again.paragraphs))
            return None
        if kind == "reminder_missing":
            if no:
                await self._state.delete(key, AWAITING)
                return _reply(lang, PHRASES[lang].discarded)
            if is_reminder_request(text) or not looks_like_schedule(low) or _is_command(low):
                return None
            follow = parse_request(text, now=self._clock.now(), timezone=self._timezone)
            merged = merge(request_from_json(pending["request"]), follow)
            return await self._draft(key, message, merged, lang)
        if kind == "reminder_delete":
            if yes:
                return await self._delete(message, key, pending)
            if no:
                await self._state.delete(key, AWAITING)
                return _reply(lang, PHRASES[lang].kept)
            return None
        if kind == "reminder_which":
            if no and not low.strip().isdigit():  # here a number picks a reminder
                await self._state.delete(key, AWAITING)
                return _reply(lang, PHRASES[lang].nothing_changed)
            mine = {r.id: r for r in await self._store.mine(_owner(message))}
            candidates = [mine[i] for i in pending["ids"] if i in mine]
            chosen = _pick(candidates, low)
            if chosen is None:
                return None
            await self._state.delete(key, AWAITING)
            return await self._act_on(
                message, key, pending["action"], [chosen], pending.get("rest", ""), lang
            )
        return None

    # --- create -------------------------------------------------------------------------------

    async def _draft(self, key: str, message: Message, request: Request, lang: Lang) -> Reply:
        words = PHRASES[lang]
        token = uuid.uuid4().hex[:16]
        value = {
            "kind": "reminder_missing" if request.problems else "reminder_confirm",
            "token": token,
            "lang": lang,
            "request": request_to_json(request),
            "address": message.address or "",
        }
        await self._state.put(key, AWAITING, value, AWAITING_TTL)
        if request.problems:
            texts = [_problem_text(p, lang) for p in request.problems]
            known = [words.with_label.format(label=request.label) if request.label else ""]
            if request.recurrence is not None and request.hour is not None:
                known = [
                    describe(
                        build_schedule(request, now=self._clock.now(), timezone=self._timezone),
                        lang,
                    )
                ]
            elif request.hour is not None:
                known.append(
                    words.at_time.format(time=f"{request.hour:02d}:{request.minute or 0:02d}")
                )
            so_far = ", ".join(k for k in known if k)
            return Reply(
                Status.CLARIFY,
                lang,
                (
                    *([words.so_far.format(what=so_far)] if so_far else []),
                    *texts[1:],
                    words.nothing_saved,
                ),
                question=texts[0],
                kind="reminder_clarify",
            )
        return self._understood(request, lang, token)

    def _understood(self, request: Request, lang: Lang, token: str) -> Reply:
        words = PHRASES[lang]
        now = self._clock.now()
        schedule = build_schedule(request, now=now, timezone=self._timezone)
        label = (
            words.with_label.format(label=request.label) if request.label else words.without_label
        )
        dates = _first(schedule, now, 1 if schedule.recurrence.freq == "once" else 3)
        paragraphs = [words.understood, f"{label}, {describe(schedule, lang)}."]
        if request.st_start:
            paragraphs.append(words.st_start.format(date=words.day(request.st_start)))
        if schedule.recurrence.freq != "once":
            paragraphs.append(
                "\n".join(
                    [words.next_three, *(f"• {words.when(schedule.local(d))}" for d in dates)]
                )
            )
        paragraphs += _dst_notes(schedule, dates, lang)
        paragraphs.append(words.timezone.format(zone=self._timezone))
        options = (
            Option(words.yes_save, f"reminder:confirm:{token}"),
            Option(words.no, f"reminder:discard:{token}"),
        )
        return Reply(
            Status.CLARIFY,
            lang,
            tuple(paragraphs),
            question=words.confirm,
            options=options,
            kind="reminder_confirm",
        )

    async def _save(self, message: Message, key: str, pending: dict[str, Any]) -> Reply:
        lang = _pending_lang(pending)
        words = PHRASES[lang]
        request = request_from_json(pending["request"])
        now = self._clock.now()
        schedule = build_schedule(request, now=now, timezone=self._timezone)
        firsts = _first(schedule, now, 1)
        if not firsts:
            await self._state.delete(key, AWAITING)
            return _reply(lang, words.in_the_past)
        new = NewReminder(
            _owner(message),
            message.address or str(pending.get("address", "")),
            request.label,
            lang,
            schedule,
            request.st_start,
        )
        try:
            reminder = await self._store.add(new, first=firsts[0], now=now)
        except Exception as error:  # the store failed: say so; the question stays answerable
            log.exception("could not save a reminder")
            return Reply(
                Status.CLARIFY,
                lang,
                (words.save_failed.format(why=_why(error, lang)),),
                question=words.retry,
                options=(
                    Option(words.yes_save, f"reminder:confirm:{pending['token']}"),
                    Option(words.no, f"reminder:discard:{pending['token']}"),
                ),
                kind="reminder_confirm",
            )
        await self._state.delete(key, AWAITING)
        text = words.saved.format(
            n=reminder.id,
            what=what(reminder, lang),
            desc=describe(schedule, lang),
            date=words.when(schedule.local(firsts[0])),
        )
        return Reply(
            Status.ANSWER, lang, (text, *_dst_notes(schedule, firsts, lang)), kind="reminder"
        )

    # --- buttons --------------------------------------------------------------------------------

    async def _choice(
        self, message: Message, key: str, pending: dict[str, Any] | None, parts: list[str]
    ) -> Reply | None:
        action = parts[1] if len(parts) > 1 else ""
        token = parts[2] if len(parts) > 2 else ""
        if action in ("confirm", "discard", "delete", "keep"):
            if pending is None or pending.get("token") != token:
                lang = _pending_lang(pending) if pending else detect_language(message.text)
                return _reply(lang, PHRASES[lang].expired)
            lang = _pending_lang(pending)
            if action == "confirm" and pending["kind"] == "reminder_confirm":
                return await self._save(message, key, pending)
            if action == "delete" and pending["kind"] == "reminder_delete":
                return await self._delete(message, key, pending)
            await self._state.delete(key, AWAITING)
            words = PHRASES[lang]
            return _reply(lang, words.discarded if action == "discard" else words.kept)
        if action in ("snooze", "skip") and len(parts) >= 5 and all(p.isdigit() for p in parts[2:]):
            return await self._meeting_choice(message, action, [int(p) for p in parts[2:]])
        lang = detect_language(message.text)
        return _reply(lang, PHRASES[lang].expired)

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
        return await self._skip(owner, reminder, occurrence, reminder.lang)

    async def _skip(
        self, owner: Owner, reminder: Reminder, occurrence: datetime, lang: Lang
    ) -> Reply:
        words, now = PHRASES[lang], self._clock.now()
        skipped = replace(reminder, skipped=reminder.skipped | {to_epoch(occurrence)})
        following = next_meeting(skipped, max(now, occurrence))
        await self._store.save(owner, skipped, next_occurrence=following, now=now)
        after = f", {words.when(reminder.schedule.local(following))}" if following else ""
        return _reply(
            lang,
            words.skipped.format(
                n=reminder.id,
                what=what(reminder, lang),
                date=words.when(reminder.schedule.local(occurrence)),
                next=after,
            ),
        )

    # --- commands -------------------------------------------------------------------------------

    async def _command(
        self, message: Message, key: str, text: str, low: str, lang: Lang
    ) -> Reply | None:
        if _HELP.search(low):
            return Reply(Status.ANSWER, lang, reminder_help(lang), kind="reminder_help")
        for action, pattern in _ACTIONS:
            found = pattern.search(low)
            if found:
                handled = await self._act(message, key, action, text, low, found.end(), lang)
                if handled is not None:
                    return handled
        if _NEXT.search(low) and not is_reminder_request(text):
            handled = await self._next(message, low, lang)
            if handled is not None:
                return handled
        if _EXPORT.search(low) and not looks_like_schedule(low):
            return await self._export(message, lang)
        if _is_list(low, text):
            return await self._list(message, lang)
        if is_reminder_request(text):
            request = parse_request(text, now=self._clock.now(), timezone=self._timezone)
            return await self._draft(key, message, request, lang)
        return None

    async def _list(self, message: Message, lang: Lang) -> Reply:
        words = PHRASES[lang]
        reminders = await self._store.mine(_owner(message))
        if not reminders:
            return _reply(lang, words.list_empty)
        lines = [self._line(r, lang) for r in reminders]
        return Reply(
            Status.ANSWER,
            lang,
            (words.list_header, "\n".join(lines), words.list_hint.format(n=reminders[0].id)),
            kind="reminder_list",
        )

    def _line(self, reminder: Reminder, lang: Lang) -> str:
        words = PHRASES[lang]
        following = next_meeting(reminder, self._clock.now())
        line = words.list_line.format(
            n=reminder.id,
            what=what(reminder, lang),
            desc=describe(reminder.schedule, lang),
            next=words.when(reminder.schedule.local(following)) if following else "–",
        )
        return line + (words.paused_mark if reminder.status == "paused" else "")

    async def _next(self, message: Message, low: str, lang: Lang) -> Reply | None:
        words = PHRASES[lang]
        mine = await self._store.mine(_owner(message))
        reminders = [r for r in mine if r.status == "active"]
        named = [r for r in reminders if r.label and _names(r.label, low)]
        if not mine and not re.fullmatch(r"\W*(?:nasta mote|next meeting|what'?s next)\W*", low):
            return None  # a general question about meetings: the knowledge base answers
        paragraphs: list[str] = []
        for reminder in named or reminders:
            meeting = next_meeting(reminder, self._clock.now())
            if meeting is None:
                paragraphs.append(words.no_next.format(what=what(reminder, lang)))
                continue
            paragraphs.append(
                words.next_meeting.format(
                    n=reminder.id,
                    what=what(reminder, lang),
                    date=words.when(reminder.schedule.local(meeting)),
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
        # icalendar (bot.reminders.calendar) is imported on the first export, not at start-up.
        from bot.reminders.calendar import calendar_file

        data = calendar_file(reminders, self._knowledge, now=self._clock.now(), lang=lang)
        attachment = Attachment("handledning.ics", "text/calendar", data)
        return Reply(
            Status.ANSWER,
            lang,
            (words.export,),
            kind="reminder_calendar",
            attachments=(attachment,),
        )

    async def _act(
        self, message: Message, key: str, action: str, text: str, low: str, end: int, lang: Lang
    ) -> Reply | None:
        """`action` on the reminder(s) `low` names; None when it names none (not a command)."""
        words = PHRASES[lang]
        reminders = await self._store.mine(_owner(message))
        rest = low[end:]
        targets, ref = _targets(low, rest, reminders, text[end:], filter_day=action != "change")
        if targets is None and not _bare(rest):
            return None
        if targets is not None and not targets and ref:
            return _reply(lang, words.not_found.format(ref=ref))
        if not targets:
            if not reminders:
                return _reply(lang, words.list_empty)
            targets = list(reminders)
            if len(targets) == 1:
                return await self._act_on(message, key, action, targets, rest, lang)
        if len(targets) > 1 and not _ALL.search(rest):
            await self._state.put(
                key,
                AWAITING,
                {
                    "kind": "reminder_which",
                    "token": uuid.uuid4().hex[:16],
                    "lang": lang,
                    "action": action,
                    "ids": [r.id for r in targets],
                    "rest": rest,
                },
                AWAITING_TTL,
            )
            listing = "\n".join(self._line(r, lang) for r in targets)
            return Reply(
                Status.CLARIFY,
                lang,
                (words.several.format(count=len(targets)), listing, words.nothing_changed),
                question=words.which_number,
                kind="reminder_which",
            )
        return await self._act_on(message, key, action, targets, rest, lang)

    async def _act_on(
        self,
        message: Message,
        key: str,
        action: str,
        targets: Sequence[Reminder],
        rest: str,
        lang: Lang,
    ) -> Reply:
        words = PHRASES[lang]
        owner, now = _owner(message), self._clock.now()
        if action == "cancel":
            token = uuid.uuid4().hex[:16]
            await self._state.put(
                key,
                AWAITING,
                {
                    "kind": "reminder_delete",
                    "token": token,
                    "lang": lang,
                    "ids": [r.id for r in targets],
                },
                AWAITING_TTL,
            )
            listing = "\n".join(self._line(r, lang) for r in targets)
            return Reply(
                Status.CLARIFY,
                lang,
                (listing,),
                question=words.delete_confirm_one
                if len(targets) == 1
                else words.delete_confirm_many.format(count=len(targets)),
                options=(
                    Option(words.yes_delete, f"reminder:delete:{token}"),
                    Option(words.no_keep, f"reminder:keep:{token}"),
                ),
                kind="reminder_delete",
            )
        if action == "pause":
            done = []
            for target in targets:
                await self._store.save(
                    owner, replace(target, status="paused"), next_occurrence=None, now=now
                )
                done.append(words.paused.format(n=target.id, what=what(target, lang)))
            return _reply(lang, "\n".join(done))
        if action == "resume":
            done = []
            for target in targets:
                following = next_meeting(target, now)
                await self._store.save(
                    owner, replace(target, status="active"), next_occurrence=following, now=now
                )
                shown = words.when(target.schedule.local(following)) if following else "–"
                done.append(words.resumed.format(n=target.id, what=what(target, lang), next=shown))
            return _reply(lang, "\n".join(done))
        if action == "skip":
            target = targets[0]
            meeting = next_meeting(target, now)
            if meeting is None:
                return _reply(lang, words.no_next.format(what=what(target, lang)))
            return await self._skip(owner, target, meeting, lang)
        if action == "snooze":
            target = targets[0]
            return _reply(lang, words.snooze_typed.format(n=target.id, what=what(target, lang)))
        return await self._change(owner, targets[0], rest, lang)

    async def _delete(self, message: Message, key: str, pending: dict[str, Any]) -> Reply:
        lang = _pending_lang(pending)
        words = PHRASES[lang]
        owner = _owner(message)
        mine = {r.id: r for r in await self._store.mine(owner)}
        done = []
        for reminder_id in pending["ids"]:
            target = mine.get(reminder_id)
            if target is not None and await self._store.delete(owner, reminder_id):
                done.append(words.cancelled.format(n=reminder_id, what=what(target, lang)))
        await self._state.delete(key, AWAITING)
        return _reply(lang, "\n".join(done) or words.nothing_changed)

    async def _change(self, owner: Owner, target: Reminder, rest: str, lang: Lang) -> Reply:
        words, now = PHRASES[lang], self._clock.now()
        cleaned = _REF_NUMBER.sub(" ", _LEADING_NUMBER.sub(" ", rest))
        if target.label:
            cleaned = re.sub(rf"\b{re.escape(fold(target.label))}s?\b", " ", cleaned)
        request = parse_request(cleaned, now=now, timezone=target.schedule.timezone)
        bad = [p for p in request.problems if p.code in ("bad_time", "bad_date")]
        old = target.schedule
        recurrence = request.recurrence
        day = weekday_in(cleaned)
        if recurrence is None and day is not None and old.recurrence.freq != "once":
            recurrence = replace(old.recurrence, weekday=day)
        if bad or (request.hour is None and recurrence is None):
            return Reply(
                Status.ANSWER,
                lang,
                (words.nothing_changed,),
                question=_problem_text(bad[0], lang) if bad else words.change_what,
                kind="reminder_clarify",
            )
        hour = request.hour if request.hour is not None else old.start.hour
        minute = request.minute if request.hour is not None else old.start.minute
        if recurrence is None:  # same days, new time
            schedule = replace(old, start=old.start.replace(hour=hour, minute=minute or 0))
        else:
            full = replace(
                request,
                recurrence=recurrence,
                hour=hour,
                minute=minute,
                start=request.start or (old.start.date() if recurrence.freq == "once" else None),
                problems=(),
            )
            schedule = build_schedule(full, now=now, timezone=old.timezone)
        changed = replace(target, schedule=schedule, skipped=frozenset())
        following = next_meeting(changed, now)
        await self._store.save(owner, changed, next_occurrence=following, now=now)
        shown = words.when(schedule.local(following)) if following else "–"
        text = words.changed.format(
            n=target.id, what=what(changed, lang), desc=describe(schedule, lang), next=shown
        )
        notes = _dst_notes(schedule, [following] if following else [], lang)
        return Reply(Status.ANSWER, lang, (text, *notes), kind="reminder")


# --- reading the words --------------------------------------------------------------------------


def _lang(text: str, low: str) -> Lang:
    """The language of a command: its command words decide ("delete reminder 2" is English)."""
    tokens = re.findall(r"[a-z']+", low)
    english = sum(1 for t in tokens if t in _EN_WORDS)
    swedish = sum(1 for t in tokens if t in _SV_WORDS)
    if english != swedish:
        return "en" if english > swedish else "sv"
    return detect_language(text)


def _is_yes(text: str, low: str) -> bool:
    if "👍" in text or "✅" in text:
        return True
    return bool(_YES.match(low.strip())) and len(low.split()) <= 4 and not _is_command(low)


def _is_no(low: str) -> bool:
    return bool(_NO.match(low.strip())) and len(low.split()) <= 4 and not _REMINDER_WORD.search(low)


def _is_command(low: str) -> bool:
    """A command of its own ("ta bort 1", "pausa Erik"), not a bare answer like "avbryt"."""
    return len(low.split()) > 1 and any(p.search(low) for _, p in _ACTIONS)


def _is_list(low: str, text: str) -> bool:
    if _REMINDERS_PLURAL.search(low) and not looks_like_schedule(low):
        return True
    return bool(
        _REMINDER_WORD.search(low)
        and _LIST_WORD.search(low)
        and not is_reminder_request(text)
        and not looks_like_schedule(low)
    )


def _bare(rest: str) -> bool:
    """Is what follows the verb empty or only "påminnelsen", "min påminnelse", "it", ...?"""
    words = re.findall(r"[a-z]+", rest)
    filler = {
        "min",
        "mina",
        "en",
        "den",
        "det",
        "the",
        "my",
        "a",
        "it",
        "please",
        "tack",
        "nu",
        "now",
    }
    return all(w in filler or _REMINDER_WORD.fullmatch(w) for w in words)


def _names(label: str, low: str) -> bool:
    """Does `low` (folded) name the trainee `label` (also "Saras", "Erik's")?"""
    return re.search(rf"\b{re.escape(fold(label))}(?:s|'s)?\b", low) is not None


def _targets(
    low: str, rest: str, reminders: list[Reminder], after: str, *, filter_day: bool
) -> tuple[list[Reminder] | None, str]:
    """The reminders a command names, and how it named them when none matched.

    None: the message names no reminder at all (so it is not a reminder command)."""
    found = _REF_NUMBER.search(low) or _LEADING_NUMBER.search(rest)
    if found:
        number = int(found.group(1))
        return [r for r in reminders if r.id == number], str(number)
    if _ALL.search(rest) and (_REMINDER_WORD.search(low) or len(rest.split()) <= 2):
        return list(reminders), ""
    named = [r for r in reminders if r.label and _names(r.label, low)]
    if named:
        day = weekday_in(rest) if filter_day else None
        same_day = [r for r in named if r.schedule.recurrence.weekday == day]
        return (same_day or named), ""
    mentioned = _REMINDER_WORD.search(low) is not None
    if mentioned and len(reminders) == 1:
        return list(reminders), ""
    name = _CAPITALISED.search(after)
    if name:
        return [], name.group(0)
    return ([] if mentioned else None), ""


def _pick(candidates: list[Reminder], low: str) -> Reminder | None:
    """The candidate an answer to "which one?" picks: by its id, or by its weekday/time."""
    number = re.fullmatch(r"\D*?(\d{1,6})\D*", low)
    if number:
        return next((r for r in candidates if r.id == int(number.group(1))), None)
    day = weekday_in(low)
    if day is not None:
        same = [r for r in candidates if r.schedule.recurrence.weekday == day]
        return same[0] if len(same) == 1 else None
    return None


# --- wording --------------------------------------------------------------------------------------


def _abandoned(pending: Mapping[str, Any]) -> str:
    lang = _pending_lang(pending)
    words = PHRASES[lang]
    if pending["kind"] in ("reminder_confirm", "reminder_missing"):
        return words.abandoned_create
    return words.abandoned_change


def _pending_lang(pending: Mapping[str, Any]) -> Lang:
    return "en" if pending.get("lang") == "en" else "sv"


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


def describe(schedule: Schedule, lang: Lang) -> str:
    """How often and when: "varannan tisdag kl. 14:00", "once, Friday 15 January 2027 at 10:00"."""
    words = PHRASES[lang]
    rec: Recurrence = schedule.recurrence
    start = schedule.start
    if rec.freq == "once":
        return words.once.format(date=words.when(schedule.local(schedule.localize(start))))
    if rec.freq == "monthly" and rec.nth is None:
        time = words.at_time.format(time=f"{start.hour:02d}:{start.minute:02d}")
        template = words.every_month_day if rec.interval == 1 else words.every_n_months_day
        return f"{template.format(n=rec.interval, day=start.day)} {time}"
    return words.recurrence(rec, start.hour, start.minute)


def _dst_notes(schedule: Schedule, meetings: Sequence[datetime], lang: Lang) -> list[str]:
    """A note for each meeting whose asked-for time does not exist that day (summer time)."""
    words = PHRASES[lang]
    asked = f"{schedule.start.hour:02d}:{schedule.start.minute:02d}"
    return [
        words.dst_gap.format(
            asked=asked,
            day=words.day(schedule.local(m).date()),
            real=schedule.local(m).strftime("%H:%M"),
        )
        for m in meetings
        if schedule.shifted(m)
    ]


def _why(error: Exception, lang: Lang) -> str:
    words = PHRASES[lang]
    detail = str(error).strip() or type(error).__name__
    if re.search(r"full|no space|disk", detail, re.I):
        return words.storage_full.format(detail=detail)
    return words.storage_error.format(detail=detail)


def _problem_text(problem: Problem, lang: Lang) -> str:
    words = PHRASES[lang]
    template = getattr(words, problem.code)
    if problem.code == "no_recurrence":
        quoted = f" (”{problem.fragment}”)" if lang == "sv" else f" (“{problem.fragment}”)"
        return str(template.format(fragment=quoted if problem.fragment else ""))
    return str(template.format(fragment=problem.fragment))
