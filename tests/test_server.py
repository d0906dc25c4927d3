"""The one server: what it hosts for which settings, /healthz, Socket Mode, start and stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from adapters.server import (
    ADAPTERS,
    SLACK_SENDER,
    SLACK_SOCKET,
    SocketMode,
    create_app,
    run,
    senders,
    serve,
    validate,
)
from adapters.slack import SlackSender
from adapters.teams import TeamsSender
from bot.answering.engine import Engine
from bot.messages import Message, Reply, Status
from bot.service import Service
from bot.settings import Settings, load_settings
from tests.conftest import ENV_PREFIXES, ROOT
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlackApi
from tests.test_slack import sign

BOT_TOKEN = "xoxb-1-handledarbot"
APP_TOKEN = "xapp-1-A0HANDLED-1-abc"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    env = {"HANDLEDARBOT_WEB": "false", **env}  # the web page has tests of its own
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(env_file=None)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SECRET}, "xoxb-"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN}, "xapp-"),
        ({"MICROSOFT_APP_PASSWORD": "pw"}, "MICROSOFT_APP_ID"),
        ({"MICROSOFT_APP_ID": "id"}, "MICROSOFT_APP_PASSWORD"),
        (
            {"MICROSOFT_APP_ID": "id", "MICROSOFT_APP_PASSWORD": "pw",
             "MICROSOFT_APP_TYPE": "SingleTenant"},
            "MICROSOFT_APP_TENANT_ID",
        ),
        ({"HANDLEDARBOT_TEAMS": "true", "MICROSOFT_APP_TYPE": "Multi"}, "MICROSOFT_APP_TYPE"),
        ({}, "No chat platform is configured"),
    ],
)  # fmt: skip
def test_incomplete_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], missing: str
) -> None:
    problems = validate(settings_with(monkeypatch, **env))
    assert [p for p in problems if missing in p], problems


@pytest.mark.parametrize(
    "env",
    [
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET},
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN},
        {"HANDLEDARBOT_TEAMS": "true"},
        {"MICROSOFT_APP_ID": "id", "MICROSOFT_APP_PASSWORD": "pw",
         "MICROSOFT_APP_TYPE": "SingleTenant", "MICROSOFT_APP_TENANT_ID": "tenant"},
    ],
)  # fmt: skip
def test_complete_configurations_pass(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    assert validate(settings_with(monkeypatch, **env)) == []


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def test_healthz_names_knowledge_version_and_adapters(
    monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession, engine: Engine
) -> None:
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
                             HANDLEDARBOT_TEAMS="true")  # fmt: skip
    service = Service(engine=engine)
    runner, url = await start(create_app(settings=settings, service=service))
    try:
        async with http.get(f"{url}/healthz") as response:
            assert response.status == 200
            body = await response.json()
        assert body == {"status": "ok", "knowledge_version": service.engine.version,
                        "adapters": ["slack-http", "teams"]}  # fmt: skip
        assert isinstance(body["knowledge_version"], str) and body["knowledge_version"]
        async with http.post(f"{url}/slack/events", data=b"{}") as response:
            assert response.status == 401  # routed to bolt, which wants a signature
    finally:
        await runner.cleanup()


async def test_only_configured_adapters_are_routed(
    monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession, engine: Engine
) -> None:
    settings = settings_with(monkeypatch, HANDLEDARBOT_TEAMS="true")
    runner, url = await start(create_app(settings=settings, service=Service(engine=engine)))
    try:
        async with http.post(f"{url}/slack/events", data=b"{}") as response:
            assert response.status in (404, 405)
        async with http.get(f"{url}/healthz") as response:
            assert (await response.json())["adapters"] == ["teams"]
    finally:
        await runner.cleanup()


def test_app_token_chooses_socket_mode(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                             SLACK_SIGNING_SECRET=SECRET)  # fmt: skip
    app = create_app(settings=settings, service=Service(engine=engine))
    assert app[SLACK_SOCKET] == SocketMode(app_token=APP_TOKEN)  # connected at start-up
    assert app[ADAPTERS] == ["slack-socket"]
    assert isinstance(app[SLACK_SENDER], SlackSender)
    assert "/slack/events" not in {r.resource.canonical for r in app.router.routes() if r.resource}


def test_without_app_token_slack_is_served_over_http(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET)
    app = create_app(settings=settings, service=Service(engine=engine))
    assert SLACK_SOCKET not in app
    assert app[ADAPTERS] == ["slack-http"]


async def test_socket_mode_answers_over_the_socket(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """The server opens the socket at start, answers an event from it and closes it at stop."""
    api = await FakeSlackApi().start()
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                             SLACK_API_BASE_URL=api.base_url)  # fmt: skip
    runner, _ = await start(create_app(settings=settings, service=Service(engine=engine)))
    try:
        opened = await api.wait_for("apps.connections.open")
        assert opened.token == APP_TOKEN
        event = {"type": "app_mention", "channel": "C0SOCK", "user": "U0NURSE", "ts": "1.5",
                 "text": f"<@{BOT_USER_ID}> hjälp", "event_ts": "1.5"}  # fmt: skip
        await api.push({
            "envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": 0, "retry_reason": "",
            "payload": {"type": "event_callback", "team_id": TEAM_ID, "api_app_id": "A0HANDLED",
                        "event_id": "Ev0SOCK", "event_time": 1, "event": event,
                        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                            "is_bot": True}]},
        })  # fmt: skip
        ack = await api.wait_for("socket_message", lambda c: c.params.get("envelope_id") == "env-1")
        assert ack.params == {"envelope_id": "env-1"}
        reply = await api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C0SOCK")
        assert reply.params["thread_ts"] == "1.5"
        assert "Handledarbot" in json.dumps(reply.params["blocks"], ensure_ascii=False)
    finally:
        await runner.cleanup()
    await api.wait_for("socket_closed")
    await api.close()


def _envelope(envelope_id: str, event_id: str, event: dict[str, Any], *, retry: int = 0,
              reason: str = "") -> dict[str, Any]:
    return {
        "envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
        "retry_attempt": retry, "retry_reason": reason,
        "payload": {"type": "event_callback", "team_id": TEAM_ID, "api_app_id": "A0HANDLED",
                    "event_id": event_id, "event_time": 1, "event": event,
                    "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                        "is_bot": True}]},
    }  # fmt: skip


async def test_socket_mode_drops_a_retry_and_survives_a_reconnect(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """Slack retries an envelope it thinks unanswered and rotates sockets: one answer each,
    and events on the new socket are answered."""
    api = await FakeSlackApi().start()
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                             SLACK_API_BASE_URL=api.base_url)  # fmt: skip
    runner, _ = await start(create_app(settings=settings, service=Service(engine=engine)))
    try:
        event = {"type": "app_mention", "channel": "C0RETRY", "user": "U0NURSE", "ts": "2.5",
                 "text": f"<@{BOT_USER_ID}> hjälp", "event_ts": "2.5"}  # fmt: skip
        await api.push(_envelope("env-a", "Ev0RETRY", event))
        await api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C0RETRY")
        await api.push(_envelope("env-b", "Ev0RETRY", event, retry=1, reason="timeout"))
        await api.wait_for("socket_message", lambda c: c.params.get("envelope_id") == "env-b")

        await api.drop()  # Slack rotates the connection
        await api.wait_for("socket_closed")
        await api.wait_for("apps.connections.open", lambda c: len(api.calls_to("socket_open")) >= 2,
                           timeout=15)  # fmt: skip
        await api.wait_for("socket_open", lambda c: len(api.calls_to("socket_open")) >= 2, timeout=15)
        later = {**event, "channel": "C0AFTER", "ts": "3.5", "event_ts": "3.5"}
        await api.push(_envelope("env-c", "Ev0AFTER", later))
        await api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C0AFTER", timeout=10)
        assert len([c for c in api.calls_to("chat.postMessage")
                    if c.params["channel"] == "C0RETRY"]) == 1  # fmt: skip
    finally:
        await runner.cleanup()
    await api.close()


# --- `serve` as a process: the way `handledarbot serve` runs it -----------------------------

SERVE = "import sys; from adapters.cli import main; sys.exit(main(['serve']))"


async def spawn_serve(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`handledarbot serve` in a fresh directory (no .env), on a free port (PORT=0)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env = {**clean, "PYTHONPATH": str(ROOT), "PORT": "0", **env}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, cwd=cwd, env=env, stderr=asyncio.subprocess.PIPE
    )


async def listening_url(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    said: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "serve exited before listening:\n" + "".join(said)
        said.append(line)
        if "listening on" in line:
            return line.split("listening on ")[1].split()[0]


async def test_serve_runs_until_sigterm(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    process = await spawn_serve({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                                 "SLACK_API_BASE_URL": "http://127.0.0.1:9/api/"}, tmp_path)  # fmt: skip
    try:
        url = await listening_url(process)
        async with http.get(f"{url}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["adapters"] == ["slack-http", "web"]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_refuses_an_incomplete_configuration(tmp_path: Path) -> None:
    process = await spawn_serve({"SLACK_BOT_TOKEN": BOT_TOKEN}, tmp_path)
    assert process.stderr is not None
    stderr = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
    assert await asyncio.wait_for(process.wait(), 15) == 2
    assert "SLACK_SIGNING_SECRET" in stderr and "listening" not in stderr


def test_run_reports_problems_without_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine
) -> None:
    settings = settings_with(monkeypatch, SLACK_APP_TOKEN=APP_TOKEN)
    assert run(settings, Service(engine=engine), port=0) == 2
    assert "SLACK_BOT_TOKEN is missing" in capsys.readouterr().err


class HeldAnswer:
    """A command whose answer waits for `release`: an answer still being worked on."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def try_handle(self, message: Message) -> Reply | None:
        if message.text != "vänta":
            return None
        self.started.set()
        await self.release.wait()
        return Reply(status=Status.ANSWER, lang="sv", paragraphs=("Klart efter väntan",))


async def test_shutdown_lets_answers_in_progress_finish(
    monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession, engine: Engine
) -> None:
    api = await FakeSlackApi().start()
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
                             SLACK_API_BASE_URL=api.base_url)  # fmt: skip
    held = HeldAnswer()
    service = Service(engine=engine, commands=[held])
    runner, url = await start(create_app(settings=settings, service=service))
    body = json.dumps({"type": "event_callback", "team_id": TEAM_ID, "event_id": "Ev0HELD",
                       "event": {"type": "message", "channel_type": "im", "channel": "D0HELD",
                                 "user": "U0NURSE", "text": "vänta", "ts": "1.7"}})  # fmt: skip
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": sign(stamp, body, SECRET)}  # fmt: skip
    async with http.post(f"{url}/slack/events", data=body, headers=headers) as response:
        assert response.status == 200
    await asyncio.wait_for(held.started.wait(), 5)
    stopping = asyncio.create_task(runner.cleanup())
    done, _ = await asyncio.wait({stopping}, timeout=0.3)
    assert not done, "shutdown did not wait for the answer in progress"
    held.release.set()
    await asyncio.wait_for(stopping, 10)
    assert [c for c in api.calls_to("chat.postMessage") if c.params["channel"] == "D0HELD"]
    await api.close()


async def test_serve_hands_the_app_to_setup_and_senders_to_reminders(
    monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession, engine: Engine
) -> None:
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
                             HANDLEDARBOT_TEAMS="true")  # fmt: skip
    events: list[str] = []
    found: dict[str, object] = {}
    listening: asyncio.Queue[str] = asyncio.Queue()

    def setup(app: web.Application) -> None:
        found.update(senders(app))

        async def started(app: web.Application) -> None:
            events.append("started")

        async def cleaned(app: web.Application) -> None:
            events.append("cleaned up")

        app.on_startup.append(started)
        app.on_cleanup.append(cleaned)

    serving = asyncio.create_task(
        serve(settings, Service(engine=engine), port=0, announce=listening.put_nowait, setup=setup)
    )
    line = await asyncio.wait_for(listening.get(), 10)
    url = line.split("listening on ")[1].split()[0]
    async with http.get(f"{url}/healthz") as response:
        assert response.status == 200
    os.kill(os.getpid(), signal.SIGTERM)  # serve's own handler stops it
    await asyncio.wait_for(serving, 10)
    assert events == ["started", "cleaned up"]
    assert isinstance(found.pop("slack"), SlackSender)
    assert isinstance(found.pop("teams"), TeamsSender)
    assert not found


async def test_slack_is_acknowledged_before_the_answer_is_ready(
    monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession, engine: Engine
) -> None:
    """Slack wants its 200 within 3 s, however long the answer takes."""
    api = await FakeSlackApi().start()
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
                             SLACK_API_BASE_URL=api.base_url)  # fmt: skip
    held = HeldAnswer()
    runner, url = await start(
        create_app(settings=settings, service=Service(engine=engine, commands=[held]))
    )
    event = json.dumps({"type": "event_callback", "team_id": TEAM_ID, "event_id": "Ev0SLOW",
                        "event": {"type": "message", "channel_type": "im", "channel": "D0SLOW",
                                  "user": "U0NURSE", "text": "vänta", "ts": "1.8"}})  # fmt: skip
    command = urlencode({"command": "/handledning", "text": "vänta", "team_id": TEAM_ID,
                         "channel_id": "C0SLOW", "user_id": "U0NURSE",
                         "response_url": api.response_url("slow")})  # fmt: skip
    try:
        for body, kind in (
            (event, "application/json"),
            (command, "application/x-www-form-urlencoded"),
        ):
            stamp = str(int(time.time()))
            headers = {"Content-Type": kind, "X-Slack-Request-Timestamp": stamp,
                       "X-Slack-Signature": sign(stamp, body, SECRET)}  # fmt: skip
            async with http.post(
                f"{url}/slack/events", data=body, headers=headers, timeout=aiohttp.ClientTimeout(3)
            ) as response:
                assert response.status == 200
        assert not api.calls_to("chat.postMessage") and not api.calls_to("response_url")
        held.release.set()
        await api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0SLOW")
        await api.wait_for("response_url", lambda c: c.params["name"] == "slow")
    finally:
        await runner.cleanup()
        await api.close()
