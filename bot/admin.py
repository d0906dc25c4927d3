"""Coordinators' chat commands: `admin reload`, `admin report`, `admin stats` (also in Swedish).

Only the user ids configured in HANDLEDARBOT_ADMINS may use them ("platform:user_id" items,
comma-separated; `platform:*` allows everyone on that platform, for the console). Anyone else
gets a polite refusal, and the command does nothing. Messages not starting with the word
`admin` are not this handler's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.messages import Lang, Message, Reply, Status
from bot.text import normalize
from bot.wording import WORDING

log = logging.getLogger(__name__)

Action = Literal["reload", "report", "stats", "help"]

_WORDS: dict[tuple[str, ...], tuple[Action, Lang]] = {
    ("reload",): ("reload", "en"),
    ("ladda", "om"): ("reload", "sv"),
    ("uppdatera",): ("reload", "sv"),
    ("report",): ("report", "en"),
    ("rapport",): ("report", "sv"),
    ("stats",): ("stats", "en"),
    ("statistics",): ("stats", "en"),
    ("statistik",): ("stats", "sv"),
    ("help",): ("help", "en"),
    ("hjalp",): ("help", "sv"),
    (): ("help", "sv"),
}


@dataclass(frozen=True, slots=True)
class AdminCommand:
    action: Action
    lang: Lang


@dataclass(frozen=True, slots=True)
class Admins:
    """Who may use the admin commands: (platform, user id) pairs; user id `*` = anyone there."""

    members: frozenset[tuple[str, str]]

    @classmethod
    def parse(cls, spec: str) -> Admins:
        """ "slack:T1:U1, teams:29:abc, console:*" – the user id is all after the first colon."""
        members = set()
        for item in spec.split(","):
            platform, sep, user = item.strip().partition(":")
            if sep and platform and user:
                members.add((platform, user))
        return cls(frozenset(members))

    def allows(self, platform: str, user_id: str) -> bool:
        return (platform, user_id) in self.members or (platform, "*") in self.members


def parse_admin_command(text: str) -> AdminCommand | None:
    """The admin command `text` asks for; None when it does not start with the word `admin`.

    An unknown action after `admin` is a call for help, never an error.
    """
    tokens = normalize(text.lstrip("/!"))
    if not tokens or tokens[0] != "admin":
        return None
    rest = tuple(tokens[1:3])
    for length in (2, 1, 0):
        found = _WORDS.get(rest[:length])
        if found is not None and (length or not rest):
            return AdminCommand(*found)
    return AdminCommand("help", "sv")


Report = Callable[[Lang], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload says back: `problems` empty when the new knowledge base is in use."""

    version: str
    entries: int
    problems: tuple[str, ...] = ()


class AdminCommands:
    """A `CommandHandler`; each action is a function given at wiring time (None = unavailable)."""

    def __init__(
        self,
        *,
        admins: Admins,
        reload: Callable[[], Awaitable[ReloadOutcome]] | None = None,
        report: Report | None = None,
        stats: Report | None = None,
    ) -> None:
        self._admins = admins
        self._reload = reload
        self._report = report
        self._stats = stats

    def connect(
        self,
        *,
        reload: Callable[[], Awaitable[ReloadOutcome]] | None = None,
        report: Report | None = None,
        stats: Report | None = None,
    ) -> None:
        """Give the actions once they exist (the reloader needs the service this handler is in)."""
        self._reload = reload or self._reload
        self._report = report or self._report
        self._stats = stats or self._stats

    async def try_handle(self, message: Message) -> Reply | None:
        if message.choice is not None:
            return None
        command = parse_admin_command(message.text)
        if command is None:
            return None
        words = WORDING[command.lang]
        if not self._admins.allows(message.platform, message.user_id):
            log.info("admin command %s refused on %s", command.action, message.platform)
            return _reply(command.lang, words.admin_refused)
        log.info("admin command %s on %s", command.action, message.platform)
        if command.action == "reload" and self._reload is not None:
            return self._reloaded(command.lang, await self._reload())
        if command.action == "report" and self._report is not None:
            return _reply(command.lang, await self._report(command.lang))
        if command.action == "stats" and self._stats is not None:
            return _reply(command.lang, await self._stats(command.lang))
        return _reply(command.lang, words.admin_help)

    def _reloaded(self, lang: Lang, outcome: ReloadOutcome) -> Reply:
        words = WORDING[lang]
        if not outcome.problems:
            return _reply(
                lang, words.reload_ok.format(version=outcome.version, entries=outcome.entries)
            )
        lead = words.reload_failed.format(version=outcome.version)
        return _reply(lang, lead, "\n".join(f"• {p}" for p in outcome.problems))


def _reply(lang: Lang, *paragraphs: str) -> Reply:
    return Reply(status=Status.ANSWER, lang=lang, paragraphs=paragraphs, kind="admin")
