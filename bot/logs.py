r"""Logging set-up: plain text or one JSON object per line, with the request id of each message.

`request_id` is a context variable the service sets for every message it handles; every record
logged while that message is handled carries it. `configure` also installs a filter that replaces
the configured secrets (tokens, passwords) with `***` wherever they would appear in a record.

In the text format one record is one line: control characters in the message (newlines, carriage
returns, escape sequences, Unicode line/paragraph separators and bidirectional overrides) are
written as `\n`, `\x1b`, `\u202e` ..., so text a user or a request sent cannot forge a log line
or hide part of one; a traceback follows on lines indented by two spaces, escaped the same way.
Request bodies are never logged (adapters log sizes and reasons, not payloads).
"""

from __future__ import annotations

import json
import logging
import unicodedata
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_HANDLER_NAME = "handledarbot"


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class RedactSecrets(logging.Filter):
    """Replaces each secret value in the formatted message (and its arguments) with ***."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid and rid != "-":
            entry["request_id"] = rid
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with every control, format or separator character (Unicode categories Cc, Cf,
    Zl, Zp) written as a Python-style escape: one printable line."""
    if text.isprintable():
        return text
    return "".join(
        _ESCAPES.get(ch)
        or (
            (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
            if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
            else ch
        )
        for ch in text
    )


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, one line per record; an exception's traceback indented below it."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        details = record.exc_text or (
            self.formatException(record.exc_info) if record.exc_info else ""
        )
        if record.stack_info:
            details = "\n".join(filter(None, (details, self.formatStack(record.stack_info))))
        if details:
            line += "".join("\n  " + escape_controls(part) for part in details.splitlines())
        return line


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure(
    *, format: str = "text", level: str = "INFO", secrets: Iterable[str | None] = ()
) -> None:
    """Send the project's logs to stderr as text or JSON lines; call once, at the entry point."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecrets(secrets))
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
