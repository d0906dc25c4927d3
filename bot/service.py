"""The one entry point of the core: a `Message` in, a `Reply` out, whatever the platform.

The service keeps the open clarifying question of each conversation, so that the next message
("2", a button value, or the option's words) answers it; reminder commands and the like are
`CommandHandler`s asked before the knowledge base.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from bot.matching import Engine
from bot.messages import Message, Reply, Status
from bot.ports import CommandHandler

MAX_OPEN_CLARIFICATIONS = 10_000


class Service:
    def __init__(self, *, engine: Engine, commands: Sequence[CommandHandler] = ()) -> None:
        self._engine = engine
        self._commands = tuple(commands)
        self._open: OrderedDict[str, Reply] = OrderedDict()

    @property
    def engine(self) -> Engine:
        return self._engine

    def replace_engine(self, engine: Engine) -> None:
        """Swap in an engine built from a freshly loaded knowledge base."""
        self._engine = engine

    async def handle(self, message: Message) -> Reply:
        for command in self._commands:
            handled = await command.try_handle(message)
            if handled is not None:
                return handled
        open_reply = self._open.get(message.conversation_id)
        if open_reply is not None:
            option = self._engine.pick_option(open_reply.options, message.choice or message.text)
            if option is not None:
                del self._open[message.conversation_id]
                return self._engine.answer_option(option.value, open_reply.lang)
        if message.choice is not None:
            return self._engine.answer_option(message.choice, None)
        reply = self._engine.answer(message.text)
        self._remember(message.conversation_id, reply)
        return reply

    def _remember(self, conversation_id: str, reply: Reply) -> None:
        self._open.pop(conversation_id, None)
        if reply.status is Status.CLARIFY and reply.options:
            self._open[conversation_id] = reply
            while len(self._open) > MAX_OPEN_CLARIFICATIONS:
                self._open.popitem(last=False)
