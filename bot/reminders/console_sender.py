"""The console's Sender: prints a delivered reminder as plain text (the address is unused)."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.messages import Reply
from bot.render_text import render_text


class ConsoleSender:
    """`last` is the reminder printed most recently: the console chat lets the user answer its
    options (snooze, skip) by number, as buttons do elsewhere."""

    def __init__(self, *, out: TextIO | None = None) -> None:
        self._out = out
        self.last: Reply | None = None

    async def send(self, address: str, reply: Reply) -> None:
        self.last = reply
        out = self._out or sys.stdout
        out.write("\n" + render_text(reply) + "\n")
        out.flush()
