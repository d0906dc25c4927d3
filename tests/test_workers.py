"""`handledarbot serve --workers 2` on one port and one SQLite file behaves as one bot: both
workers answer, a clarification asked on one is answered on the other, a Slack retry that lands
on the other worker is not answered twice; the supervisor stops the workers on SIGTERM and stops
everything when a worker dies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.answering.engine import Engine
from tests.conftest import ENV_PREFIXES, ROOT
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlackApi
from tests.test_slack import BOT_TOKEN, CLARIFY_QUESTION, SECRET, ST_QUESTION, sign

pytestmark = pytest.mark.slow

START_TIMEOUT = 60.0
REPLY_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Workers:
    process: asyncio.subprocess.Process
    url: str
    log: Path
    slack: FakeSlackApi

    async def pinned(self, pid: int) -> aiohttp.ClientSession:
        """A client whose one kept-alive connection is served by worker `pid`."""
        for _ in range(200):
            client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
            if await pid_of(client, self.url) == pid:
                return client
            await client.close()
        raise AssertionError(f"no connection reached worker {pid}")

    async def slack_event(
        self, client: aiohttp.ClientSession, event: dict[str, Any], event_id: str, retry: int = 0
    ) -> int:
        body = json.dumps({
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0HANDLED",
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            "event": event,
        })  # fmt: skip
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": sign(stamp, body, SECRET)}  # fmt: skip
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        async with client.post(f"{self.url}/slack/events", data=body.encode(),
                               headers=headers) as response:  # fmt: skip
            await response.read()
            return response.status

    def replies(self, channel: str) -> list[str]:
        return [
            json.dumps(c.params, ensure_ascii=False)
            for c in self.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel
        ]


async def pid_of(client: aiohttp.ClientSession, url: str) -> int:
    async with client.get(f"{url}/healthz") as response:
        assert response.status == 200
        return int((await response.json())["pid"])


async def web_ask(client: aiohttp.ClientSession, url: str, text: str) -> dict[str, Any]:
    async with client.post(f"{url}/api/chat", json={"text": text, "session": "workers-session-0001"}) as response:
        assert response.status == 200, await response.text()
        reply: dict[str, Any] = await response.json()
        return reply


def dm(text: str, channel: str, ts: str) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "channel": channel, "user": "U0NURSE",
            "text": text, "ts": ts, "event_ts": ts}  # fmt: skip


async def _started(process: asyncio.subprocess.Process, url: str, log: Path) -> set[int]:
    """The worker pids once both answer /healthz (each request on a new connection)."""
    seen: set[int] = set()
    deadline = time.monotonic() + START_TIMEOUT
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as fresh:
        while len(seen) < 2 and time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"serve exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                seen.add(await pid_of(fresh, url))
                continue
            await asyncio.sleep(0.2)
    assert len(seen) == 2, (seen, log.read_text()[-2000:])
    return seen


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[Workers]:
    slack = await FakeSlackApi().start()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)} | {
        "PYTHONPATH": str(ROOT),
        "HANDLEDARBOT_SQLITE_PATH": str(tmp_path / "bot.sqlite3"),
        "HANDLEDARBOT_WORKERS": "2",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": slack.base_url,
        "HANDLEDARBOT_WEB": "true",
        "HANDLEDARBOT_WATCH_KNOWLEDGE": "false",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "adapters.cli", "serve", "--port", str(port),
            env=env, cwd=tmp_path, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        yield Workers(process, f"http://127.0.0.1:{port}", log, slack)
    finally:
        if process.returncode is None:
            process.kill()  # its workers get SIGTERM from the kernel (PR_SET_PDEATHSIG)
            await process.wait()
        await slack.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _gone(pids: set[int]) -> None:
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


async def test_two_workers_share_one_port_and_continue_each_others_conversations(
    workers: Workers, engine: Engine
) -> None:
    first, second = sorted(await _started(workers.process, workers.url, workers.log))
    a, b = await workers.pinned(first), await workers.pinned(second)
    try:
        # The web page: a clarification asked on one worker, answered with "3" on the other.
        options = engine.answer(CLARIFY_QUESTION).options
        third = engine.answer_option(options[2].value, "sv").paragraphs[0]
        asked = await web_ask(a, workers.url, CLARIFY_QUESTION)
        assert asked["status"] == "clarify"
        answered = await web_ask(b, workers.url, "3")
        assert answered["status"] == "answer" and answered["paragraphs"][0] == third

        # Slack: a question taken in by one worker and retried to the other is answered once.
        assert await workers.slack_event(a, dm(ST_QUESTION, "D0ONCE", "1.000001"), "Ev0ONCE") == 200
        await workers.slack.wait_for(
            "chat.postMessage", lambda c: c.params["channel"] == "D0ONCE", REPLY_TIMEOUT
        )
        retried = dm(ST_QUESTION, "D0ONCE", "1.000001")
        assert await workers.slack_event(b, retried, "Ev0ONCE", retry=1) == 200

        # Slack: a clarification asked on one worker, answered with "3" on the other; by the
        # time it is answered, the retry above had its chance to be answered too.
        await workers.slack_event(a, dm(CLARIFY_QUESTION, "D0CLAR", "2.000001"), "Ev0CLAR")
        await workers.slack.wait_for(
            "chat.postMessage", lambda c: c.params["channel"] == "D0CLAR", REPLY_TIMEOUT
        )
        await workers.slack_event(b, dm("3", "D0CLAR", "2.000002"), "Ev0THREE")
        await workers.slack.wait_for(
            "chat.postMessage",
            lambda c: c.params["channel"] == "D0CLAR" and third[:40] in json.dumps(
                c.params, ensure_ascii=False
            ),
            REPLY_TIMEOUT,
        )
        assert len(workers.replies("D0ONCE")) == 1
    finally:
        await a.close()
        await b.close()

    workers.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(workers.process.wait(), 40) == 0
    await _gone({first, second})


async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_fails(
    workers: Workers,
) -> None:
    first, second = await _started(workers.process, workers.url, workers.log)
    os.kill(first, signal.SIGKILL)
    assert await asyncio.wait_for(workers.process.wait(), 40) != 0
    await _gone({first, second})


async def test_workers_stop_when_the_supervisor_is_killed(workers: Workers) -> None:
    pids = await _started(workers.process, workers.url, workers.log)
    workers.process.kill()
    await workers.process.wait()
    await _gone(pids)
