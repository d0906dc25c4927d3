"""Slack over real HTTP: signed requests into /slack/events, replies read off the fake Web API."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from itertools import count
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from adapters.render_slack import escape, render_reply
from adapters.server import create_app
from adapters.slack import COMMAND, EVENTS, ROUTE, SlackSender, address, parse_address
from bot.answering.engine import Engine
from bot.messages import Attachment, CourseFact, Message, Option, Reply, SourceRef, Status
from bot.ports import DeliveryError
from bot.service import Service
from bot.settings import load_settings
from bot.sharedstate import MemoryMarks
from tests.conftest import ROOT
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, Call, FakeSlackApi

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1-handledarbot"
USER = "U0NURSE"
CHANNEL = "C0CLINIC"
DM = "D0NURSE"
ST_QUESTION = "Vilken handledarutbildning behöver jag som ST-handledare?"
ST_ANSWERS = ("2-3 dagar", "2–3 dagar")
CLARIFY_QUESTION = "Vilken handledarutbildning ska jag gå?"
CLARIFY_PICK = "ST-läkare"  # part of the label of the option that leads to the ST answer
INTRO = "Handledarbot"
_ids = count(1)


def sign(timestamp: str, body: str, secret: str) -> str:
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return signature


def blocks_text(call: Call) -> str:
    return json.dumps(call.params.get("blocks"), ensure_ascii=False)


def answers_st(call: Call) -> bool:
    return any(answer in blocks_text(call) for answer in ST_ANSWERS)


@dataclass
class SlackServer:
    """The running server plus a client that signs what it sends as Slack would."""

    url: str
    http: aiohttp.ClientSession
    api: FakeSlackApi
    service: Service

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/json",
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = sign(ts, body, secret)
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        async with self.http.post(
            f"{self.url}/slack/events", data=body.encode(), headers=sent
        ) as response:
            await response.read()
            return response

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        envelope = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0HANDLED",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                    "enterprise_id": None,
                }
            ],
            "event": event,
        }
        return await self.post(json.dumps(envelope), **kwargs)

    async def form(self, fields: dict[str, str], **kwargs: Any) -> aiohttp.ClientResponse:
        body = urlencode(fields)
        return await self.post(body, content_type="application/x-www-form-urlencoded", **kwargs)

    async def healthz(self) -> int:
        async with self.http.get(f"{self.url}/healthz") as response:
            return response.status


def dm(text: str, *, ts: str | None = None, channel: str = DM) -> dict[str, Any]:
    ts = ts or f"1700001000.{next(_ids):06d}"
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": USER,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }


def mention(text: str, *, ts: str | None = None, thread_ts: str | None = None) -> dict[str, Any]:
    ts = ts or f"1700002000.{next(_ids):06d}"
    event = {
        "type": "app_mention",
        "channel": CHANNEL,
        "user": USER,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


async def settle(server: SlackServer) -> None:
    """Send one more DM and wait for its answer: anything sent before it had its chance."""
    channel = f"D0MARK{next(_ids)}"
    await server.event(dm("hjälp", channel=channel))
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == channel)


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    fake = await FakeSlackApi().start()
    yield fake
    await fake.close()


@pytest.fixture
async def server(
    slack_api: FakeSlackApi, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> AsyncIterator[SlackServer]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_BASE_URL", slack_api.base_url)
    settings = load_settings(env_file=None)
    service = Service(engine=engine)  # = bot.app.build_service, the knowledge base loaded once
    runner = web.AppRunner(create_app(settings=settings, service=service))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield SlackServer(f"http://127.0.0.1:{port}", http, slack_api, service)
    await runner.cleanup()


# --- the acceptance path ---------------------------------------------------------------------


async def test_mention_is_answered_in_its_thread(server: SlackServer) -> None:
    event = mention(f"<@{BOT_USER_ID}> {ST_QUESTION}")
    response = await server.event(event)
    assert response.status == 200
    call = await server.api.wait_for("chat.postMessage", answers_st)
    assert call.params["channel"] == CHANNEL
    assert call.params["thread_ts"] == event["ts"]
    assert call.token == BOT_TOKEN
    assert "<@" not in call.params["text"]
    assert any(answer in call.params["text"] for answer in ST_ANSWERS)


async def test_mention_inside_a_thread_answers_in_that_thread(server: SlackServer) -> None:
    event = mention(f"<@{BOT_USER_ID}> {ST_QUESTION}", thread_ts="1700000999.000001")
    await server.event(event)
    call = await server.api.wait_for("chat.postMessage", answers_st)
    assert call.params["thread_ts"] == "1700000999.000001"


async def test_direct_message_is_answered_with_facts_and_source(server: SlackServer) -> None:
    await server.event(dm(ST_QUESTION))
    call = await server.api.wait_for("chat.postMessage", answers_st)
    assert call.params["channel"] == DM
    assert call.params.get("thread_ts") is None
    blocks = call.params["blocks"]
    kinds = [block["type"] for block in blocks]
    assert "context" in kinds  # the source line
    source = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert "Källa" in source and "källans datum: sidan senast granskad 18 december 2023" in source
    assert "svaret kontrollerat mot källan 20" in source


async def test_slash_command_answers_through_the_response_url(server: SlackServer) -> None:
    response = await server.form(command_fields(ST_QUESTION, server.api.response_url("cmd")))
    assert response.status == 200
    call = await server.api.wait_for("response_url", lambda c: c.params["name"] == "cmd")
    assert answers_st(call)
    assert call.params["response_type"] == "ephemeral"


@pytest.mark.parametrize("text", ["hjälp", ""])
async def test_slash_command_help(server: SlackServer, text: str) -> None:
    await server.form(command_fields(text, server.api.response_url("help")))
    call = await server.api.wait_for("response_url", lambda c: c.params["name"] == "help")
    assert INTRO in blocks_text(call)


def command_fields(text: str, response_url: str) -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "team_domain": "handled",
        "channel_id": CHANNEL,
        "channel_name": "klinik",
        "user_id": USER,
        "user_name": "sjukskoterska",
        "command": "/handledning",
        "text": text,
        "api_app_id": "A0HANDLED",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


async def clarifying_reply(server: SlackServer) -> Call:
    await server.event(dm(CLARIFY_QUESTION))
    return await server.api.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == DM and "actions" in blocks_text(c)
    )


def click_payload(
    blocks: list[dict[str, Any]],
    channel: str,
    response_url: str,
    *,
    thread_ts: str | None = None,
    ephemeral: bool = False,
) -> dict[str, str]:
    """A click on the option button for ST supervisors, as Slack sends it."""
    block, button = next(
        (b, e)
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if CLARIFY_PICK in e["text"]["text"]
    )
    ts = "1700003000.000001"
    container = {"type": "message", "message_ts": ts, "channel_id": channel,
                 "is_ephemeral": ephemeral}  # fmt: skip
    if thread_ts:
        container["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions",
        "user": {"id": USER, "team_id": TEAM_ID},
        "api_app_id": "A0HANDLED",
        "token": "legacy",
        "team": {"id": TEAM_ID, "domain": "handled"},
        "container": container,
        "channel": {"id": channel, "name": "directmessage"},
        "response_url": response_url,
        "trigger_id": "1.2.4",
        "actions": [{"type": "button", "action_id": button["action_id"],
                     "block_id": block["block_id"], "text": button["text"],
                     "value": button["value"], "action_ts": "1700003001.1"}],
    }  # fmt: skip
    if not ephemeral:
        payload["message"] = {"type": "message", "ts": ts, "user": BOT_USER_ID, "text": "…",
                              "blocks": blocks, "thread_ts": thread_ts}  # fmt: skip
    return {"payload": json.dumps(payload)}


async def test_click_on_a_clarifying_option_answers(server: SlackServer) -> None:
    posted = await clarifying_reply(server)
    click = click_payload(posted.params["blocks"], DM, server.api.response_url("x"))
    response = await server.form(click)
    assert response.status == 200
    answer = await server.api.wait_for("chat.postMessage", answers_st)
    assert answer.params["channel"] == DM and answer.params.get("thread_ts") is None
    update = await server.api.wait_for("chat.update")
    assert update.params["ts"] == "1700003000.000001"
    assert "actions" not in blocks_text(update)  # the buttons cannot be clicked twice
    assert CLARIFY_PICK in blocks_text(update)


async def test_click_in_a_channel_thread_answers_in_that_thread(server: SlackServer) -> None:
    event = mention(f"<@{BOT_USER_ID}> {CLARIFY_QUESTION}")
    await server.event(event)
    posted = await server.api.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"]
    )
    assert "actions" in blocks_text(posted)
    click = click_payload(posted.params["blocks"], CHANNEL, server.api.response_url("t"),
                          thread_ts=event["ts"])  # fmt: skip
    await server.form(click)
    answer = await server.api.wait_for("chat.postMessage", answers_st)
    assert (answer.params["channel"], answer.params["thread_ts"]) == (CHANNEL, event["ts"])


async def test_click_on_a_slash_command_answer_replaces_it(server: SlackServer) -> None:
    await server.form(command_fields(CLARIFY_QUESTION, server.api.response_url("ask")))
    asked = await server.api.wait_for("response_url", lambda c: c.params["name"] == "ask")
    assert "actions" in blocks_text(asked)
    click = click_payload(asked.params["blocks"], CHANNEL, server.api.response_url("clicked"),
                          ephemeral=True)  # fmt: skip
    await server.form(click)
    answer = await server.api.wait_for("response_url", lambda c: c.params["name"] == "clicked")
    assert answers_st(answer) and answer.params["replace_original"] is True
    assert not server.api.calls_to("chat.postMessage")  # the answer stays private


async def test_buttons_carry_option_values_five_per_row(server: SlackServer) -> None:
    posted = await clarifying_reply(server)
    actions = [b for b in posted.params["blocks"] if b["type"] == "actions"]
    assert actions and all(len(b["elements"]) <= 5 for b in actions)
    values = [e["value"] for b in actions for e in b["elements"]]
    assert len(values) == len(set(values)) >= 2


async def test_link_button_click_is_acknowledged(server: SlackServer) -> None:
    fields = {
        "payload": json.dumps(
            {
                "type": "block_actions",
                "user": {"id": USER},
                "team": {"id": TEAM_ID},
                "api_app_id": "A0HANDLED",
                "token": "legacy",
                "trigger_id": "1",
                "container": {"type": "message", "message_ts": "1.2", "channel_id": DM},
                "actions": [
                    {
                        "type": "button",
                        "action_id": "course_link_0",
                        "block_id": "b",
                        "text": {"type": "plain_text", "text": "Länk"},
                        "url": "https://example.se",
                        "action_ts": "1",
                    }
                ],
            }
        )
    }
    response = await server.form(fields)
    assert response.status == 200


# --- request verification and re-deliveries ----------------------------------------------------


async def test_bad_signature_is_refused_and_not_answered(server: SlackServer) -> None:
    event = dm(ST_QUESTION, channel="D0FORGED")
    response = await server.event(event, secret="not-the-signing-secret")
    assert response.status == 401
    await settle(server)
    assert not [
        c for c in server.api.calls_to("chat.postMessage") if c.params["channel"] == "D0FORGED"
    ]


async def test_old_timestamp_is_refused_and_not_answered(server: SlackServer) -> None:
    event = dm(ST_QUESTION, channel="D0REPLAY")
    response = await server.event(event, timestamp=int(time.time()) - 600)
    assert response.status == 401
    await settle(server)
    assert not [
        c for c in server.api.calls_to("chat.postMessage") if c.params["channel"] == "D0REPLAY"
    ]


@pytest.mark.parametrize(
    "retry_headers",
    [
        {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"},
        {},
    ],
)
async def test_redelivered_event_gets_no_second_answer(
    server: SlackServer, retry_headers: dict[str, str]
) -> None:
    event = mention(f"<@{BOT_USER_ID}> {ST_QUESTION}")
    await server.event(event, event_id="Ev0SAME")
    await server.api.wait_for("chat.postMessage", lambda c: c.params["thread_ts"] == event["ts"])
    response = await server.event(event, event_id="Ev0SAME", headers=retry_headers)
    assert response.status == 200
    await settle(server)
    replies = [
        c
        for c in server.api.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == event["ts"]
    ]
    assert len(replies) == 1


async def test_timeout_retry_of_an_unseen_event_is_answered_once(server: SlackServer) -> None:
    """No replica took the first delivery in (it died with its replica): the retry is answered,
    and Slack's next retry of the same event is not."""
    event = dm(ST_QUESTION, channel="D0TIMEOUT")
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await server.event(event, event_id="Ev0TIMEOUT", headers=headers)).status == 200
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0TIMEOUT")
    headers = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await server.event(event, event_id="Ev0TIMEOUT", headers=headers)).status == 200
    await settle(server)
    replies = server.api.calls_to("chat.postMessage")
    assert len([c for c in replies if c.params["channel"] == "D0TIMEOUT"]) == 1


async def test_one_message_carried_by_two_event_ids_is_answered_once(server: SlackServer) -> None:
    """Slack may deliver one message under two event ids (e.g. one per installation)."""
    event = dm(ST_QUESTION, channel="D0TWICE")
    await server.event(event, event_id="Ev0FIRST")
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0TWICE")
    await server.event(event, event_id="Ev0SECOND")
    await settle(server)
    replies = server.api.calls_to("chat.postMessage")
    assert len([c for c in replies if c.params["channel"] == "D0TWICE"]) == 1


async def test_error_retry_of_an_unseen_event_is_answered(server: SlackServer) -> None:
    """After an http_error the first delivery was not handled: the retry is the only chance."""
    event = dm(ST_QUESTION, channel="D0ERROR")
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    await server.event(event, headers=headers)
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0ERROR")


async def test_url_verification_echoes_the_challenge(server: SlackServer) -> None:
    body = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    async with server.http.post(
        f"{server.url}/slack/events",
        data=body,
        headers=_signed_headers(body),
    ) as response:
        assert response.status == 200
        assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in await response.text()


def _signed_headers(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(ts, body, SECRET),
    }


async def test_rate_limited_answer_is_retried_and_delivered(server: SlackServer) -> None:
    server.api.rate_limit(1, retry_after=0, method="chat.postMessage")
    await server.event(dm(ST_QUESTION, channel="D0BUSY"))
    await server.api.wait_for(
        "chat.postMessage",
        lambda c: c.params["channel"] == "D0BUSY" and answers_st(c) and c.answered == "ok",
        timeout=8,
    )
    busy = [
        c.answered
        for c in server.api.calls_to("chat.postMessage")
        if c.params["channel"] == "D0BUSY"
    ]
    assert busy == ["ratelimited", "ok"]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", " ", "x" * 40_000, "🙂🤷‍♀️ handledning?", "מה זה הדרכה؟ ما هو التدريب", "\u202e\u200f\x00"],
    ids=["empty", "blank", "40kB", "emoji", "rtl", "control"],
)
async def test_odd_direct_messages_get_a_clean_answer(server: SlackServer, text: str) -> None:
    channel = f"D0ODD{next(_ids)}"
    response = await server.event(dm(text, channel=channel))
    assert response.status == 200
    call = await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == channel)
    assert call.params["text"] and call.params["blocks"]
    assert await server.healthz() == 200


async def test_direct_message_with_a_file_is_answered(server: SlackServer) -> None:
    await server.event({**dm(ST_QUESTION, channel="D0FILE"), "subtype": "file_share"})
    call = await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0FILE")
    assert answers_st(call)


async def test_mention_only_gets_the_introduction(server: SlackServer) -> None:
    event = mention(f"<@{BOT_USER_ID}>")
    await server.event(event)
    call = await server.api.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"]
    )
    assert INTRO in blocks_text(call)


async def test_invalid_json_gets_400_and_the_server_stays_up(server: SlackServer) -> None:
    response = await server.post('{"type": "event_callback", "event": {')
    assert response.status == 400
    response = await server.form({"payload": "{not json"})
    assert response.status == 400
    assert await server.healthz() == 200


async def test_unknown_event_types_are_acknowledged_quietly(server: SlackServer) -> None:
    for event in (
        {"type": "reaction_added", "user": USER, "reaction": "thumbsup", "item": {}},
        {
            "type": "message",
            "channel_type": "channel",
            "channel": CHANNEL,
            "user": USER,
            "text": "hej",
            "ts": "1.1",
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "channel_type": "im",
            "channel": "D0EDIT",
            "ts": "1.2",
        },
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D0EDIT",
            "bot_id": "B0OTHER",
            "text": "hej",
            "ts": "1.3",
        },
    ):
        assert (await server.event(event)).status == 200
    await settle(server)
    channels = {c.params["channel"] for c in server.api.calls_to("chat.postMessage")}
    assert CHANNEL not in channels and "D0EDIT" not in channels
    assert await server.healthz() == 200


async def test_mention_in_a_dm_is_answered_once(server: SlackServer) -> None:
    text = f"<@{BOT_USER_ID}> {ST_QUESTION}"
    await server.event({**mention(text), "channel": "D0BOTH", "channel_type": "im"})
    await server.event(dm(text, channel="D0BOTH"))
    await settle(server)
    assert (
        len([c for c in server.api.calls_to("chat.postMessage") if c.params["channel"] == "D0BOTH"])
        == 1
    )


async def test_injected_mentions_and_links_never_come_back_unescaped(server: SlackServer) -> None:
    question = f"<!channel> <https://evil.example|click> <@U0OTHER> {ST_QUESTION} <!here>"
    await server.event(dm(question, channel="D0INJECT"))
    call = await server.api.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "D0INJECT"
    )
    sent = json.dumps(call.params, ensure_ascii=False)
    for raw in ("<!channel>", "<!here>", "<https://evil", "<@U0OTHER>"):
        assert raw not in sent


# --- rendering and delivery units ------------------------------------------------------------

SOURCE = SourceRef(
    title="Riktlinje <b>",
    publisher="Region & Co",
    scope="Region Stockholm",
    reviewed=date(2025, 3, 1),
    url="https://example.se/a?b=1&c=2",
)


def test_every_mrkdwn_text_is_escaped() -> None:
    hostile = "<!channel> <https://evil|click> & <@U1>"
    reply = Reply(
        status=Status.CLARIFY,
        lang="sv",
        paragraphs=(hostile,),
        question=hostile,
        courses=(
            CourseFact(
                name=hostile,
                provider=hostile,
                format=None,
                duration=hostile,
                links=("https://example.se/kurs",),
            ),
        ),
        options=(Option(label=hostile, value="v1"),),
        sources=(
            SourceRef(title=hostile, publisher=hostile, scope=hostile, reviewed=date(2025, 1, 2)),
        ),
    )
    rendered = render_reply(reply, conversation_id="T:D")
    mrkdwn = [*_mrkdwn_texts(rendered.blocks), rendered.text]
    assert mrkdwn
    for text in mrkdwn:
        assert "<!channel>" not in text and "<https://evil" not in text and "<@U1>" not in text
    assert escape(hostile) in rendered.text


def _mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn_texts(item)]
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in _mrkdwn_texts(value)]
    return []


def test_course_facts_become_fields_with_a_link_button() -> None:
    course = CourseFact(
        name="Stepping stones",
        provider="KI",
        format="Distans",
        duration="2–3 dagar",
        credits="3 hp",
        apply="Via chefen",
        links=("https://example.se/kurs",),
    )
    reply = Reply(
        status=Status.ANSWER, lang="en", paragraphs=("p",), courses=(course,), sources=(SOURCE,)
    )
    blocks = render_reply(reply).blocks
    section = next(b for b in blocks if "fields" in b)
    fields = [f["text"] for f in section["fields"]]
    assert fields == [
        "*Provider*\nKI",
        "*Format*\nDistans",
        "*Duration*\n2–3 dagar",
        "*Credits*\n3 hp",
        "*How to apply*\nVia chefen",
    ]  # bot.wording.course_facts: one order everywhere
    assert section["accessory"]["url"] == "https://example.se/kurs"
    context = blocks[-1]["elements"][0]["text"]
    assert context.startswith("Source: Region &amp; Co – <https://example.se/a?b=1&amp;c=2|")
    assert "Riktlinje &lt;b&gt;" in context and "2025-03-01" in context


def test_unsafe_links_are_not_rendered_as_links() -> None:
    course = CourseFact(
        name="k",
        provider=None,
        format=None,
        duration=None,
        links=("javascript:alert(1)", "https://ok.example/x|<!channel>"),
    )
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("p",), courses=(course,))
    assert "url" not in json.dumps(render_reply(reply).blocks)


def test_many_options_and_long_text_stay_within_slack_limits() -> None:
    options = tuple(Option(label="x" * 200, value=f"v{i}") for i in range(12))
    reply = Reply(
        status=Status.CLARIFY,
        lang="sv",
        paragraphs=("&" * 7000,) * 30,
        question="?",
        options=options,
    )
    blocks = render_reply(reply, conversation_id="T:C:1.2").blocks
    assert len(blocks) <= 50
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [5, 5, 2]
    assert all(len(e["text"]["text"]) <= 75 for b in actions for e in b["elements"])
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert all(
        b["text"]["text"].endswith("&amp;")
        for b in blocks
        if b["type"] == "section" and b["text"]["text"].startswith("&")
    )


async def test_sender_posts_to_the_stored_address(slack_api: FakeSlackApi) -> None:
    sender = _sender(slack_api)
    reply = Reply(
        status=Status.ANSWER,
        lang="sv",
        paragraphs=("Dags för handledning",),
        attachments=(Attachment("handledning.ics", "text/calendar", b"BEGIN:VCALENDAR"),),
    )
    await sender.send(address("C0CLINIC", "1700.1"), reply)
    call = await slack_api.wait_for("chat.postMessage")
    assert (call.params["channel"], call.params["thread_ts"]) == ("C0CLINIC", "1700.1")
    assert "Dags för handledning" in blocks_text(call)
    upload = await slack_api.wait_for("upload")
    assert upload.data == b"BEGIN:VCALENDAR"
    done = await slack_api.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == "C0CLINIC" and done.params["thread_ts"] == "1700.1"


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found", "not_in_channel", "account_inactive", "is_archived", "token_revoked",
        "missing_scope", "team_access_not_granted", "invalid_blocks", "msg_too_long", "not_authed",
        "invalid_auth",
    ],
)  # fmt: skip
async def test_sender_reports_permanent_failures(slack_api: FakeSlackApi, error: str) -> None:
    slack_api.fail("chat.postMessage", error)
    with pytest.raises(DeliveryError) as raised:
        await _sender(slack_api).send(address("C0GONE", None), _short_reply())
    assert raised.value.permanent and error in str(raised.value)


async def test_sender_passes_on_retry_after(slack_api: FakeSlackApi) -> None:
    slack_api.rate_limit(1, retry_after=30)
    with pytest.raises(DeliveryError) as raised:
        await _sender(slack_api).send(address("C0BUSY", None), _short_reply())
    assert not raised.value.permanent and raised.value.retry_after == 30
    assert len(slack_api.calls_to("chat.postMessage")) == 1  # the caller decides when to retry


async def test_sender_refuses_a_malformed_address(slack_api: FakeSlackApi) -> None:
    for bad in ("", "not json", "[]", '{"thread_ts": "1"}', '{"channel": 5}'):
        with pytest.raises(DeliveryError) as raised:
            await _sender(slack_api).send(bad, _short_reply())
        assert raised.value.permanent
    assert parse_address(address("D1", None)) == ("D1", None)


def _sender(slack_api: FakeSlackApi) -> SlackSender:
    settings = load_settings(env_file=None).model_copy(
        update={"slack_bot_token": BOT_TOKEN, "slack_api_base_url": slack_api.base_url}
    )
    return SlackSender.from_settings(settings)


def _short_reply() -> Reply:
    return Reply(status=Status.ANSWER, lang="sv", paragraphs=("Hej",))


async def test_messages_carry_conversation_and_address(server: SlackServer) -> None:
    """What the service is handed: ids that keep mentions, DMs and commands apart."""
    seen: list[Message] = []
    original = server.service.handle

    async def recording(message: Message) -> Reply:
        seen.append(message)
        return await original(message)

    server.service.handle = recording  # type: ignore[method-assign]
    event = mention(f"<@{BOT_USER_ID}> {ST_QUESTION}")
    await server.event(event)
    await server.api.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"]
    )
    await server.event(dm("hej", channel="D0IDS"))
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0IDS")
    first, second = seen[0], seen[1]
    assert first.text == ST_QUESTION and first.platform == "slack"
    assert first.conversation_id == f"{TEAM_ID}:{CHANNEL}:{event['ts']}"
    assert first.user_id == f"{TEAM_ID}:{USER}"
    assert json.loads(first.address or "") == {"channel": CHANNEL, "thread_ts": event["ts"]}
    assert second.conversation_id == f"{TEAM_ID}:D0IDS"
    assert json.loads(second.address or "") == {"channel": "D0IDS", "thread_ts": None}


def test_manifest_matches_what_the_adapter_serves() -> None:
    manifest = yaml.safe_load((ROOT / "manifests" / "slack.yaml").read_text(encoding="utf-8"))
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENTS)
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        command["url"],
    ]
    assert all(url.startswith("https://") and url.endswith(ROUTE) for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    assert "socket_mode_enabled" in settings
    assert set(manifest["oauth_config"]["scopes"]["bot"]) >= {
        "app_mentions:read", "chat:write", "im:history", "im:read", "im:write", "commands",
        "files:write", "users:read",
    }  # fmt: skip


async def test_memory_marks_are_bounded_and_a_lapsed_lease_can_be_taken_again() -> None:
    now = [1000.0]
    marks = MemoryMarks(limit=3, clock=lambda: now[0])
    tokens = {k: await marks.take("e", k, lease=30) for k in ("a", "b", "c")}
    assert None not in tokens.values()
    assert await marks.take("e", "a", lease=30) is None  # being handled
    await marks.done("e", "a", tokens["a"] or "")
    now[0] += 60
    assert await marks.take("e", "a", lease=30) is None  # handled: never again
    assert await marks.take("e", "b", lease=30) is not None  # its taker died: taken again
    assert await marks.take("e", "d", lease=30) is not None
    assert await marks.take("e", "a", lease=30) is not None  # forgotten beyond the limit


# --- Slack as it really behaves (issue 13) ------------------------------------------------------


def replies_in(server: SlackServer, *, channel: str, thread: str | None = None) -> list[Call]:
    return [
        c
        for c in server.api.calls_to("chat.postMessage")
        if c.params["channel"] == channel and (thread is None or c.params.get("thread_ts") == thread)
    ]


@pytest.mark.parametrize(
    "marks",
    [
        {"bot_id": "B0OTHER"},
        {"app_id": "A0OTHER"},
        {"bot_profile": {"id": "B0OTHER", "app_id": "A0OTHER", "name": "Otherbot"}},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
        {"user": BOT_USER_ID},
    ],
)
async def test_another_bots_mention_is_not_answered(
    server: SlackServer, marks: dict[str, Any]
) -> None:
    """Two bots in a channel must not answer each other forever."""
    event = {**mention(f"<@{BOT_USER_ID}> {ST_QUESTION}"), **marks}
    assert (await server.event(event)).status == 200
    await settle(server)
    assert not replies_in(server, channel=CHANNEL, thread=event["ts"])


async def test_an_edited_mention_is_not_answered_again(server: SlackServer) -> None:
    event = mention(f"<@{BOT_USER_ID}> {ST_QUESTION}")
    await server.event(event)
    await server.api.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"])
    edited = {
        **event,
        "text": f"<@{BOT_USER_ID}> {ST_QUESTION} (rättat)",
        "edited": {"user": USER, "ts": "1700009999.000100"},
    }
    assert (await server.event(edited)).status == 200  # Slack sends it under a new event id
    await settle(server)
    assert len(replies_in(server, channel=CHANNEL, thread=event["ts"])) == 1


async def test_one_message_under_two_event_ids_is_answered_once(server: SlackServer) -> None:
    """Slack has delivered one message twice with different event ids: team+channel+ts decide."""
    event = dm(ST_QUESTION, channel="D0TWICE")
    await server.event(event, event_id="Ev0FIRST")
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0TWICE")
    await server.event(event, event_id="Ev0SECOND")
    thread_event = mention(f"<@{BOT_USER_ID}> {ST_QUESTION}")
    await server.event(thread_event, event_id="Ev0THIRD")
    await server.event(thread_event, event_id="Ev0FOURTH")
    await settle(server)
    assert len(replies_in(server, channel="D0TWICE")) == 1
    assert len(replies_in(server, channel=CHANNEL, thread=thread_event["ts"])) == 1
    # Another message in the same DM (a new ts) is answered as usual.
    await server.event(dm(ST_QUESTION, channel="D0TWICE"))
    await settle(server)
    assert len(replies_in(server, channel="D0TWICE")) == 2


@pytest.mark.parametrize(
    ("typed", "as_emoji"),
    [("tack :+1:", "tack 👍"), ("tack :pray:", "tack 🙏"), ("hej :wave:", "hej 👋"),
     ("tack :+1::skin-tone-3:", "tack 👍🏼")],
)  # fmt: skip
async def test_emoji_shortcodes_are_read_as_the_emoji(
    server: SlackServer, typed: str, as_emoji: str
) -> None:
    """Slack sends 👍 as `:+1:`; the answer is the one the emoji itself gets."""
    await server.event(dm(typed, channel="D0EMOJI"))
    call = await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0EMOJI")
    expected = await server.service.handle(
        Message(text=as_emoji, user_id="x", conversation_id="x", platform="slack")
    )
    assert expected.status is not Status.NO_MATCH
    assert call.params["text"] == render_reply(expected).text


async def test_a_colleague_named_with_at_keeps_their_name(server: SlackServer) -> None:
    """`<@U0ANNA>` reaches the core as the display name (users.info), else a readable label."""
    server.api.users["U0ANNA"] = {
        "id": "U0ANNA",
        "name": "anna.s",
        "real_name": "Anna Svensson",
        "profile": {"display_name": "Anna S", "real_name": "Anna Svensson"},
    }
    seen: list[str] = []
    original = server.service.handle

    async def recording(message: Message) -> Reply:
        seen.append(message.text)
        return await original(message)

    server.service.handle = recording  # type: ignore[method-assign]
    for n, text in enumerate(
        (
            "påminn mig varje måndag kl 8 om handledning med <@U0ANNA>",
            "handledning med <@U0GONE|erik>",
            "handledning med <@U0GONE>",
        )
    ):
        await server.event(dm(text, channel=f"D0NAME{n}"))
        await server.api.wait_for("chat.postMessage", lambda c, n=n: c.params["channel"] == f"D0NAME{n}")
    assert seen == [
        "påminn mig varje måndag kl 8 om handledning med Anna S",
        "handledning med erik",
        "handledning med @U0GONE",
    ]
    assert [c.params["user"] for c in server.api.calls_to("users.info")] == ["U0ANNA", "U0GONE", "U0GONE"]
    await server.event(dm("hej <@U0ANNA>", channel="D0NAME9"))
    await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0NAME9")
    assert len(server.api.calls_to("users.info")) == 3  # the name is remembered


def test_manifest_asks_for_users_read() -> None:
    manifest = yaml.safe_load((ROOT / "manifests" / "slack.yaml").read_text(encoding="utf-8"))
    assert "users:read" in manifest["oauth_config"]["scopes"]["bot"]


# --- hostile and malformed requests (issue 14) --------------------------------------------------


async def test_refused_requests_never_log_their_body(
    server: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A body that fails verification may carry a personal identity number: it is not logged."""
    caplog.set_level("DEBUG")
    body = json.dumps({"type": "event_callback", "event": dm("19121212-1212 hemligt")})
    for kwargs in ({"secret": "wrong-secret"}, {"timestamp": int(time.time()) - 900}):
        response = await server.post(body, **kwargs)  # type: ignore[arg-type]
        assert response.status == 401
    assert "19121212" not in caplog.text and "hemligt" not in caplog.text
    assert "refused a request" in caplog.text


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "１２３", "-5"])
async def test_a_malformed_timestamp_is_a_401(
    server: SlackServer, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    body = json.dumps({"type": "event_callback", "event": dm("hej")})
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": "v0=00"}  # fmt: skip
    async with server.http.post(
        f"{server.url}{ROUTE}", data=body.encode(), headers=headers
    ) as response:
        assert response.status == 401
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "[1, 2]",
        '"text"',
        "5",
        '{"type": "event_callback", "event": "x"}',
        '{"type": "event_callback", "event_id": 5, "event": {"type": "message"}}',
        '{"type": "event_callback", "authorizations": "x", "event": {"type": "message"}}',
        '{"type": "event_callback", "event": {"type": "message", "channel": 5, "ts": 5}}',
        '{"type": "block_actions", "user": 7, "actions": "x"}',
    ],
)
async def test_signed_payloads_of_the_wrong_shape_get_400(
    server: SlackServer, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    response = await server.post(body)
    assert response.status == 400
    form = await server.form({"payload": body})
    assert form.status == 400
    assert "Traceback" not in caplog.text
    assert await server.healthz() == 200


def test_slack_manifest_is_valid_against_the_schema() -> None:
    from tests.test_teams import manifest_problems

    manifest = yaml.safe_load((ROOT / "manifests" / "slack.yaml").read_text(encoding="utf-8"))
    assert manifest_problems(manifest, "slack-app-manifest.schema.json") == []
    broken = {**manifest, "display_information": {"name": "x" * 36}}
    assert manifest_problems(broken, "slack-app-manifest.schema.json")


# --- limits only long content reaches (issue 13) ------------------------------------------------


def _no_broken_markup(text: str) -> bool:
    """No `<` without its `>`, and no `&` that does not start a whole entity."""
    import re

    depth_ok = all(part.count("<") <= 1 for part in text.split(">"))
    unclosed = text.rfind("<") > text.rfind(">")
    entities = all(re.match(r"&(amp|lt|gt);", text[i:]) for i, ch in enumerate(text) if ch == "&")
    return depth_ok and not unclosed and entities


def test_a_long_source_title_is_shortened_inside_its_link() -> None:
    source = SourceRef(title="Handledning & <utbildning> " * 200, publisher="Region Skåne",
                       url="https://example.org/a?b=1&c=2", scope="Region Skåne",
                       reviewed=date(2026, 11, 1))  # fmt: skip
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("p",), sources=(source,))
    (context,) = [b for b in render_reply(reply).blocks if b["type"] == "context"][:1]
    text = context["elements"][0]["text"]
    assert len(text) <= 3000
    assert "<https://example.org/a?b=1&amp;c=2|Handledning &amp; &lt;utbildning&gt;" in text
    assert text.endswith("kontrollerat mot källan 2026-11-01") and "…>" in text
    assert _no_broken_markup(text)


@pytest.mark.parametrize("filler", ["&", "<", ">", "a&", "x<"])
def test_long_course_facts_are_never_cut_inside_an_entity(filler: str) -> None:
    course = CourseFact(name=filler * 4000, provider=filler * 3000, format=None,
                        duration="2 dagar", links=("https://example.org/k",))  # fmt: skip
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("p",), courses=(course,))
    blocks = render_reply(reply).blocks
    section = next(b for b in blocks if b.get("fields"))
    assert len(section["text"]["text"]) <= 3000 and _no_broken_markup(section["text"]["text"])
    for field in section["fields"]:
        assert len(field["text"]) <= 2000 and _no_broken_markup(field["text"])


def test_an_option_value_too_long_for_slack_goes_out_as_its_number() -> None:
    options = (Option("Kort", "short-value"), Option("Lång", "v" * 2500), Option("Tredje", "t"))
    reply = Reply(status=Status.CLARIFY, lang="sv", paragraphs=(), question="?", options=options)
    buttons = [e for b in render_reply(reply).blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == ["short-value", "2", "t"]
    assert all(len(b["value"]) <= 2000 for b in buttons)


async def test_a_click_on_a_numbered_long_option_answers_that_option(
    server: SlackServer, engine: Engine
) -> None:
    """The number a too-long value became picks the same option as its value would."""
    await server.event(dm(CLARIFY_QUESTION, channel="D0LONG"))
    call = await server.api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0LONG")
    buttons = [e for b in call.params["blocks"] if b.get("block_id", "").startswith("clarify:")
               for e in b["elements"]]  # fmt: skip
    number = next(n for n, b in enumerate(buttons, start=1) if CLARIFY_PICK in b["text"]["text"])
    await server.event(dm(str(number), channel="D0LONG"))
    answer = await server.api.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "D0LONG" and answers_st(c)
    )
    assert answer


def test_every_renderer_shows_the_same_course_rows_in_the_same_order() -> None:
    """One definition (bot.wording.course_facts) for Slack, Teams, the web page and plain text."""
    from adapters import render_cards
    from adapters.web import reply_json
    from bot.render_text import render_text

    course = CourseFact(name="Kurs", provider="KI", format="Distans", duration="2 dagar",
                        credits="3 hp", apply="Via chefen", prerequisites=("ST", "AT"))  # fmt: skip
    reply = Reply(status=Status.ANSWER, lang="sv", paragraphs=("p",), courses=(course,))
    expected = ["KI", "Distans", "2 dagar", "3 hp", "Via chefen", "ST, AT"]
    slack = [f["text"].split("\n", 1)[1] for b in render_reply(reply).blocks for f in b.get("fields", [])]
    card = render_cards.render_card(reply)
    teams = [f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]]
    web = [f["value"] for f in reply_json(reply, coordinator=False)["courses"][0]["facts"]]
    text = [line.split(": ", 1)[1] for line in render_text(reply).splitlines() if line.startswith("  ")]
    assert slack == teams == web == text == expected
