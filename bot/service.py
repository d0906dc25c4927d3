"""The one entry point of the core: a `Message` in, a `Reply` out, whatever the platform.

The service keeps the open clarifying question of each conversation, so that the next message
("2", a button value, or the option's words) answers it; reminder commands, admin commands and the
like are `CommandHandler`s asked before the knowledge base.

In order, for each message: the `guard` may refuse it (rate limit, length cap, patient data: the
text then goes nowhere else); a rating click (`rate:up:<entry id>`) is recorded; the commands are
asked; then the knowledge base answers. A no-match, and a clarifying question the user left for
another question, are noted in the `journal` (question text only). Every message gets a request
id for the logs, and its outcome and time go to `metrics`.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.engine import Engine
from bot.logs import new_request_id, request_id
from bot.messages import Lang, Message, Reply, Status
from bot.metrics import Metrics
from bot.ports import CommandHandler
from bot.safety import Guard
from bot.unanswered import Journal
from bot.wording import WORDING

MAX_OPEN_CLARIFICATIONS = 10_000
RATE_PREFIX = "rate:"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Open:
    reply: Reply
    question: str


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
    ) -> None:
        self._engine = engine
        self._commands = tuple(commands)
        self._guard = guard
        self._journal = journal
        self._metrics = metrics
        self._open: OrderedDict[str, _Open] = OrderedDict()

    @property
    def engine(self) -> Engine:
        return self._engine

    def replace_engine(self, engine: Engine) -> None:
        """Swap in an engine built from a freshly loaded knowledge base."""
        self._engine = engine

    async def handle(self, message: Message) -> Reply:
        token = request_id.set(request_id.get() or new_request_id())
        started = time.perf_counter()
        try:
            reply = await self._handle(message)
        finally:
            request_id.reset(token)
        if self._metrics is not None:
            outcome = reply.kind if reply.kind in _REFUSALS else str(reply.status)
            self._metrics.question(outcome, time.perf_counter() - started)
        return reply

    async def _handle(self, message: Message) -> Reply:
        if self._guard is not None:
            refusal = self._guard.check(message)
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
        return await self._answer(message)

    async def _answer(self, message: Message) -> Reply:
        opened = self._open.pop(message.conversation_id, None)
        if opened is not None:
            typed = message.choice or message.text
            option = self._engine.pick_option(opened.reply.options, typed)
            if option is not None:
                return self._engine.answer_option(option.value, opened.reply.lang)
            await self._note(opened.question, "abandoned", opened.reply.lang)
        if message.choice is not None:
            return self._engine.answer_option(message.choice, None)
        reply = self._engine.answer(message.text)
        if reply.status is Status.NO_MATCH:
            await self._note(message.text, "no_match", reply.lang)
        self._remember(message.conversation_id, reply, message.text)
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

    def _remember(self, conversation_id: str, reply: Reply, question: str) -> None:
        if reply.status is Status.CLARIFY and reply.options:
            self._open[conversation_id] = _Open(reply, question)
            while len(self._open) > MAX_OPEN_CLARIFICATIONS:
                self._open.popitem(last=False)


_REFUSALS = frozenset({"rate_limited", "too_long", "patient_data"})
