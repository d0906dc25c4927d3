"""The web chat over real HTTP: the page's routes mounted on an aiohttp app served on 127.0.0.1:0,
answering through the real Service and knowledge base."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from icalendar import Calendar

from adapters import web as web_chat
from bot.app import build_service
from bot.messages import Message, Reply, Status
from bot.ports import DeliveryError
from bot.reminders.clock import FakeClock
from bot.reminders.commands import ReminderCommands
from bot.reminders.scheduler import Scheduler
from bot.reminders.store_sqlite import open_sqlite_store
from bot.settings import Settings, load_settings
from tests.reminder_worker import KNOWLEDGE

SKOLVERKET = "Hur lång är Skolverkets handledarutbildning?"
AMBIGUOUS = "Hur lång är handledarutbildningen?"
OUT_OF_SCOPE = "Vad kostar en glass i Paris?"
STATIC = Path(web_chat.__file__).resolve().parent / "web_static"


@dataclass
class Spy:
    """Delegates to the real Service and records the Messages the adapter made."""

    inner: Any
    seen: list[Message] = field(default_factory=list)

    async def handle(self, message: Message) -> Reply:
        self.seen.append(message)
        reply: Reply = await self.inner.handle(message)
        return reply


@dataclass
class Server:
    url: str
    http: ClientSession
    spy: Spy
    app: web.Application

    async def post(self, body: Any, **kwargs: Any) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        async with self.http.post(self.url + "/api/chat", data=data, headers=headers) as r:
            assert r.content_type == "application/json", await r.text()
            return r.status, await r.json()

    async def ask(self, text: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {**({"text": text} if text is not None else {}), **fields}
        status, reply = await self.post(body)
        assert status == 200, reply
        assert isinstance(reply, dict)
        return reply

    async def inbox(self, session: str | None) -> list[dict[str, Any]]:
        async with self.http.post(self.url + "/api/inbox", json={"session": session}) as r:
            assert r.status == 200
            replies: list[dict[str, Any]] = (await r.json())["replies"]
            return replies

    async def get(self, path: str) -> tuple[int, str, str, dict[str, str]]:
        async with self.http.get(self.url + path) as r:
            return r.status, r.content_type, await r.text(), dict(r.headers)


Start = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def _start(*, commands: tuple[Any, ...] = (), **overrides: Any) -> Server:
        settings = load_settings(env_file=None).model_copy(update=overrides)
        spy = Spy(build_service(settings, commands=commands))
        app = web.Application()
        web_chat.mount(app, settings=settings, service=spy)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        http = ClientSession()
        cleanups.extend([runner.cleanup, http.close])
        return Server(f"http://127.0.0.1:{runner.addresses[0][1]}", http, spy, app)

    yield _start
    for cleanup in reversed(cleanups):
        await cleanup()


def shown(reply: dict[str, Any]) -> str:
    """Everything of a reply the page displays, as one string."""
    return json.dumps(
        [reply["paragraphs"], reply["question"], reply["courses"], reply["options"]],
        ensure_ascii=False,
    )


async def test_question_gets_the_answer_with_course_facts_and_source(start: Start) -> None:
    server = await start()
    reply = await server.ask(SKOLVERKET)
    assert reply["status"] == "answer" and reply["lang"] == "sv"
    assert "5–6 timmar" in shown(reply)
    course = reply["courses"][0]
    assert {"label": "Omfattning", "value": "Ca 5–6 timmar"} in course["facts"]
    assert course["links"] and course["links"][0].startswith("https://")
    source = reply["sources"][0]
    assert source["publisher"] == "Region Stockholm" and source["scope"] == "Region Stockholm"
    assert date.fromisoformat(source["reviewed"]) and source["url"].startswith("https://")
    assert source["source_date"] == "sidan senast granskad 18 december 2023"
    assert reply["labels"] == {
        "source": "Källa",
        "sources": "Källor",
        "scope": "Gäller",
        "source_date": "källans datum",
        "reviewed": "svaret kontrollerat mot källan",
        "link": "Länk",
    }
    assert "entry_id" not in reply and "score" not in reply
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", reply["session"])


async def test_english_question_is_answered_in_english(start: Start) -> None:
    server = await start()
    reply = await server.ask("How often should ST supervision take place?")
    assert reply["status"] == "answer" and reply["lang"] == "en"
    assert reply["labels"]["source"] == "Source" and reply["labels"]["scope"] == "Applies to"
    assert reply["sources"][0]["publisher"] == "Region Örebro län"


async def test_clarify_then_choice_answers_the_chosen_course(start: Start) -> None:
    server = await start()
    first = await server.ask(AMBIGUOUS)
    assert first["status"] == "clarify" and first["question"]
    chosen = next(o for o in first["options"] if "Skolverket" in o["label"])
    second = await server.ask(
        choice=chosen["value"], text=chosen["label"], session=first["session"]
    )
    assert second["status"] == "answer"
    assert "5–6 timmar" in shown(second)
    assert server.spy.seen[-1].choice == chosen["value"]


async def test_a_typed_number_answers_only_the_clarifying_question_of_its_own_session(
    start: Start,
) -> None:
    server = await start()
    first = await server.ask(AMBIGUOUS)
    labels = [o["label"] for o in first["options"]]
    number = str(1 + next(i for i, label in enumerate(labels) if "Skolverket" in label))
    stranger = await server.ask(number)  # no session: a new conversation has nothing open
    assert "5–6 timmar" not in shown(stranger)
    mine = await server.ask(number, session=first["session"])
    assert mine["status"] == "answer" and "5–6 timmar" in shown(mine)


async def test_no_match_says_whom_to_ask(start: Start) -> None:
    server = await start()
    reply = await server.ask(OUT_OF_SCOPE)
    assert reply["status"] == "no_match"
    assert any(p.startswith("Fråga gärna") for p in reply["paragraphs"]), reply["paragraphs"]
    assert reply["courses"] == [] and reply["options"] == []


async def test_coordinator_mode_shows_the_matched_entry_and_score(start: Start) -> None:
    server = await start(web_coordinator=True)
    reply = await server.ask(SKOLVERKET)
    assert reply["entry_id"] == "course-skolverket"
    assert isinstance(reply["score"], float) and reply["score"] > 0
    miss = await server.ask(OUT_OF_SCOPE)
    assert miss["entry_id"] is None and miss["score"] is None
    status, _, _, _ = await server.get("/")
    assert status == 200
    async with server.http.get(server.url + "/api/welcome") as r:
        assert (await r.json())["coordinator"] is True


async def test_local_mode_user_is_local_and_a_public_server_keys_users_by_session(
    start: Start,
) -> None:
    local = await start()
    reply = await local.ask(SKOLVERKET)
    message = local.spy.seen[-1]
    assert message.platform == "web" and message.user_id == "local"
    assert message.conversation_id == f"web:{reply['session']}"
    public = await start(host="0.0.0.0")
    reply = await public.ask(SKOLVERKET)
    assert public.spy.seen[-1].user_id == f"web:{reply['session']}"
    again = await public.ask("Hur ofta ska ST-handledning ske?", session=reply["session"])
    assert again["session"] == reply["session"]
    assert public.spy.seen[-1].user_id == public.spy.seen[-2].user_id


async def test_reminders_work_for_the_web_user_and_export_a_calendar(
    start: Start, tmp_path: Path
) -> None:
    store = await open_sqlite_store(tmp_path / "r.sqlite3")
    try:
        clock = FakeClock(datetime(2025, 8, 20, 10, 0, tzinfo=UTC))
        commands = ReminderCommands(store=store, clock=clock, knowledge=KNOWLEDGE)
        server = await start(commands=(commands,))
        draft = await server.ask("påminn mig varje måndag kl 9 om handledning med Anna")
        assert draft["status"] == "clarify" and [o["label"] for o in draft["options"]] == [
            "Ja, spara",
            "Nej",
        ]
        session = draft["session"]
        saved = await server.ask(choice=draft["options"][0]["value"], session=session)
        assert "Sparat" in saved["paragraphs"][0]
        listing = await server.ask("mina påminnelser", session=session)
        assert "Handledning med Anna" in shown(listing)
        export = await server.ask("exportera kalender", session=session)
        [attachment] = export["attachments"]
        assert attachment["filename"] == "handledning.ics"
        assert attachment["content_type"] == "text/calendar"
        calendar = Calendar.from_ical(base64.b64decode(attachment["data"]))
        assert calendar.walk("VEVENT")
    finally:
        await store.close()


async def test_a_due_reminder_waits_for_its_own_user_and_its_buttons_work(
    start: Start, tmp_path: Path
) -> None:
    store = await open_sqlite_store(tmp_path / "r.sqlite3")
    try:
        clock = FakeClock(datetime(2025, 8, 20, 10, 0, tzinfo=UTC))
        commands = ReminderCommands(store=store, clock=clock, knowledge=KNOWLEDGE)
        server = await start(commands=(commands,), host="0.0.0.0")
        scheduler = Scheduler(
            store=store,
            senders={"web": server.app[web_chat.WEB_SENDER]},
            clock=clock,
            knowledge=KNOWLEDGE,
        )
        draft = await server.ask("påminn mig varje måndag kl 9 om handledning med Anna")
        mine = draft["session"]
        await server.ask(choice=draft["options"][0]["value"], session=mine)
        other = (await server.ask("Hur ofta ska ST-handledning ske?"))["session"]
        assert await server.inbox(mine) == []
        clock.advance(timedelta(days=6))  # past Monday 25 August 09:00
        assert await scheduler.run_once() == 1
        assert await server.inbox(other) == [] and await server.inbox(None) == []
        [reminder] = await server.inbox(mine)
        assert reminder["kind"] == "reminder" and "Anna" in shown(reminder)
        assert await server.inbox(mine) == []  # fetched once
        snooze = reminder["options"][0]["value"]
        snoozed = await server.ask(
            choice=snooze, text=reminder["options"][0]["label"], session=mine
        )
        assert snoozed["paragraphs"][0].startswith("OK, jag påminner dig igen")
        clock.advance(timedelta(hours=2))
        assert await scheduler.run_once() == 1
        [again] = await server.inbox(mine)
        assert again["kind"] == "reminder"
    finally:
        await store.close()


async def test_the_inbox_refuses_an_address_that_is_not_the_web_pages(start: Start) -> None:
    server = await start()
    inbox = server.app[web_chat.WEB_SENDER]
    for address in ("", "{}", '{"user": 7}', '{"reference": {}}'):
        with pytest.raises(DeliveryError) as raised:
            await inbox.send(address, Reply(Status.ANSWER, "sv", ("hej",)))
        assert raised.value.permanent


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "JSON"),
        (b"\xff\xfe", 400, "JSON"),
        (b"[" * 5000 + b"]" * 5000, 400, "JSON"),
        (b'["text"]', 400, "JSON"),
        (b'{"text": 42}', 400, '"text"'),
        (b'{"text": "hej", "choice": ["a"]}', 400, '"choice"'),
        (b'{"text": "hej", "session": 7}', 400, '"session"'),
        (b'{"text": "   "}', 400, "Skriv en fråga"),
        (json.dumps({"text": "a" * 40_000}).encode(), 400, "för lång"),
        (json.dumps({"text": "a" * 100_000}).encode(), 413, "För stor"),
    ],
)
async def test_bad_input_gets_a_clean_error_and_the_server_stays_up(
    start: Start, body: bytes, status: int, says: str
) -> None:
    server = await start()
    got, reply = await server.post(body)
    assert got == status
    assert says in reply["error"]
    assert "5–6 timmar" in shown(await server.ask(SKOLVERKET))


async def test_a_chunked_body_over_the_limit_is_refused(start: Start) -> None:
    server = await start()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    headers = {"Content-Type": "application/json"}
    async with server.http.post(server.url + "/api/chat", data=chunks(), headers=headers) as r:
        assert r.status == 413
        assert "För stor" in (await r.json())["error"]


async def test_wrong_content_type_is_refused(start: Start) -> None:
    server = await start()
    status, reply = await server.post(b'{"text": "hej"}', headers={"Content-Type": "text/plain"})
    assert status == 415 and "JSON" in reply["error"]


async def test_page_and_static_files_are_served_with_no_external_urls(start: Start) -> None:
    server = await start()
    status, content_type, html, headers = await server.get("/")
    assert status == 200 and content_type == "text/html"
    assert 'aria-live="polite"' in html and '<label for="question"' in html
    assert 'src="static/chat.js"' in html and 'href="static/chat.css"' in html
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    texts = [html]
    for name, expected in (("chat.css", "text/css"), ("chat.js", "text/javascript")):
        status, content_type, text, _ = await server.get(f"/static/{name}")
        assert status == 200 and content_type == expected
        texts.append(text)
    for text in texts:
        assert not re.search(r"(?i)https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text)


async def test_static_serves_only_the_page_files(start: Start) -> None:
    server = await start()
    for path in ("/static/nope.js", "/static/..%2Fweb.py", "/static/%2e%2e%2fweb.py"):
        status, _, text, _ = await server.get(path)
        assert status == 404, path
        assert "import" not in text


def test_page_script_never_parses_text_as_html() -> None:
    script = (STATIC / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


@pytest.mark.parametrize(
    ("overrides", "on"),
    [
        ({}, True),
        ({"host": "localhost"}, True),
        ({"host": "0.0.0.0"}, False),
        ({"host": "0.0.0.0", "web_enabled": True}, True),
        ({"web_enabled": False}, False),
    ],
)
def test_enabled_by_default_only_on_a_local_host(
    settings: Settings, overrides: dict[str, Any], on: bool
) -> None:
    assert web_chat.enabled(settings.model_copy(update=overrides)) is on
