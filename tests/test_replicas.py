"""Two `handledarbot serve` replicas on one PostgreSQL schema behind a round-robin proxy behave
as one bot: driven over HTTP through Slack (with Slack's retries), Teams and the web page, with
the local fakes of Slack's Web API and the Bot Framework connector receiving the replies."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from bot.answering.engine import Engine
from tests.conftest import ENV_PREFIXES, ROOT
from tests.fakes.connector import FakeConnector, Posted
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlackApi
from tests.reminder_worker import PG_URL
from tests.test_slack import BOT_TOKEN, SECRET, ST_QUESTION, sign
from tests.test_teams import BOT_ID
from tests.test_teams import activity as teams_activity

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLARIFY_QUESTION = "Vilken handledarutbildning ska jag gå?"
START_TIMEOUT = 60.0
_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    """One `handledarbot serve` process on a fixed port (kept across restarts)."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=_free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "adapters.cli", "serve", "--port", str(self.port),
                env=self.env, cwd=self.log.parent, stdout=out, stderr=out,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        assert self.process.returncode == 0, self.log.read_text()[-2000:]


class RoundRobin:
    """The load balancer: each request to the next replica; a replica that refuses connections
    is skipped (as a balancer's health check would). `served` records who served what."""

    def __init__(self, backends: list[Replica]) -> None:
        self.backends = backends
        self.served: list[str] = []
        self.force: str | None = None
        self._turn = itertools.count()
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length", "transfer-encoding")}  # fmt: skip
        first = next(self._turn) % len(self.backends)
        order = [self.backends[(first + n) % len(self.backends)] for n in range(len(self.backends))]
        if self.force is not None:
            order = [b for b in self.backends if b.name == self.force]
            self.force = None
        for backend in order:
            try:
                async with self._http.request(
                    request.method, backend.url + request.path_qs, data=body, headers=headers
                ) as r:
                    payload = await r.read()
                    kind = r.headers.get("Content-Type", "text/plain")
                    self.served.append(backend.name)
                    return web.Response(status=r.status, body=payload,
                                        headers={"Content-Type": kind})  # fmt: skip
            except aiohttp.ClientConnectorError:
                continue
        return web.Response(status=502, text="no replica is up")


@dataclass
class Cluster:
    a: Replica
    b: Replica
    proxy: RoundRobin
    slack: FakeSlackApi
    teams: FakeConnector
    http: aiohttp.ClientSession
    schema: str

    # --- Slack -------------------------------------------------------------------------------

    async def slack_event(
        self, event: dict[str, Any], event_id: str, *, retry: int = 0, to: str | None = None
    ) -> int:
        envelope = {
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0HANDLED",
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                                "is_enterprise_install": False, "enterprise_id": None}],
            "event": event,
        }  # fmt: skip
        body = json.dumps(envelope)
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": sign(stamp, body, SECRET)}  # fmt: skip
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        self.proxy.force = to
        async with self.http.post(f"{self.proxy.url}/slack/events", data=body.encode(),
                                  headers=headers) as r:  # fmt: skip
            await r.read()
            return r.status

    def slack_replies(self, channel: str) -> list[str]:
        return [
            json.dumps(c.params, ensure_ascii=False)
            for c in self.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel
        ]

    async def slack_settle(self) -> None:
        """One more DM, answered: whatever was sent before had its chance to be answered."""
        channel = f"D0SETTLE{next(_ids)}"
        await self.slack_event(dm("hjälp", channel), f"EvSETTLE{next(_ids)}")
        await self.slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == channel, 15)
        await asyncio.sleep(0.3)

    # --- Teams and the web page --------------------------------------------------------------

    async def teams_post(self, body: dict[str, Any], *, to: str | None = None) -> None:
        self.proxy.force = to
        async with self.http.post(f"{self.proxy.url}/api/messages", json=body) as r:
            assert r.status in (200, 201, 202), await r.text()

    async def teams_ask(self, text: str, conversation: str) -> Posted:
        before = len(self.teams.posted)
        body = teams_activity(self.teams, text, id=f"act-{next(_ids)}",
                              conversation={"id": conversation, "conversationType": "personal",
                                            "tenantId": "t-1"})  # fmt: skip
        await self.teams_post(body)
        posted = await self.teams.wait_for(lambda p: len(p) > before, timeout=15)
        return posted[before]

    async def web_ask(self, text: str, session: str, *, to: str | None = None) -> dict[str, Any]:
        self.proxy.force = to
        async with self.http.post(f"{self.proxy.url}/api/chat",
                                  json={"text": text, "session": session}) as r:  # fmt: skip
            assert r.status == 200, await r.text()
            reply: dict[str, Any] = await r.json()
            return reply

    @property
    def last_two(self) -> list[str]:
        return self.proxy.served[-2:]


def dm(text: str, channel: str) -> dict[str, Any]:
    ts = f"{int(time.time())}.{next(_ids):06d}"
    return {"type": "message", "channel_type": "im", "channel": channel, "user": "U0NURSE",
            "text": text, "ts": ts, "event_ts": ts}  # fmt: skip


def replica_env(schema: str, slack: FakeSlackApi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    return env | {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"{PG_URL}?search_path={schema}",
        "HANDLEDARBOT_HOST": "127.0.0.1",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": slack.base_url,
        "HANDLEDARBOT_TEAMS": "true",
        "HANDLEDARBOT_WEB": "true",
        "HANDLEDARBOT_WATCH_KNOWLEDGE": "false",
    }


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    schema = f"replicas_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f"CREATE SCHEMA {schema}")  # new and empty: both replicas migrate it
    slack = await FakeSlackApi().start()
    teams = await FakeConnector.start()
    env = replica_env(schema, slack)
    a = Replica("A", env, tmp_path / "a.log")
    b = Replica("B", env, tmp_path / "b.log")
    proxy = RoundRobin([a, b])
    async with aiohttp.ClientSession() as http:
        try:
            await asyncio.gather(a.start(http), b.start(http))  # together, on a new database
            await proxy.start()
            yield Cluster(a, b, proxy, slack, teams, http, schema)
        finally:
            await asyncio.gather(a.stop(), b.stop())
            await proxy.close()
            await slack.close()
            await teams.close()
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
            await conn.close()


async def test_two_replicas_answer_every_question_once_and_continue_each_others_conversations(
    cluster: Cluster, engine: Engine
) -> None:
    # Slack: every question answered once, although Slack retries each (to the other replica).
    channels = [f"D0Q{n}" for n in range(6)]
    events = {channel: (dm(ST_QUESTION, channel), f"Ev0Q{channel}") for channel in channels}
    for event, event_id in events.values():
        assert await cluster.slack_event(event, event_id) == 200
    for event, event_id in events.values():
        assert await cluster.slack_event(event, event_id, retry=1) == 200
    assert set(cluster.proxy.served) == {"A", "B"}
    # A retry of an event no replica took in (its first delivery died) is answered, once.
    lost = dm(ST_QUESTION, "D0LOST")
    assert await cluster.slack_event(lost, "Ev0LOST", retry=1) == 200
    await cluster.slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0LOST", 15)
    assert await cluster.slack_event(lost, "Ev0LOST", retry=2) == 200
    await cluster.slack_settle()
    for channel in [*channels, "D0LOST"]:
        replies = cluster.slack_replies(channel)
        assert len(replies) == 1, (channel, replies)
        assert "ST" in replies[0]

    # Slack: a clarification asked on one replica, answered with "3" on the other.
    await cluster.slack_event(dm(CLARIFY_QUESTION, "D0CLARIFY"), "Ev0CLARIFY")
    asked = await cluster.slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "D0CLARIFY", 15
    )
    await cluster.slack_event(dm("3", "D0CLARIFY"), "Ev0THREE")
    assert cluster.last_two[0] != cluster.last_two[1]
    await cluster.slack.wait_for(
        "chat.postMessage",
        lambda c: c.params["channel"] == "D0CLARIFY" and c is not asked,
        15,
    )
    options = engine.answer(CLARIFY_QUESTION).options
    third = engine.answer_option(options[2].value, "sv").paragraphs[0]
    assert third[:60] in cluster.slack_replies("D0CLARIFY")[1]

    # Teams: welcomed once when both replicas get the conversationUpdate; a clarification
    # asked on one replica is answered with "3" on the other.
    update = teams_activity(cluster.teams, None, type="conversationUpdate",
                            membersAdded=[{"id": BOT_ID}, {"id": "29:user-1"}],
                            conversation={"id": "a:welcome-1"})  # fmt: skip
    await cluster.teams_post(update, to="A")
    await cluster.teams_post({**update, "id": "act-update-2"}, to="B")
    asked_teams = await cluster.teams_ask(CLARIFY_QUESTION, "a:clarify-1")
    answered = await cluster.teams_ask("3", "a:clarify-1")
    assert cluster.last_two[0] != cluster.last_two[1]
    assert third[:60] in answered.text, answered.text
    assert asked_teams.text != answered.text
    welcomes = [p for p in cluster.teams.posted if p.conversation_id == "a:welcome-1"]
    assert len(welcomes) == 1

    # The web page: the same across replicas.
    session = "web-session-replicas-1"
    question = await cluster.web_ask(CLARIFY_QUESTION, session)
    assert question["status"] == "clarify"
    answer = await cluster.web_ask("3", session)
    assert cluster.last_two[0] != cluster.last_two[1]
    assert answer["status"] == "answer" and answer["paragraphs"][0] == third

    # A restart of one replica loses nothing: a clarification asked while A is down (on B) is
    # answered on the restarted A; Slack's replay of an answered event is not answered again.
    await cluster.a.stop()
    question = await cluster.web_ask(CLARIFY_QUESTION, "web-session-restart-1")
    assert question["status"] == "clarify" and cluster.proxy.served[-1] == "B"
    await cluster.a.start(cluster.http)
    answer = await cluster.web_ask("3", "web-session-restart-1", to="A")
    assert cluster.proxy.served[-1] == "A"
    assert answer["status"] == "answer" and answer["paragraphs"][0] == third
    replayed_event, replayed_id = events["D0Q0"]
    assert await cluster.slack_event(replayed_event, replayed_id, retry=3, to="A") == 200
    await cluster.slack_settle()
    assert len(cluster.slack_replies("D0Q0")) == 1


async def test_a_reminder_drafted_on_one_replica_is_confirmed_on_the_other(
    cluster: Cluster,
) -> None:
    session = "web-session-reminder-1"
    draft = await cluster.web_ask(
        "påminn mig varannan tisdag kl 14 om handledning med Anna", session
    )
    assert draft["kind"] == "reminder_confirm", draft
    saved = await cluster.web_ask("ja", session)
    assert cluster.last_two[0] != cluster.last_two[1]
    assert "Sparat" in saved["paragraphs"][0], saved
    await cluster.b.stop()
    await cluster.b.start(cluster.http)
    listing = await cluster.web_ask("mina påminnelser", session, to="B")
    assert "Handledning med Anna" in " ".join(listing["paragraphs"])
