"""A core `Reply` as a Slack message: Block Kit blocks plus the plain `text` fallback.

Every string that reaches an mrkdwn field is escaped (`&`, `<`, `>`): replies can echo what the
user typed and carry knowledge-base text, and neither may ping a channel (`<!channel>`), mention
someone (`<@U…>`) or disguise a link (`<https://evil|click>`). Plain-text fields (button labels)
are not parsed by Slack and need no escaping, only Slack's length limits.

Clarifying options become buttons whose `value` is `Option.value`; their `action_id` starts with
`OPTION_ACTION_PREFIX` and the block's `block_id` carries the conversation id the adapter passed,
so a click lands in the same conversation. An option value longer than Slack's 2,000 characters
goes out as the option's number, which the service reads against the open question. Course link buttons (`LINK_ACTION_PREFIX`) only open
their URL, but Slack still sends the click to the app, which must acknowledge it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.messages import CourseFact, Reply, SourceRef, Status
from bot.service import rating_value
from bot.wording import WORDING, Wording, course_facts

Block = dict[str, Any]

OPTION_ACTION_PREFIX = "clarify_option_"
LINK_ACTION_PREFIX = "course_link_"
CLARIFY_BLOCK_PREFIX = "clarify:"
RATE_ACTION_PREFIX = "rate_"
RATE_BLOCK_ID = "rate"

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTONS_PER_ACTIONS = 5
MAX_BLOCK_ID = 255
MAX_FALLBACK_TEXT = 3000
MAX_BUTTON_VALUE = 2000  # Slack refuses the whole message (invalid_blocks) beyond this

_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What `chat.postMessage` needs besides the channel: blocks and the notification text."""

    blocks: list[Block]
    text: str


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_reply(
    reply: Reply, *, conversation_id: str | None = None, rating: bool = True
) -> SlackMessage:
    """Lay out `reply` as Block Kit; `conversation_id` is stored in the option buttons' block.

    A knowledge-base answer ends with thumbs up/down buttons (values from
    `bot.service.rating_value`) unless `rating` is False.
    """
    words = WORDING[reply.lang]
    head = [_section(p) for paragraph in reply.paragraphs for p in _chunks(escape(paragraph))]
    if reply.question:
        head.append(_section(f"*{escape(reply.question)}*"))
    courses = [block for course in reply.courses for block in _course_blocks(course, words)]
    options = _option_blocks(reply, conversation_id)
    sources = [_source_block(source, words) for source in reply.sources]
    if rating:
        sources += rating_blocks(reply)  # last, and the first thing dropped at the block limit
    blocks = _within_limit(head + courses, options, sources)
    return SlackMessage(blocks=blocks, text=fallback_text(reply))


def fallback_text(reply: Reply) -> str:
    """The plain text Slack shows in notifications and where blocks cannot be shown."""
    lines = list(reply.paragraphs)
    if reply.question:
        lines.append(reply.question)
    lines.extend(f"{n}. {option.label}" for n, option in enumerate(reply.options, start=1))
    text = "\n".join(lines).strip() or WORDING[reply.lang].dont_know
    return escape(text[:MAX_FALLBACK_TEXT])


def option_block_id(index: int, conversation_id: str | None) -> str:
    block_id = f"{CLARIFY_BLOCK_PREFIX}{index}:{conversation_id or ''}"
    return block_id if len(block_id) <= MAX_BLOCK_ID else f"{CLARIFY_BLOCK_PREFIX}{index}:"


def conversation_from_block_id(block_id: str) -> str | None:
    """The conversation id `render_reply` stored in an options block, if any."""
    if not block_id.startswith(CLARIFY_BLOCK_PREFIX):
        return None
    _, _, conversation_id = block_id[len(CLARIFY_BLOCK_PREFIX) :].partition(":")
    return conversation_id or None


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _chunks(escaped: str, size: int = MAX_SECTION_TEXT) -> list[str]:
    """Split already-escaped text into section-sized pieces without cutting an entity."""
    pieces: list[str] = []
    while len(escaped) > size:
        cut = size
        amp = escaped.rfind("&", cut - 5, cut)
        if amp != -1 and ";" not in escaped[amp:cut]:
            cut = amp
        pieces.append(escaped[:cut])
        escaped = escaped[cut:]
    if escaped.strip():
        pieces.append(escaped)
    return pieces


def _cut(escaped: str, limit: int) -> str:
    """At most `limit` characters of escaped mrkdwn, never ending inside an `&…;` entity or a
    `<…>` link or mention (an unclosed one is dropped whole)."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[:limit]
    amp = cut.rfind("&", max(0, limit - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    return cut


def _course_blocks(course: CourseFact, words: Wording) -> list[Block]:
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{label}*\n{escape(value)}", MAX_FIELD_TEXT)}
        for label, value in course_facts(course, words)
    ]
    section: Block = _section(f"*{_cut(escape(course.name), MAX_SECTION_TEXT - 2)}*")
    if fields:
        section["fields"] = fields
    links = [url for url in course.links if _SAFE_URL.match(url)]
    if len(links) == 1:
        section["accessory"] = _link_button(links[0], words.link, 0)
        return [section]
    blocks = [section]
    for start in range(0, len(links), MAX_BUTTONS_PER_ACTIONS):
        group = links[start : start + MAX_BUTTONS_PER_ACTIONS]
        buttons = [
            _link_button(url, f"{words.link} {start + n}", start + n - 1)
            for n, url in enumerate(group, start=1)
        ]
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _link_button(url: str, label: str, index: int) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:MAX_BUTTON_TEXT]},
        "url": url,
        "action_id": f"{LINK_ACTION_PREFIX}{index}",
    }


def _option_blocks(reply: Reply, conversation_id: str | None) -> list[Block]:
    blocks: list[Block] = []
    options = reply.options
    for start in range(0, len(options), MAX_BUTTONS_PER_ACTIONS):
        buttons = [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": _label(option.label), "emoji": True},
                "value": _button_value(option.value, start + n + 1),
                "action_id": f"{OPTION_ACTION_PREFIX}{start + n}",
            }
            for n, option in enumerate(options[start : start + MAX_BUTTONS_PER_ACTIONS])
        ]
        block_id = option_block_id(start // MAX_BUTTONS_PER_ACTIONS, conversation_id)
        blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})
    return blocks


def _button_value(value: str, number: int) -> str:
    """`value`, or the option's number (1-based) when Slack could not carry the value."""
    return value if len(value) <= MAX_BUTTON_VALUE else str(number)


def rateable(reply: Reply) -> bool:
    """An answer from the knowledge base (not help, a command or a refusal) can be rated."""
    return reply.status is Status.ANSWER and reply.kind == "knowledge" and bool(reply.entry_id)


def rating_blocks(reply: Reply) -> list[Block]:
    """ "Was this answer helpful?" with 👍/👎 buttons, for answers that can be rated."""
    if not rateable(reply) or reply.entry_id is None:
        return []
    words = WORDING[reply.lang]
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "value": rating_value(reply.entry_id, up=up, lang=reply.lang),
            "action_id": f"{RATE_ACTION_PREFIX}{'up' if up else 'down'}",
        }
        for up, label in ((True, words.rate_up), (False, words.rate_down))
    ]
    return [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(words.rate_prompt)}]},
        {"type": "actions", "block_id": RATE_BLOCK_ID, "elements": buttons},
    ]


def _label(label: str) -> str:
    label = label.strip() or "?"
    return label if len(label) <= MAX_BUTTON_TEXT else label[: MAX_BUTTON_TEXT - 1] + "…"


def _source_block(source: SourceRef, words: Wording) -> Block:
    """The source line; an over-long one shortens the title inside its link, never the link."""
    url = source.url.replace("&", "&amp;") if source.url and _SAFE_URL.match(source.url) else None

    def linked(title: str) -> str:
        return f"<{url}|{title}>" if url else title

    head = f"{words.source}: {escape(source.publisher)} – "
    dated = f" ({words.source_date}: {escape(source.source_date)})" if source.source_date else ""
    tail = (
        f"{dated} · {words.scope}: {escape(source.scope)} · {words.reviewed} "
        f"{source.reviewed.isoformat()}"
    )
    title = escape(source.title)
    text = head + linked(title) + tail
    if len(text) > MAX_SECTION_TEXT:
        room = MAX_SECTION_TEXT - len(head) - len(linked("")) - len(tail) - 1
        if room >= 20:
            text = head + linked(_cut(title, room) + "…") + tail
        else:  # publisher or scope alone fill the line: plain text, cut safely
            text = _cut(head + title + tail, MAX_SECTION_TEXT)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _within_limit(content: list[Block], options: list[Block], sources: list[Block]) -> list[Block]:
    """Keep Slack's 50-block limit: options first, then the answer, then as many sources as fit."""
    room = MAX_BLOCKS - len(options)
    content = content[:room]
    sources = sources[: max(0, room - len(content))]
    return content + options + sources
