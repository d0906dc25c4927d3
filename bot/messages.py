"""The platform-neutral message that adapters hand the core, and the reply they get back.

Adapters translate a Slack event, a Teams activity or a console line into one `Message`, call
`Service.handle`, and render the one `Reply` they get (Block Kit, Adaptive Card, plain text).
Nothing here knows of a platform: `address` is opaque JSON that only the adapter that made it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["sv", "en"]


class Status(StrEnum):
    """The three outcomes of a question. Greetings and help are answers of kind `help`."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    NO_MATCH = "no_match"


@dataclass(frozen=True, slots=True)
class Message:
    """One thing a user said or clicked.

    `conversation_id` keys the clarification state (a Slack channel+thread, a Teams conversation);
    `choice` carries the `Option.value` of a clicked button instead of typed text.
    `address` is where a later, proactive message (a reminder) can be delivered; opaque JSON.
    """

    text: str
    user_id: str
    conversation_id: str
    platform: str
    choice: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the user: a numbered line in the console, a button elsewhere."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a stated fact comes from, whose guidance it is, and when we last checked it."""

    title: str
    publisher: str
    scope: str
    reviewed: date
    url: str | None = None


@dataclass(frozen=True, slots=True)
class CourseFact:
    """A course as facts an adapter can lay out as fields; every value as the source writes it."""

    name: str
    provider: str | None
    format: str | None
    duration: str | None
    credits: str | None = None
    apply: str | None = None
    links: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that goes with a reply (a calendar export)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything the user should see, structured so that each adapter can lay it out.

    `paragraphs` is the answer in prose, already in the user's language; `question` is the
    clarifying question when `status` is CLARIFY. `entry_id` and `score` say which knowledge-base
    entry matched, for coordinators previewing edits; users never need them.
    `context` is the engine's follow-up context after this reply (the subject: role, course,
    entry, region ...) and `profile` what the user told about themselves; both JSON-serialisable
    dicts that the service keeps in the conversation state (`bot.state`) and hands back to
    `Engine.answer`; None leaves what is kept unchanged.
    """

    status: Status
    lang: Lang
    paragraphs: tuple[str, ...]
    question: str | None = None
    courses: tuple[CourseFact, ...] = ()
    options: tuple[Option, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    kind: str = "knowledge"
    entry_id: str | None = None
    score: float | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    context: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
