"""A core `Reply` as an Adaptive Card (schema 1.5) for Microsoft Teams, plus a plain-text fallback.

Same content as the Slack blocks: the answer as paragraphs, each course's facts as a FactSet with
labels from `bot.wording`, a link button per course link, clarifying options as `Action.Submit`
buttons whose data is `{"choice": <Option.value>}`, and the source with its scope and reviewed date
on a subtle line. Pure data in, JSON-ready dicts out: no SDK here.

Every string that reaches a markdown-rendering TextBlock goes through `neutralise`, so that text
a user typed (and the engine echoed) can form neither a disguised link `[text](url)`, nor
emphasis, nor an `<at>` mention. Links only ever come from the knowledge base, as
`Action.OpenUrl` buttons.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.messages import CourseFact, Reply, SourceRef, Status
from bot.service import rating_value
from bot.wording import WORDING, Wording, course_facts

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
MAX_TEXT = 4000  # per TextBlock
MAX_CARD_BYTES = 24_000  # a Teams message must stay under about 28 KB, envelope included
MAX_ACTIONS = 6  # Teams shows at most six actions in a card
CHOICE_INPUT_ID = "choice"  # more than six options: a choice list whose value arrives as `choice`

_MARKDOWN = re.compile(r"([\\`*_\[\]<>~])")
_URL = re.compile(r"^https?://[^\s<>\"]+$")

Json = dict[str, Any]


def neutralise(text: str) -> str:
    """Escape what could form a link, mention, emphasis or code span; drop control characters.

    `[`, `]`, `<`, `>` are enough to stop `[text](url)`, `<https://…>` and `<at>…</at>`; `*`, `_`,
    backticks and `~` stop faked emphasis. Dashes, dots and digits stay as they are ("2–3 dagar").
    """
    cleaned = text if text.isprintable() else _printable(text, keep="\n\t")
    return _MARKDOWN.sub(r"\\\1", cleaned[:MAX_TEXT])


def _printable(text: str, *, keep: str = "") -> str:
    """`text` without its unprintable characters (those in `keep` stay)."""
    return "".join(ch for ch in text if ch in keep or ch.isprintable())


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL, else None (never a javascript: or data: link)."""
    return url if url and _URL.match(url) else None


def render_card(reply: Reply, *, rating: bool = True) -> Json:
    """The Adaptive Card content for `reply` (the `content` of a card attachment).

    A knowledge-base answer ends with 👍/👎 `Action.Submit` buttons whose `choice` is
    `bot.service.rating_value(...)`, unless `rating` is False.
    """
    words = WORDING[reply.lang]
    body: list[Json] = [block for p in reply.paragraphs if p.strip() for block in _paragraph(p)]
    if reply.status is Status.CLARIFY and reply.question:
        body.append(_text(reply.question, weight="Bolder"))
    for course in reply.courses:
        body += _course(course, words)
    if reply.sources:
        body.append(_text(_sources_line(reply.sources, words), size="Small", subtle=True))
        body += _link_set([(f"{words.source}: {s.title}", s.url) for s in reply.sources])
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body or [_text(words.dont_know)],
        "fallbackText": render_fallback(reply),
        "msteams": {"width": "Full"},
    }
    if rating:
        body += _rating(reply, words)
    if len(reply.options) > MAX_ACTIONS:
        # Teams shows only the first six actions: every option goes into one choice list
        # (numbered, so typing the number works too) with a single submit button.
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": CHOICE_INPUT_ID,
                "style": "expanded",
                "isRequired": True,
                "choices": [
                    {"title": f"{n}. {_title(o.label)}", "value": o.value}
                    for n, o in enumerate(reply.options, start=1)
                ],
            }
        )
        card["actions"] = [{"type": "Action.Submit", "title": words.choose_button}]
    elif reply.options:
        card["actions"] = [
            {"type": "Action.Submit", "title": _title(o.label), "data": {"choice": o.value}}
            for o in reply.options
        ]
    return fit(card)


def card_size(card: Json) -> int:
    """Bytes of the card as JSON (UTF-8), as Teams counts them."""
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def fit(card: Json, limit: int = MAX_CARD_BYTES) -> Json:
    """`card` within `limit` bytes: the longest text is halved (ending in "…") until it fits.

    Texts are TextBlock texts, FactSet values and `fallbackText`; options, buttons and the source
    line are shortened last because they are short. If only structure is left, trailing body
    elements before the options and rating are dropped.
    """
    while card_size(card) > limit:
        texts = [(len(holder[key]), holder, key) for holder, key in _texts(card)]
        longest = max(texts, key=lambda item: item[0], default=None)
        if longest is None or longest[0] <= 40:
            body = card["body"]
            if len(body) <= 1:
                break
            body.pop(len(body) // 2)
            continue
        _, holder, key = longest
        text = holder[key]
        cut = len(text) // 2
        if text[cut - 1 : cut] == "\\":
            cut -= 1  # never split an escape from the character it escapes
        holder[key] = text[:cut].rstrip() + "…"
    return card


def _texts(card: Json) -> list[tuple[Json, str]]:
    found: list[tuple[Json, str]] = [(card, "fallbackText")] if card.get("fallbackText") else []
    for element in card.get("body", []):
        if element.get("type") == "TextBlock":
            found.append((element, "text"))
        elif element.get("type") == "FactSet":
            found += [(fact, "value") for fact in element["facts"]]
    return found


def link_card(text: str, url: str | None) -> Json:
    """A small card attachment: `text`, and a button opening `url` when there is one."""
    content: Json = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": [_text(text)],
    }
    if url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": _title(text), "url": url}]
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def rateable(reply: Reply) -> bool:
    """An answer from the knowledge base (not help, a command or a refusal) can be rated."""
    return reply.status is Status.ANSWER and reply.kind == "knowledge" and bool(reply.entry_id)


def render_attachment(reply: Reply) -> Json:
    """The card as a Bot Framework attachment dict."""
    return {"contentType": CARD_CONTENT_TYPE, "content": render_card(reply)}


def render_fallback(reply: Reply) -> str:
    """Plain text with the same content, for clients that cannot show the card."""
    words = WORDING[reply.lang]
    lines = [p for p in reply.paragraphs if p.strip()]
    if reply.question:
        lines.append(reply.question)
    lines += [f"{n}. {o.label}" for n, o in enumerate(reply.options, start=1)]
    for course in reply.courses:
        facts = "; ".join(f"{label}: {value}" for label, value in course_facts(course, words))
        lines.append(f"{course.name}" + (f" – {facts}" if facts else ""))
        lines += [link for link in course.links if safe_url(link)]
    if reply.sources:
        lines.append(_sources_line(reply.sources, words))
    return "\n".join(lines)[:MAX_TEXT]


def summary(reply: Reply) -> str:
    """A one-line preview for notifications (the activity's `summary`)."""
    first = next((p for p in (*reply.paragraphs, reply.question or "") if p.strip()), "")
    line = " ".join(first.split())
    return line if len(line) <= 120 else line[:119] + "…"


def _text(
    text: str, *, weight: str | None = None, size: str | None = None, subtle: bool = False
) -> Json:
    block: Json = {"type": "TextBlock", "text": neutralise(text), "wrap": True}
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if subtle:
        block["isSubtle"] = True
    return block


def _paragraph(text: str) -> list[Json]:
    """One TextBlock per line (markdown would join single newlines), lines set close together."""
    lines = [line for line in text.splitlines() if line.strip()]
    blocks = [_text(line) for line in lines]
    for block in blocks[1:]:
        block["spacing"] = "None"
    return blocks


def _title(label: str) -> str:
    """Button titles are not markdown; keep them short and printable."""
    clean = label if label.isprintable() else _printable(label)
    return clean if len(clean) <= 80 else clean[:79] + "…"


def _course(course: CourseFact, words: Wording) -> list[Json]:
    elements: list[Json] = [_text(course.name, weight="Bolder")]
    facts = course_facts(course, words)
    if facts:
        elements.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": neutralise(label), "value": neutralise(value)}
                    for label, value in facts
                ],
            }
        )
    elements += _link_set([(f"{words.link}: {course.name}", link) for link in course.links])
    return elements


def _rating(reply: Reply, words: Wording) -> list[Json]:
    """The prompt and its 👍/👎 buttons, together at the end of the body."""
    if not rateable(reply) or reply.entry_id is None:
        return []
    buttons = [
        {
            "type": "Action.Submit",
            "title": label,
            "data": {"choice": rating_value(reply.entry_id, up=up, lang=reply.lang)},
        }
        for up, label in ((True, words.rate_up), (False, words.rate_down))
    ]
    prompt = _text(words.rate_prompt, size="Small", subtle=True)
    return [prompt, {"type": "ActionSet", "actions": buttons}]


def _link_set(links: list[tuple[str, str | None]]) -> list[Json]:
    """An ActionSet of Action.OpenUrl buttons for the safe URLs among `links` (or nothing)."""
    actions = [
        {"type": "Action.OpenUrl", "title": _title(title), "url": url}
        for title, url in ((t, safe_url(u)) for t, u in links)
        if url
    ]
    return [{"type": "ActionSet", "actions": actions[:MAX_ACTIONS]}] if actions else []


def _sources_line(sources: tuple[SourceRef, ...], words: Wording) -> str:
    label = words.source if len(sources) == 1 else words.sources
    parts = [
        f"{s.title} ({s.publisher}"
        + (f", {words.source_date}: {s.source_date}" if s.source_date else "")
        + f") · {words.scope}: {s.scope} · {words.reviewed} {s.reviewed.isoformat()}"
        for s in sources
    ]
    return f"{label}: " + " | ".join(parts)
