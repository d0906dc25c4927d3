"""The console chat: the embedded default, no account anywhere.

Reads lines from standard input (with a prompt when it is a terminal, plain lines from a pipe)
and prints each reply as text; the options of a clarifying question are picked by number. With
`jsonl`, each reply is instead one JSON object on its own line (`reply_json`: status, lang, text,
options, sources, and the paths of saved files), for scripts that hold a conversation.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TextIO

from bot.messages import Message, Reply
from bot.reminders.console_sender import ConsoleSender
from bot.render_text import render_text
from bot.service import Service
from bot.wording import WORDING

QUIT = frozenset({"quit", "exit", "avsluta", "hejdå", ":q"})
PROMPT = "> "


def to_message(text: str, *, user: str) -> Message:
    return Message(
        text=text,
        user_id=f"console:{user}",
        conversation_id=f"console:{user}",
        platform="console",
        address=f'{{"user": "{user}"}}',
    )


def reply_json(reply: Reply) -> dict[str, object]:
    """The JSON shape of a reply, as `handledarbot ask --json` and `chat --jsonl` print it:
    `{"status": "answer"|"clarify"|"no_match", "lang": "sv"|"en", "text": str (as the console
    prints it), "options": [{"label", "value"}], "sources": [{..., "reviewed": "YYYY-MM-DD"}]}`."""
    return {
        "status": str(reply.status),
        "lang": reply.lang,
        "text": render_text(reply),
        "options": [asdict(option) for option in reply.options],
        "sources": [{**asdict(s), "reviewed": s.reviewed.isoformat()} for s in reply.sources],
    }


def render(reply: Reply) -> str:
    return render_text(reply)


def save_attachments(reply: Reply, folder: Path) -> list[str]:
    """The console's way to hand over a file (the calendar export): write it next to the user."""
    return [WORDING[reply.lang].saved_file.format(path=path) for path in _save_files(reply, folder)]


def _save_files(reply: Reply, folder: Path) -> list[Path]:
    paths = []
    for attachment in reply.attachments:
        path = folder / Path(attachment.filename).name
        path.write_bytes(attachment.data)
        paths.append(path)
    return paths


async def chat(
    service: Service,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    user: str | None = None,
    folder: Path | None = None,
    delivered: ConsoleSender | None = None,
    jsonl: bool = False,
) -> None:
    """Chat until end of input or "avsluta". `delivered` is the sender that prints reminders:
    a number typed right after one picks its option (snooze, skip). `jsonl`: one JSON object per
    reply and line, no prompt or greeting."""
    interactive = stdin.isatty() and not jsonl
    folder = folder or Path.cwd()
    name = user or _user_name()
    if interactive:
        greeting = await service.handle(to_message("hjälp", user=name))
        print(render(greeting), file=stdout, flush=True)
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.strip()
        if text.lower() in QUIT:
            break
        if not text and not interactive:
            continue
        reply = await service.handle(_message(service, text, name, delivered))
        if jsonl:
            row = reply_json(reply)
            files = _save_files(reply, folder)
            saved = [WORDING[reply.lang].saved_file.format(path=path) for path in files]
            row["text"] = "\n\n".join([str(row["text"]), *saved])
            row["files"] = [str(path) for path in files]
            print(json.dumps(row, ensure_ascii=False), file=stdout, flush=True)
            continue
        print(render(reply), file=stdout, flush=True)
        for line in save_attachments(reply, folder):
            print(line, file=stdout, flush=True)
        print(file=stdout, flush=True)


def _message(service: Service, text: str, user: str, delivered: ConsoleSender | None) -> Message:
    reminder, message = (delivered.last if delivered else None), to_message(text, user=user)
    if delivered is None or reminder is None:
        return message
    delivered.last = None
    option = service.engine.pick_option(reminder.options, text)
    return replace(message, choice=option.value) if option is not None else message


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
