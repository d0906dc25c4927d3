"""The one entry point of the core: a `Message` in, a `Reply` out, whatever the platform.

The conversation state lives in a `bot.state.StateStore` (shared by every replica when it is the
database's): the open clarifying question in slot `AWAITING`, so that the next message ("2", a
button value, or the option's words) answers it on whichever replica gets it; the knowledge
engine's follow-up context in `CONTEXT` and the user's profile in `PROFILE`. Reminder commands,
admin commands and the like are `CommandHandler`s asked before the knowledge base.

In order, for each message: the `guard` may refuse it (rate limit, length cap, patient data: the
text then goes nowhere else); a rating click (`rate:up:<entry id>`) is recorded; the commands are
asked; then the knowledge base answers. A no-match, and a clarifying question the user left for
another question, are noted in the `journal` (question text only). Each message is one
`StateStore.turn` (a database's store reads the message's slots once and writes them once). Every message gets a request
id for the logs, and its outcome and time go to `metrics`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.answering.engine import Engine
from bot.logs import new_request_id, request_id
from bot.messages import Lang, Message, Option, Reply, Status
from bot.metrics import Metrics
from bot.ports import CommandHandler
from bot.safety import Guard
from bot.state import (
    AWAITING,
    AWAITING_TTL,
    CONTEXT,
    CONTEXT_TTL,
    PROFILE,
    PROFILE_TTL,
    MemoryStateStore,
    StateStore,
    key_of,
    profile_key,
)
from bot.unanswered import Journal
from bot.wording import WORDING

RATE_PREFIX = "rate:"
CLARIFY = "clarify"  # the `kind` of an open clarification in slot AWAITING

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Clarification:
    """The clarifying question open in a conversation, as slot `AWAITING` holds it:
    `{"kind": "clarify", "lang": "sv", "question": <the user's question>,
    "options": [{"label": ..., "value": <entry id>}, ...]}`."""

    lang: Lang
    question: str
    options: tuple[Option, ...]

    def to_slot(self) -> dict[str, Any]:
        return {
            "kind": CLARIFY,
            "lang": self.lang,
            "question": self.question,
            "options": [{"label": o.label, "value": o.value} for o in self.options],
        }

    @classmethod
    def from_slot(cls, slot: dict[str, Any] | None) -> Clarification | None:
        """The clarification in `slot`; None for anything else (another kind, a broken value)."""
        if not slot or slot.get("kind") != CLARIFY:
            return None
        try:
            options = tuple(Option(str(o["label"]), str(o["value"])) for o in slot["options"])
        except (KeyError, TypeError):
            return None
        lang: Lang = "en" if slot.get("lang") == "en" else "sv"
        return cls(lang, str(slot.get("question", "")), options) if options else None


@dataclass(frozen=True, slots=True)
class Rating:
    entry_id: str
    up: bool
    lang: Lang


def rating_value(entry_id: str, *, up: bool, lang: Lang) -> str:
    """The button value that rates the answer `entry_id`: `rate:up:<entry id>:<lang>`."""
    return f"{RATE_PREFIX}{'up' if up else 'down'}:{entry_id}:{lang}"


def parse_rating(value: str) -> Rating | None:
    """The rating a button value carries (`rate:up|down:<entry id>[:sv|en]`), else None."""
    if not value.startswith(RATE_PREFIX):
        return None
    vote, _, rest = value[len(RATE_PREFIX) :].partition(":")
    entry_id, _, lang = rest.partition(":")
    if vote not in ("up", "down") or not entry_id:
        return None
    return Rating(entry_id, vote == "up", "en" if lang == "en" else "sv")


class Service:
    def __init__(
        self,
        *,
        engine: Engine,
        commands: Sequence[CommandHandler] = (),
        guard: Guard | None = None,
        journal: Journal | None = None,
        metrics: Metrics | None = None,
        state: StateStore | None = None,
    ) -> None:
        """`state` defaults to a `MemoryStateStore` (this process only)."""
        self._engine = engine
        self._commands = tuple(commands)
        self._guard = guard
        self._journal = journal
        self._metrics = metrics
        self._state: StateStore = MemoryStateStore() if state is None else state

    @property
    def state(self) -> StateStore:
        return self._state

    @property
    def engine(self) -> Engine:
        return self._engine

    def replace_engine(self, engine: Engine) -> None:
        """Swap in an engine built from a freshly loaded knowledge base."""
        self._engine = engine

    async def handle(self, message: Message) -> Reply:
        token = request_id.set(request_id.get() or new_request_id())
        started = time.perf_counter()
        keys = (
            key_of(message.platform, message.user_id, message.conversation_id),
            profile_key(message.platform, message.user_id),
        )
        try:
            async with self._state.turn(keys):
                reply = await self._handle(message)
        finally:
            request_id.reset(token)
        if self._metrics is not None:
            outcome = reply.kind if reply.kind in _REFUSALS else str(reply.status)
            self._metrics.question(outcome, time.perf_counter() - started)
        return reply

    async def _handle(self, message: Message) -> Reply:
        if self._guard is not None:
            refusal = await self._guard.check(message)
            if refusal is not None:
                log.info("message refused: %s", refusal.kind)
                return refusal
        rating = parse_rating(message.choice or "")
        if rating is not None:
            return await self._rate(rating)
        for command in self._commands:
            handled = await command.try_handle(message)
            if handled is not None:
                return handled
        reply = await self._answer(message)
        # A pending question of a command (a reminder not yet confirmed) that this message
        # left: say so before the answer, so nobody believes it was saved.
        notes = [
            note for command in self._commands
            if (take := getattr(command, "take_note", None)) is not None
            and (note := take(message))
        ]
        if notes:
            reply = replace(reply, paragraphs=(*notes, *reply.paragraphs))
        return reply

    async def _answer(self, message: Message) -> Reply:
        key = key_of(message.platform, message.user_id, message.conversation_id)
        opened = Clarification.from_slot(await self._state.get(key, AWAITING))
        if opened is not None:
            option = self._engine.pick_option(opened.options, message.choice or message.text)
            await self._state.delete(key, AWAITING)
            if option is not None:
                chosen = self._engine.answer_option(option.value, opened.lang)
                return await self._keep(message, chosen)
            await self._note(opened.question, "abandoned", opened.lang)
        if message.choice is not None:
            return await self._keep(message, self._engine.answer_option(message.choice, None))
        users = profile_key(message.platform, message.user_id)
        reply = self._engine.answer(
            message.text,
            context=await self._state.get(key, CONTEXT),
            profile=await self._state.get(users, PROFILE),
        )
        if reply.status is Status.NO_MATCH:
            await self._note(message.text, "no_match", reply.lang)
        if reply.status is Status.CLARIFY and reply.options:
            asked = Clarification(reply.lang, message.text, reply.options)
            await self._state.put(key, AWAITING, asked.to_slot(), AWAITING_TTL)
        return await self._keep(message, reply)

    async def _keep(self, message: Message, reply: Reply) -> Reply:
        """Store the engine's follow-up context and the user's profile that `reply` carries."""
        if reply.context is not None:
            key = key_of(message.platform, message.user_id, message.conversation_id)
            await self._state.put(key, CONTEXT, reply.context, CONTEXT_TTL)
        if reply.profile is not None:
            users = profile_key(message.platform, message.user_id)
            await self._state.put(users, PROFILE, reply.profile, PROFILE_TTL)
        return reply

    async def _rate(self, rating: Rating) -> Reply:
        if self._journal is not None:
            try:
                await self._journal.rate(rating.entry_id, up=rating.up)
            except Exception:
                log.exception("could not store a rating")
        return Reply(
            status=Status.ANSWER,
            lang=rating.lang,
            paragraphs=(WORDING[rating.lang].rating_thanks,),
            kind="rating",
        )

    async def _note(self, text: str, kind: str, lang: str) -> None:
        if self._journal is None:
            return
        try:
            await self._journal.unanswered(text, kind=kind, lang=lang)
        except Exception:
            log.exception("could not note an unanswered question")


_REFUSALS = frozenset({"rate_limited", "too_long", "patient_data"})
