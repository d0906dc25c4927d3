"""Checks a message passes before anything else sees it: rate limit, length cap, patient data.

A refused message is answered with a short explanation and goes nowhere else: no command, no
matching, no log of its text. Button clicks (`Message.choice`) carry our own values and skip the
length and patient-data checks, but not the rate limit.
"""

from __future__ import annotations

import math

from bot.language import detect_language
from bot.messages import Lang, Message, Reply, Status
from bot.privacy import has_personal_number
from bot.ratelimit import Limiter
from bot.wording import WORDING

LANGUAGE_SAMPLE = 400  # characters used to guess the language of a refused message


class Guard:
    def __init__(self, *, limiter: Limiter | None = None, max_length: int = 2000) -> None:
        self._limiter = limiter
        self._max_length = max_length

    async def check(self, message: Message) -> Reply | None:
        """The refusal for `message`, or None when it may be processed."""
        user = f"{message.platform}:{message.user_id}"
        wait = None if self._limiter is None else await self._limiter.admit(user)
        if wait is not None:
            seconds = math.ceil(wait) or 1
            text = WORDING[_lang(message)].rate_limited.format(seconds=seconds)
            return _reply(_lang(message), text, "rate_limited")
        if message.choice is not None:
            return None
        if len(message.text) > self._max_length:
            lang = _lang(message)
            text = WORDING[lang].too_long.format(length=len(message.text), limit=self._max_length)
            return _reply(lang, text, "too_long")
        if has_personal_number(message.text):
            lang = _lang(message)
            return _reply(lang, WORDING[lang].patient_data, "patient_data")
        return None


def _lang(message: Message) -> Lang:
    return detect_language(message.text[:LANGUAGE_SAMPLE])


def _reply(lang: Lang, text: str, kind: str) -> Reply:
    return Reply(status=Status.ANSWER, lang=lang, paragraphs=(text,), kind=kind)
