"""Teams over real HTTP: Activities POSTed to /api/messages of a running server, replies and
proactive sends asserted at a local fake Bot Framework connector (tests/fakes/connector.py)."""

from __future__ import annotations

import ast
import json
import struct
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from adapters import render_cards, teams
from adapters.server import create_app
from bot.app import build_service
from bot.messages import CourseFact, Message, Option, Reply, SourceRef, Status
from bot.ports import DeliveryError
from bot.settings import Settings, load_settings
from tests.fakes.connector import FakeConnector, Posted

ROOT = Path(__file__).resolve().parent.parent
BOT_ID = "28:handledarbot-id"
QUESTION = "Vilken utbildning behöver en ST-handledare?"
AMBIGUOUS = "Hur lång är handledarutbildningen?"


def _real_service(settings: Settings) -> Any:
    return build_service(settings)  # the real knowledge base in knowledge/


@dataclass
class Spy:
    """Delegates to the real Service and records the Messages the adapter made."""

    inner: Any
    seen: list[Message] = field(default_factory=list)

    @property
    def engine(self) -> Any:
        return self.inner.engine  # for /healthz

    async def handle(self, message: Message) -> Reply:
        self.seen.append(message)
        reply: Reply = await self.inner.handle(message)
        return reply


@dataclass
class Server:
    url: str
    http: ClientSession
    fake: FakeConnector
    spy: Spy
    app: web.Application

    async def post(self, body: Any, **kwargs: Any) -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        async with self.http.post(self.url + "/api/messages", data=data, headers=headers) as r:
            await r.read()
            return r.status

    async def ask(self, activity: dict[str, Any]) -> Posted:
        before = len(self.fake.posted)
        assert await self.post(activity) in (200, 201)
        posted = await self.fake.wait_for(lambda p: len(p) > before)
        return posted[before]


def activity(fake: FakeConnector, text: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "id": f"act-{abs(hash((text, json.dumps(extra, sort_keys=True))))}",
        "channelId": "msteams",
        "serviceUrl": fake.url,
        "from": {"id": "29:user-1", "name": "Anna", "aadObjectId": "aad-anna"},
        "recipient": {"id": BOT_ID, "name": "Handledarbot"},
        "conversation": {"id": "a:personal-1", "conversationType": "personal", "tenantId": "t-1"},
        "channelData": {"tenant": {"id": "t-1"}},
        "locale": "sv-SE",
    }
    if text is not None:
        body["text"] = text
    body.update(extra)
    return body


def mention(conversation: str = "19:group@thread.v2") -> dict[str, Any]:
    """The parts of a group-chat activity that @-mentions the bot."""
    return {
        "conversation": {"id": conversation, "conversationType": "groupChat"},
        "entities": [
            {
                "type": "mention",
                "text": "<at>Handledarbot</at>",
                "mentioned": {"id": BOT_ID, "name": "Handledarbot"},
            }
        ],
    }


def card_text(posted: Posted) -> str:
    cards = posted.cards()
    assert cards, f"no Adaptive Card in {posted.body}"
    return json.dumps(cards, ensure_ascii=False)


def submits(posted: Posted) -> list[dict[str, Any]]:
    return [a for c in posted.cards() for a in c.get("actions", []) if a["type"] == "Action.Submit"]


Start = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def _start(**overrides: Any) -> Server:
        settings = load_settings(env_file=None).model_copy(
            update={"teams_enabled": True, **overrides}
        )
        spy = Spy(_real_service(settings))
        fake = await FakeConnector.start()
        cleanups.append(fake.close)
        app = create_app(settings=settings, service=spy)  # type: ignore[arg-type]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        http = ClientSession()
        cleanups.extend([runner.cleanup, http.close])
        port = runner.addresses[0][1]
        return Server(f"http://127.0.0.1:{port}", http, fake, spy, app)

    yield _start
    for cleanup in reversed(cleanups):
        await cleanup()


async def test_question_gets_adaptive_card_with_the_answer(start: Start) -> None:
    server = await start()
    posted = await server.ask(activity(server.fake, QUESTION))
    text = card_text(posted)
    assert "2-3 dagar" in text or "2–3 dagar" in text
    card = posted.cards()[0]
    assert card["version"] in ("1.4", "1.5")
    assert posted.reply_to_id == posted.body["replyToId"]
    assert posted.conversation_id == "a:personal-1"


async def test_card_submit_answers_the_clarifying_question(start: Start) -> None:
    server = await start()
    first = await server.ask(activity(server.fake, AMBIGUOUS))
    buttons = submits(first)
    assert buttons, f"expected clarifying buttons, got {card_text(first)}"
    click = activity(server.fake, None, value=buttons[0]["data"], id="click-1")
    second = await server.ask(click)
    assert server.spy.seen[-1].choice == buttons[0]["data"]["choice"]
    assert not submits(second)
    assert card_text(second) != card_text(first)


async def test_welcome_once_per_conversation(start: Start) -> None:
    server = await start()
    added = activity(
        server.fake,
        None,
        type="conversationUpdate",
        membersAdded=[{"id": BOT_ID}, {"id": "29:user-1"}],
    )
    assert await server.post(added) == 201
    assert await server.post({**added, "id": "again"}) == 201
    await server.fake.wait_for(lambda p: len(p) >= 1)
    follow_up = await server.ask(activity(server.fake, QUESTION))  # proves the greeting is done
    greetings = [p for p in server.fake.posted if p is not follow_up]
    assert len(greetings) == 1
    assert "Handledarbot" in card_text(greetings[0])


async def test_someone_else_joining_is_not_greeted(start: Start) -> None:
    server = await start()
    joined = activity(
        server.fake, None, type="conversationUpdate", membersAdded=[{"id": "29:user-2"}]
    )
    assert await server.post(joined) == 201
    await server.ask(activity(server.fake, QUESTION))
    assert len(server.fake.posted) == 1


async def test_group_chat_mention_is_stripped(start: Start) -> None:
    server = await start()
    posted = await server.ask(
        activity(server.fake, f"<at>Handledarbot</at> {QUESTION}", **mention())
    )
    seen = server.spy.seen[-1]
    assert seen.text == QUESTION
    assert seen.user_id == "aad-anna"
    assert seen.conversation_id == "19:group@thread.v2"
    assert seen.platform == "teams"
    address = json.loads(seen.address or "")
    assert address["tenant_id"] == "t-1"
    assert address["reference"]["serviceUrl"] == server.fake.url
    assert "2-3 dagar" in card_text(posted) or "2–3 dagar" in card_text(posted)


async def test_channel_mention_without_entity_is_stripped_by_name(start: Start) -> None:
    server = await start()
    text = f"<at>Handledarbot</at> {QUESTION} <at>Bo Ek</at>"
    await server.ask(activity(server.fake, text, conversation={"id": "19:ch;messageid=1"}))
    assert server.spy.seen[-1].text == f"{QUESTION} Bo Ek"


async def test_with_app_id_a_request_without_valid_token_is_refused(start: Start) -> None:
    server = await start(
        microsoft_app_id="00000000-0000-0000-0000-000000000001", microsoft_app_password="secret"
    )
    body = activity(server.fake, QUESTION)
    assert await server.post(body) == 401
    assert await server.post(body, headers={"Authorization": "Bearer not-a-jwt"}) == 401
    assert server.fake.posted == []
    assert server.spy.seen == []


async def test_malformed_token_with_authentication_off_is_401_not_500(start: Start) -> None:
    server = await start()
    body = activity(server.fake, QUESTION)
    assert await server.post(body, headers={"Authorization": "Bearer garbage"}) == 401


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 40_000,
        "🙂🙂 " + QUESTION + " 👍🏽",
        "מה שלומך? ما هذا؟",
        "<at>Handledarbot</at>",
    ],
    ids=["empty", "blank", "40kB", "emoji", "rtl", "mention-only"],
)
async def test_odd_text_gets_a_clean_card(start: Start, text: str) -> None:
    server = await start()
    extra = mention() if "<at>" in text else {}
    posted = await server.ask(activity(server.fake, text, **extra))
    assert posted.cards()[0]["body"], "an empty card"
    assert len(server.spy.seen[-1].text) <= teams.MAX_TEXT
    if "👍" in text:
        assert "dagar" in card_text(posted)
    await _still_up(server)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"text": "no type"}', 400),
        (b"", 400),
    ],
    ids=["invalid-json", "array", "no-type", "empty-body"],
)
async def test_bad_bodies_get_4xx(start: Start, raw: bytes, status: int) -> None:
    server = await start()
    assert await server.post(raw) == status
    await _still_up(server)


async def test_wrong_content_type_is_415(start: Start) -> None:
    server = await start()
    async with server.http.post(server.url + "/api/messages", data="hej") as response:
        assert response.status == 415
    await _still_up(server)


@pytest.mark.parametrize("kind", ["typing", "messageReaction", "installationUpdate", "bogusType"])
async def test_other_activity_types_get_no_reply(start: Start, kind: str) -> None:
    server = await start()
    assert await server.post(activity(server.fake, "hej", type=kind)) == 201
    await _still_up(server)
    assert len(server.fake.posted) == 1  # only the question's answer


async def _still_up(server: Server) -> None:
    posted = await server.ask(activity(server.fake, QUESTION, id="still-up"))
    assert "dagar" in card_text(posted)


async def test_reply_is_retried_after_429(start: Start) -> None:
    server = await start()
    server.fake.throttle(2, retry_after=0.05)
    posted = await server.ask(activity(server.fake, QUESTION))
    assert server.fake.refused == 2
    assert "dagar" in card_text(posted)


async def test_proactive_send_lands_on_the_stored_conversation(start: Start) -> None:
    server = await start()
    await server.ask(activity(server.fake, QUESTION, **mention()))
    address = server.spy.seen[-1].address or ""
    reminder = Reply(status=Status.ANSWER, lang="sv", paragraphs=("Dags för handledning!",))
    await server.app[teams.TEAMS_SENDER].send(address, reminder)
    posted = await server.fake.wait_for(lambda p: len(p) == 2)
    assert posted[1].conversation_id == "19:group@thread.v2"
    assert "Dags för handledning!" in card_text(posted[1])


async def test_with_app_id_sends_carry_the_bots_token(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Token fetching itself needs Entra ID; the stand-in returns a fixed token."""
    monkeypatch.setattr(
        "botframework.connector.auth.MicrosoftAppCredentials.get_access_token",
        lambda self, force_refresh=False: "token-for-" + self.microsoft_app_id,
    )
    server = await start(microsoft_app_id="app-1", microsoft_app_password="secret")
    plain = await start()
    await plain.ask(activity(plain.fake, QUESTION))
    address = plain.spy.seen[-1].address or ""
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("Påminnelse",))
    await server.app[teams.TEAMS_SENDER].send(address, reply)
    posted = await plain.fake.wait_for(lambda p: len(p) == 2)
    assert posted[0].authorization is None
    assert posted[1].authorization == "Bearer token-for-app-1"


@pytest.mark.parametrize(
    ("status", "retry_after", "permanent"),
    [
        (429, 7, False),
        (412, None, False),
        (502, None, False),
        (504, 2, False),
        (403, None, True),
        (404, None, True),
    ],
)
async def test_proactive_refusals_map_to_delivery_errors(
    start: Start, status: int, retry_after: float | None, permanent: bool
) -> None:
    server = await start()
    await server.ask(activity(server.fake, QUESTION))
    address = server.spy.seen[-1].address or ""
    server.fake.throttle(1, retry_after=retry_after, status=status)
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("x",))
    with pytest.raises(DeliveryError) as caught:
        await server.app[teams.TEAMS_SENDER].send(address, reply)
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == retry_after


async def test_proactive_send_to_a_garbled_address_is_permanent(start: Start) -> None:
    server = await start()
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("x",))
    for address in ("not json", "{}", json.dumps({"reference": {"channelId": "msteams"}})):
        with pytest.raises(DeliveryError) as caught:
            await server.app[teams.TEAMS_SENDER].send(address, reply)
        assert caught.value.permanent


def test_app_id_without_password_fails_at_start() -> None:
    settings = load_settings(env_file=None).model_copy(update={"microsoft_app_id": "abc"})
    with pytest.raises(ValueError, match="MICROSOFT_APP_PASSWORD"):
        teams.create_adapter(settings)


def test_enabled_by_app_id_or_switch() -> None:
    base = load_settings(env_file=None)
    assert not teams.enabled(base)
    assert teams.enabled(base.model_copy(update={"microsoft_app_id": "abc"}))
    assert teams.enabled(base.model_copy(update={"teams_enabled": True}))


# --- the card itself ------------------------------------------------------------------------


def _reply(**overrides: Any) -> Reply:
    values: dict[str, Any] = {
        "status": Status.ANSWER,
        "lang": "sv",
        "paragraphs": ("Kursen är 2–3 dagar.",),
        "courses": (
            CourseFact(
                name="Handledarutbildning",
                provider="Region X",
                format="Kurs",
                duration="3 dagar",
                links=("https://example.se/kurs", "javascript:alert(1)"),
            ),
        ),
        "sources": (
            SourceRef(
                title="Riktlinje",
                publisher="Region X",
                scope="Region X",
                reviewed=date(2025, 1, 31),
                url="https://example.se/k",
                source_date="fastställd 2021-12-10",
            ),
        ),
    }
    values.update(overrides)
    return Reply(**values)


def _all_of(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def test_card_lays_out_facts_links_and_source() -> None:
    card = render_cards.render_card(_reply())
    facts = {f["title"]: f["value"] for s in _all_of(card, "FactSet") for f in s["facts"]}
    assert facts == {"Anordnare": "Region X", "Form": "Kurs", "Omfattning": "3 dagar"}
    urls = [a["url"] for a in _all_of(card, "Action.OpenUrl")]
    assert urls == ["https://example.se/kurs", "https://example.se/k"]
    texts = " ".join(t["text"] for t in _all_of(card, "TextBlock"))
    assert "2–3 dagar" in texts and "svaret kontrollerat mot källan 2025-01-31" in texts
    assert "källans datum: fastställd 2021-12-10" in texts
    assert "Kursen är 2–3 dagar." in card["fallbackText"]


def test_clarifying_options_become_submit_buttons() -> None:
    reply = _reply(
        status=Status.CLARIFY,
        question="Vilken menar du?",
        courses=(),
        options=(Option("ST-läkare", "st"), Option("AT-läkare", "at")),
    )
    card = render_cards.render_card(reply)
    assert card["actions"] == [
        {"type": "Action.Submit", "title": "ST-läkare", "data": {"choice": "st"}},
        {"type": "Action.Submit", "title": "AT-läkare", "data": {"choice": "at"}},
    ]
    assert "1. ST-läkare" in card["fallbackText"]


def test_lines_of_a_paragraph_become_close_text_blocks() -> None:
    card = render_cards.render_card(_reply(paragraphs=("Du kan fråga:\n• A\n• B",), courses=()))
    lines = [(b["text"], b.get("spacing")) for b in card["body"][:3]]
    assert lines == [("Du kan fråga:", None), ("• A", "None"), ("• B", "None")]


def test_user_text_cannot_inject_links_or_mentions() -> None:
    evil = "Du frågade om [klicka här](https://evil.example) <at>Alla</at> **viktigt**"
    card = render_cards.render_card(_reply(paragraphs=(evil,), courses=(), sources=()))
    text = card["body"][0]["text"]
    assert "[klicka här](" not in text and "<at>" not in text and "**" not in text
    assert "klicka här" in text and "evil.example" in text


# --- the one-module rule and the app package ------------------------------------------------


def test_botbuilder_is_imported_only_in_the_teams_modules() -> None:
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("adapters/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            if any(n.split(".")[0] in ("botbuilder", "botframework") for n in names):
                offenders.append(path.relative_to(ROOT).as_posix())
    assert set(offenders) == {"adapters/teams.py", "adapters/botframework.py"}


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_teams_package_zip(tmp_path: Path) -> None:
    from adapters.teams_package import build_package

    app_id = "11111111-2222-3333-4444-555555555555"
    settings = load_settings(env_file=None).model_copy(update={"microsoft_app_id": app_id})
    out = build_package(settings, tmp_path / "handledarbot-teams.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert _png_size(package.read("color.png")) == (192, 192)
        assert _png_size(package.read("outline.png")) == (32, 32)
    assert manifest["id"] == app_id
    assert manifest["bots"][0]["botId"] == app_id
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert "{{" not in json.dumps(manifest)


def test_teams_package_needs_an_app_id(tmp_path: Path) -> None:
    from adapters.teams_package import build_package

    with pytest.raises(ValueError, match="MICROSOFT_APP_ID"):
        build_package(load_settings(env_file=None), tmp_path / "x.zip")


# --- Teams as it really behaves (issue 13) and hostile input (issue 14) ------------------------


def invoke(fake: FakeConnector, name: str | None, value: Any, **extra: Any) -> dict[str, Any]:
    body = activity(fake, None, type="invoke", value=value, id=f"invoke-{name}", **extra)
    if name is not None:
        body["name"] = name
    return body


async def test_adaptive_card_execute_is_answered_in_the_invoke_response(start: Start) -> None:
    server = await start()
    first = await server.ask(activity(server.fake, AMBIGUOUS))
    choice = submits(first)[0]["data"]["choice"]
    value = {"action": {"type": "Action.Execute", "verb": "choose", "data": {"choice": choice}},
             "trigger": "manual"}  # fmt: skip
    async with server.http.post(
        server.url + "/api/messages", json=invoke(server.fake, "adaptiveCard/action", value)
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"  # the answer replaces the card
    assert server.spy.seen[-1].choice == choice
    assert body["value"]["type"] == "AdaptiveCard" and body["value"]["body"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("composeExtension/query", {"commandId": "search", "parameters": []}),
        ("task/fetch", {"data": {}}),
        ("bogus/name", {}),
        (None, {"choice": "x"}),  # a card action invoke without a name
        ("signin/verifyState", {"state": "123"}),
    ],
)
async def test_other_invokes_get_200_with_an_empty_body(
    start: Start, name: str | None, value: Any
) -> None:
    """As botbuilder's ActivityHandler answers the invokes it knows, never 501."""
    server = await start()
    async with server.http.post(
        server.url + "/api/messages", json=invoke(server.fake, name, value)
    ) as response:
        assert response.status == 200
        assert await response.read() == b""
    await _still_up(server)


def test_more_than_six_options_become_one_choice_list() -> None:
    options = tuple(Option(label=f"Alternativ {n}", value=f"opt-{n}") for n in range(1, 10))
    reply = Reply(status=Status.CLARIFY, lang="sv", paragraphs=(), question="Vilken?",
                  options=options)  # fmt: skip
    card = render_cards.render_card(reply)
    (choices,) = [b for b in card["body"] if b["type"] == "Input.ChoiceSet"]
    assert [c["value"] for c in choices["choices"]] == [o.value for o in options]
    assert choices["id"] == "choice" and choices["choices"][8]["title"].startswith("9. ")
    assert len(card["actions"]) == 1 and card["actions"][0]["type"] == "Action.Submit"


async def test_a_pick_from_a_long_choice_list_is_answered(start: Start) -> None:
    """Teams merges the choice list's value into the submit's `value` as `choice`."""
    server = await start()
    first = await server.ask(activity(server.fake, AMBIGUOUS))
    choice = submits(first)[0]["data"]["choice"]
    await server.ask(activity(server.fake, None, value={"choice": choice}, id="picked"))
    assert server.spy.seen[-1].choice == choice


@dataclass
class Huge:
    """A service whose every answer is far larger than a Teams message can be."""

    seen: list[Message] = field(default_factory=list)

    async def handle(self, message: Message) -> Reply:
        self.seen.append(message)
        course = CourseFact(name="K" * 5000, duration="D" * 9000, provider="P" * 9000,
                            format="F" * 9000)  # fmt: skip
        source = SourceRef(title="T" * 3000, publisher="Region", url="https://example.org/x",
                           scope="S" * 3000, reviewed=date(2026, 11, 1))  # fmt: skip
        return Reply(status=Status.ANSWER, lang="sv", paragraphs=("å" * 20_000,) * 6,
                     courses=(course,) * 3, sources=(source,) * 4)  # fmt: skip


async def test_an_oversized_answer_is_cut_to_fit_a_teams_message(start: Start) -> None:
    server = await start()
    huge = Huge()
    app = create_app(
        settings=load_settings(env_file=None).model_copy(update={"teams_enabled": True}),
        service=huge,  # type: ignore[arg-type]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
        async with server.http.post(url, json=activity(server.fake, "hej")) as response:
            assert response.status == 201
        posted = await server.fake.wait_for(lambda p: len(p) > 0)
    finally:
        await runner.cleanup()
    (card,) = posted[-1].cards()
    assert render_cards.card_size(card) <= render_cards.MAX_CARD_BYTES
    assert len(json.dumps(posted[-1].body, ensure_ascii=False).encode()) < 28_000
    text = json.dumps(card, ensure_ascii=False)
    assert "ååå" in text and "…" in text  # cut, not dropped


def test_every_card_fits_even_with_many_long_options() -> None:
    options = tuple(Option(label="x" * 500, value="v" * 1000 + str(n)) for n in range(40))
    reply = Reply(status=Status.CLARIFY, lang="sv", paragraphs=("p" * 30_000,),
                  question="q" * 5000, options=options)  # fmt: skip
    card = render_cards.render_card(reply)
    assert render_cards.card_size(card) <= render_cards.MAX_CARD_BYTES


@pytest.mark.parametrize(
    "body",
    [
        {"type": "message", "text": 5},
        {"type": "message", "text": "hej", "conversation": "x"},
        {"type": "message", "text": "hej", "from": 7},
        {"type": "message", "text": "hej", "from": {"id": 7}},
        {"type": "message", "text": "hej", "entities": "x"},
        {"type": "conversationUpdate", "membersAdded": [1, 2]},
        {"type": 5},
        [],
    ],
)
async def test_wrongly_typed_activities_get_400_without_a_traceback(
    start: Start, caplog: pytest.LogCaptureFixture, body: Any
) -> None:
    server = await start()
    if isinstance(body, dict):
        body = {**activity(server.fake, None), **body}
    assert await server.post(body) == 400
    assert "Traceback" not in caplog.text
    await _still_up(server)


@dataclass
class Silent:
    """A TCP endpoint that accepts connections and never answers (a stalled metadata endpoint)."""

    server: Any = None
    connections: int = 0
    writers: list[Any] = field(default_factory=list)

    async def start(self) -> str:
        import asyncio

        async def accept(reader: Any, writer: Any) -> None:
            self.connections += 1
            self.writers.append(writer)

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1/.well-known/openidconfiguration"

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        self.server.close()


async def test_a_stalled_openid_metadata_endpoint_never_stalls_the_server(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One token with an unknown key id used to block every platform for 20 s (issue 14)."""
    import asyncio
    import time

    import jwt
    from botframework.connector.auth import ChannelValidation  # type: ignore[import-untyped]

    from adapters import botframework

    silent = Silent()
    url = await silent.start()
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", url)
    monkeypatch.setattr(botframework, "METADATA_TIMEOUT", 1.0)
    botframework._METADATA.pop(url, None)
    app_id = "11111111-2222-3333-4444-555555555555"
    server = await start(microsoft_app_id=app_id, microsoft_app_password="pw")
    token = jwt.encode(
        {"iss": "https://api.botframework.com", "aud": app_id, "exp": int(time.time()) + 600},
        "not-microsofts-key-but-long-enough-for-hs256",
        algorithm="HS256",
        headers={"kid": "unknown-key"},
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        started = time.monotonic()
        teams_request = asyncio.ensure_future(
            server.post(activity(server.fake, QUESTION), headers=headers)
        )
        await asyncio.sleep(0.2)
        async with server.http.get(server.url + "/healthz") as health:
            assert health.status == 200
        assert time.monotonic() - started < 0.8  # answered while the key fetch hangs
        assert await teams_request == 401
        assert time.monotonic() - started < 3  # cut at the fetch timeout, not 20 s or forever
        # More bad tokens: refused at once from the (empty) cache, no refetch storm.
        for n in range(5):
            again = time.monotonic()
            assert await server.post(activity(server.fake, QUESTION, id=f"x{n}"), headers=headers) == 401
            assert time.monotonic() - again < 0.5
        assert silent.connections == 1
        assert server.fake.posted == []
    finally:
        await silent.close()


async def test_cached_signing_keys_are_served_while_a_refresh_hangs() -> None:
    """Old keys keep working while the endpoint is slow; an unknown key id refetches rarely."""
    import asyncio

    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from adapters import botframework

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1", "endorsements": ["msteams"]}
    stalled, released = asyncio.Event(), asyncio.Event()
    hits: list[str] = []

    async def metadata(request: web.Request) -> web.Response:
        hits.append("metadata")
        if stalled.is_set():
            await released.wait()
        return web.json_response({"jwks_uri": str(request.url.with_path("/keys"))})

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    app = web.Application()
    app.router.add_get("/metadata", metadata)
    app.router.add_get("/keys", keys)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    now = [1000.0]
    cache = botframework.OpenIdMetadata(
        f"http://127.0.0.1:{runner.addresses[0][1]}/metadata", clock=lambda: now[0]
    )
    try:
        found = await cache.get("k1")
        assert found is not None and found.endorsements == ["msteams"]
        stalled.set()
        now[0] += botframework.KEYS_MAX_AGE + 1  # the keys are a day old: refresh in background
        assert await asyncio.wait_for(cache.get("k1"), 0.5) is not None
        assert await asyncio.wait_for(cache.get("k1"), 0.5) is not None  # one refresh at a time
        await asyncio.sleep(0.1)
        assert len(hits) == 2
        assert await asyncio.wait_for(cache.get("other"), 0.5) is None  # fetched just now: no refetch
        assert len(hits) == 2
    finally:
        released.set()
        if cache._running is not None:
            await cache._running
        await runner.cleanup()


# --- the app package against Microsoft's manifest schema (issue 13) ----------------------------

SCHEMAS = ROOT / "tests" / "schemas"


def manifest_problems(manifest: dict[str, Any], schema_file: str) -> list[str]:
    """Every schema violation in `manifest`, as `path: message` lines."""
    from jsonschema import Draft4Validator

    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def test_the_teams_package_manifest_is_valid_against_the_v1_17_schema(tmp_path: Path) -> None:
    from adapters.teams_package import build_package

    app_id = "0f3a6c1e-8d2b-4e5f-9a7c-1b2d3e4f5a6b"
    settings = load_settings(env_file=None).model_copy(update={"microsoft_app_id": app_id})
    with zipfile.ZipFile(build_package(settings, tmp_path / "p.zip")) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest_problems(manifest, "teams-manifest-v1.17.schema.json") == []
    assert manifest["bots"][0]["supportsFiles"] is True  # the file-consent flow in personal chat
    # The checker does catch what Teams refuses:
    too_long = json.loads(json.dumps(manifest))
    too_long["bots"][0]["commandLists"][0]["commands"][1]["title"] = "x" * 33
    assert any("commands/1/title" in p for p in manifest_problems(too_long, "teams-manifest-v1.17.schema.json"))


@pytest.mark.parametrize("app_id", ["not-a-guid", "11111111-2222-3333-4444-55555555555", "{11111111-2222-3333-4444-555555555555}"])
def test_the_teams_package_refuses_an_app_id_that_is_not_a_guid(tmp_path: Path, app_id: str) -> None:
    from adapters.teams_package import build_package

    settings = load_settings(env_file=None).model_copy(update={"microsoft_app_id": app_id})
    with pytest.raises(ValueError, match="GUID"):
        build_package(settings, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_vendored_schemas_match_the_shared_ones() -> None:
    shared = ROOT.parent / "shared" / "schemas"
    if not shared.is_dir():
        pytest.skip("no ../shared/schemas beside this clone")
    for vendored in SCHEMAS.glob("*.json"):
        assert vendored.read_bytes() == (shared / vendored.name).read_bytes(), vendored.name
