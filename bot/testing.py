"""A transcript harness for tests and coordinators: talk to the core with no platform at all."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Message, Reply
from bot.render_text import render_text
from bot.service import Service


@dataclass
class Chat:
    """One user's conversation with the service; `say` returns the reply, `text` its rendering."""

    service: Service
    user: str = "tester"
    platform: str = "test"
    replies: list[Reply] = field(default_factory=list)

    async def say(self, text: str) -> Reply:
        return await self._send(
            Message(text=text, user_id=self.user, conversation_id=self.user, platform=self.platform)
        )

    async def click(self, value: str) -> Reply:
        return await self._send(
            Message(
                text="",
                user_id=self.user,
                conversation_id=self.user,
                platform=self.platform,
                choice=value,
            )
        )

    async def _send(self, message: Message) -> Reply:
        reply = await self.service.handle(message)
        self.replies.append(reply)
        return reply

    @property
    def text(self) -> str:
        return render_text(self.replies[-1])
