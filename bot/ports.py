"""What the core needs from outside, as small protocols. Each adapter or store implements one."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.messages import Message, Reply


class MessageHandler(Protocol):
    """What every adapter needs of the core (`bot.service.Service`): one Message in, one Reply
    out. Adapters type their service against this, so a test can hand them a recording double."""

    async def handle(self, message: Message) -> Reply: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class Sender(Protocol):
    async def send(self, address: str, reply: Reply) -> None:
        """Deliver `reply` to the opaque `address` an adapter stored earlier.

        Raises `DeliveryError` when the platform refuses; `permanent` says retrying is pointless
        (user gone, bot removed); `retry_after` is the platform's Retry-After in seconds.
        """
        ...


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class CommandHandler(Protocol):
    async def try_handle(self, message: Message) -> Reply | None:
        """Handle `message` if it is this handler's command (a reminder request...), else None."""
        ...
