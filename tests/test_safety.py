"""Safety in production: patient data, rate limit, length cap, escaping, start-up refusal, logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.render_cards import render_card
from adapters.render_slack import render_reply
from bot import logs
from bot.admin import AdminCommands, Admins
from bot.answering.engine import Engine
from bot.messages import Message, Reply, Status
from bot.privacy import has_personal_number, mask
from bot.ratelimit import RateLimiter
from bot.render_text import render_text
from bot.report import format_report
from bot.safety import Guard
from bot.service import Service
from bot.unanswered import Rating, Unanswered
from tests.test_cli import handledarbot


class Recorder:
    """A command handler and journal that remember everything they were given."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.noted: list[str] = []

    async def try_handle(self, message: Message) -> Reply | None:
        self.seen.append(message.text)
        return None

    async def unanswered(self, text: str, *, kind: str, lang: str) -> None:
        self.noted.append(text)

    async def rate(self, entry_id: str, *, up: bool) -> None:
        self.noted.append(entry_id)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def message(text: str, user: str = "T1:U-ANNA", choice: str | None = None) -> Message:
    return Message(text=text, user_id=user, conversation_id=user, platform="slack", choice=choice)


def guarded(engine: Engine, recorder: Recorder, limiter: RateLimiter | None = None) -> Service:
    guard = Guard(limiter=limiter, max_length=2000)
    return Service(engine=engine, commands=[recorder], guard=guard, journal=recorder)


@pytest.mark.parametrize(
    "text",
    [
        "Min patient 19121212-1212 undrar vad handledning är",
        "pnr 121212-1212, kan hen få handledning?",
        "is 201212121212 eligible for ST?",
        "samordningsnummer 701263-2391 vilken kurs",
        "121212+1212 vilken kurs?",
    ],
)
async def test_a_personal_number_gets_a_reminder_and_goes_nowhere(
    engine: Engine, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    reply = await guarded(engine, recorder).handle(message(text))
    assert reply.kind == "patient_data"
    assert "patient" in render_text(reply).lower()
    assert recorder.seen == [] and recorder.noted == []
    digits = [
        token for token in text.replace(",", " ").split() if sum(c.isdigit() for c in token) >= 10
    ]
    assert all(d not in caplog.text for d in digits)


@pytest.mark.parametrize(
    "text",
    [
        "Hur lång är kursen 2024-04-22?",
        "ring 08-123 456 78",
        "kursen 11 mars – 12 mars 2024",
        "1,5 tim eller 5–6 timmar",
        "var tredje månad 2025",
    ],
)
def test_dates_durations_and_phone_numbers_are_not_personal_numbers(text: str) -> None:
    assert not has_personal_number(text)


def test_mask_leaves_ordinary_numbers() -> None:
    assert mask("kurs 2024-04-22, 5–6 timmar, 7,5 hp") == "kurs 2024-04-22, 5–6 timmar, 7,5 hp"
    assert mask("+44 20 7946 0958 och 0046 70 123 45 67") == "[telefon] och [telefon]"


async def test_rate_limit_per_user_with_a_friendly_message(engine: Engine) -> None:
    ticks = Ticks()
    recorder = Recorder()
    service = guarded(engine, recorder, RateLimiter(limit=3, window=60, clock=ticks))
    for _ in range(3):
        assert (await service.handle(message("hej"))).kind == "help"
    refused = await service.handle(message("hej"))
    assert refused.kind == "rate_limited"
    assert "Vänta en liten stund (60 s)" in render_text(refused)
    assert (await service.handle(message("hej", user="T1:U-ERIK"))).kind == "help"
    ticks.now += 30
    assert (await service.handle(message("hej"))).kind == "rate_limited"
    ticks.now += 31
    assert (await service.handle(message("hej"))).kind == "help"
    assert recorder.seen == ["hej"] * 5


async def test_a_message_over_the_length_cap_is_not_processed(engine: Engine) -> None:
    recorder = Recorder()
    service = guarded(engine, recorder)
    reply = await service.handle(message("Vad kostar kursen? " * 120))
    assert reply.kind == "too_long" and "2280 tecken; högst 2000" in render_text(reply)
    assert recorder.seen == [] and recorder.noted == []
    assert (await service.handle(message("x" * 2000))).kind != "too_long"


HOSTILE = "<!channel> @here <!here|here> [klicka](http://evil.example) <https://evil|Skolverket> <at>Anna</at>"


async def test_user_text_echoed_back_cannot_mention_or_disguise_links(engine: Engine) -> None:
    """The admin report echoes other users' questions: both renderers must neutralise them."""

    async def report(lang: str) -> str:
        return format_report(
            [Unanswered(HOSTILE, "no_match", "sv", None)],
            [Rating("x<!channel>", 1, 0)],  # type: ignore[arg-type]
            days=90,
        )

    admin = AdminCommands(admins=Admins.parse("slack:*"), report=report)
    reply = await Service(engine=engine, commands=[admin]).handle(message("admin rapport"))
    assert "<!channel>" in render_text(reply)  # the hostile text really is in the reply
    slack = json.dumps(render_reply(reply).blocks) + render_reply(reply).text
    for raw in ("<!channel>", "<!here", "<https://evil", "<at>"):
        assert raw not in slack
    assert "&lt;!channel&gt;" in slack
    # Markdown is rendered in TextBlocks and FactSets (the body); fallbackText is plain text.
    card = json.dumps(render_card(reply)["body"], ensure_ascii=False)
    assert "[klicka](http://evil.example)" not in card
    assert "\\\\[klicka\\\\](http://evil.example)" in card
    assert "<at>" not in card and "\\\\<at\\\\>" in card


async def test_a_no_match_reply_never_contains_the_question(engine: Engine) -> None:
    reply = await Service(engine=engine).handle(message(HOSTILE + " vad kostar pizza"))
    assert reply.status is Status.NO_MATCH
    assert "evil" not in render_text(reply)


def test_serve_refuses_slack_over_http_without_signing_secret_and_never_prints_the_token(
    tmp_path: Path,
) -> None:
    token = "xoxb-1111-2222-SECRETVALUE"
    env_file = tmp_path / ".env"
    env_file.write_text(f"SLACK_BOT_TOKEN={token}\n", encoding="utf-8")
    result = handledarbot("serve", "--port", "0", tmp=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is missing" in result.stderr
    assert "SECRETVALUE" not in result.stdout + result.stderr


def test_serve_refuses_teams_without_app_id_unless_local_mode_is_asked(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MICROSOFT_APP_PASSWORD=pw-SECRETVALUE\n", encoding="utf-8")
    result = handledarbot("serve", "--port", "0", tmp=tmp_path)
    assert result.returncode == 2 and "MICROSOFT_APP_ID is missing" in result.stderr
    assert "SECRETVALUE" not in result.stderr


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


async def test_json_logs_carry_the_request_id_and_never_a_secret(
    engine: Engine, restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure(format="json", level="INFO", secrets=["xoxb-secret-token-123"])

    class Leaky:
        async def try_handle(self, message: Message) -> Reply | None:
            logging.getLogger("handledarbot.test").info("calling with xoxb-secret-token-123")
            return None

    guard = Guard(limiter=RateLimiter(limit=1, window=60))
    service = Service(engine=engine, commands=[Leaky()], guard=guard)
    await service.handle(message("hej"))
    await service.handle(message("hej"))  # refused: logged with its own request id
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    leak = next(r for r in records if r["logger"] == "handledarbot.test")
    assert leak["message"] == "calling with ***"
    refused = next(r for r in records if r["message"] == "message refused: rate_limited")
    assert (
        leak["request_id"] and refused["request_id"] and leak["request_id"] != refused["request_id"]
    )
    assert "xoxb-secret" not in stream.getvalue()


def test_text_logs_keep_one_record_on_one_line(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newline, an escape sequence or a bidi override in logged text cannot forge a line."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure(format="text", level="INFO")
    forged = "hej\n2026-11-30 12:00:00,000 INFO handledarbot.admin [-] admin granted\r\x1b[2J\u202eok"
    logger = logging.getLogger("handledarbot.test")
    logger.info("asked %s", forged)
    try:
        raise ValueError(forged)
    except ValueError:
        logger.exception("failed on %s", "x\ny")
    lines = stream.getvalue().splitlines()
    records = [line for line in lines if not line.startswith("  ")]
    assert len(records) == 2
    assert records[0].endswith(
        "asked hej\\n2026-11-30 12:00:00,000 INFO handledarbot.admin [-] admin granted"
        "\\r\\x1b[2J\\u202eok"
    )
    assert records[1].endswith("failed on x\\ny")
    traceback = [line for line in lines if line.startswith("  ")]
    assert traceback and any("ValueError: hej" in line for line in traceback)
    assert not any(line.startswith("2026-11-30 12:00:00,000") for line in lines)  # indented
    assert "\x1b" not in stream.getvalue() and "\u202e" not in stream.getvalue()
