"""Requests per second and latency through /slack/events and /api/messages, beside a bare endpoint.

    .venv/bin/python bench/bench_http.py [--requests 2000] [--concurrency 20]

A child process runs the real server app (`adapters.server.create_app`, the real knowledge base
and Service) with Slack over HTTP and Teams (unauthenticated) configured, plus, on a port of their
own, two bare aiohttp endpoints: `POST /bare` parses the JSON body and answers 200; `POST /relay`
parses it, answers 201 and then posts a small reply activity to the body's `serviceUrl` (one
shared client session), i.e. the HTTP work a bot endpoint does, without an SDK or an answer. All on
127.0.0.1. This process runs the load and the fakes the server talks to: a fake Slack Web API
(`auth.test`, `chat.postMessage`) and the fake Bot Framework connector from
tests/fakes/connector.py.

A Slack request is done when its `chat.postMessage` reaches the fake (bolt acknowledges first and
answers in the background); a Teams or relay request when its reply reaches the fake connector; a
bare request when its response arrives. Every request asks a real question in its own
channel/conversation, so replies can be matched to requests. Prints a Markdown table.

The CPU columns say which side limits a row (the machine may have only two cores): the server
process's CPU time per request and its share of the wall time, and the same share for this
process (load generator and fakes), from /proc and getrusage. A row whose server share is near
100 % is limited by the server; one whose load share is near 100 % by the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.connector import FakeConnector, Posted  # noqa: E402

QUESTION = "Vilken utbildning behöver en ST-handledare?"
SIGNING_SECRET = "bench-signing-secret"
BOT_USER = "UBENCHBOT"
Done = Callable[[str], None]


# --- the child: the server under test -------------------------------------------------------


async def _serve_child(slack_api: str, knowledge: str | None) -> None:
    from adapters.server import create_app
    from bot.app import build_service
    from bot.settings import load_settings

    settings = load_settings(env_file=None).model_copy(
        update={
            "slack_bot_token": "xoxb-bench",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_base_url": slack_api,
            "teams_enabled": True,
            **({"knowledge_dir": Path(knowledge)} if knowledge else {}),
        }
    )
    app = create_app(settings=settings, service=build_service(settings))
    bare = web.Application()
    bare.router.add_post("/bare", _bare)
    bare.router.add_post("/relay", _relay)
    bare.on_cleanup.append(_close_relay)
    ports = []
    for application in (app, bare):
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        ports.append(runner.addresses[0][1])
    print(json.dumps({"server": ports[0], "bare": ports[1]}), flush=True)
    await asyncio.Event().wait()


async def _bare(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response({"ok": True})


RELAY_SESSION: web.AppKey[ClientSession] = web.AppKey("relay_session")
_relaying: set[asyncio.Task[None]] = set()


async def _relay(request: web.Request) -> web.Response:
    """Acknowledge, then post a reply to the activity's serviceUrl: the HTTP a bot does, bare."""
    activity = await request.json()
    if RELAY_SESSION not in request.app:
        request.app[RELAY_SESSION] = ClientSession()
    session = request.app[RELAY_SESSION]
    url = (
        f"{activity['serviceUrl']}v3/conversations/{activity['conversation']['id']}"
        f"/activities/{activity['id']}"
    )
    reply = {"type": "message", "text": "ok", "replyToId": activity["id"]}

    async def post() -> None:
        async with session.post(url, json=reply) as response:
            await response.read()

    task = asyncio.create_task(post())
    _relaying.add(task)
    task.add_done_callback(_relaying.discard)
    return web.Response(status=201)


async def _close_relay(app: web.Application) -> None:
    if RELAY_SESSION in app:
        await app[RELAY_SESSION].close()


# --- this process: fakes and load -----------------------------------------------------------


class FakeSlackApi:
    """auth.test and chat.postMessage, enough for bolt; calls `done(channel)` per message."""

    def __init__(self) -> None:
        self.done: Done = lambda key: None
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._call)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/api/"

    async def _call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            body: dict[str, Any] = await request.json()
        else:
            body = dict(await request.post())
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "user_id": BOT_USER,
                    "bot_id": "BBENCH",
                    "team_id": "TBENCH",
                    "user": "handledarbot",
                }
            )
        if method == "chat.postMessage":
            self.done(str(body.get("channel")))
            return web.json_response(
                {
                    "ok": True,
                    "channel": body.get("channel"),
                    "ts": f"{time.time():.6f}",
                    "message": {},
                }
            )
        return web.json_response({"ok": True})


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    server_cpu: float | None = None  # seconds of CPU the server process used during the run
    load_cpu: float | None = None  # seconds of CPU this process (load + fakes) used

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


class Waiters:
    """Futures keyed by channel / conversation id, resolved when the fake receives the reply."""

    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[float]] = {}

    def expect(self, key: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._futures[key] = future
        return future

    def done(self, key: str) -> None:
        future = self._futures.pop(key, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())


def slack_request(url: str, n: int, run: str) -> tuple[str, bytes, dict[str, str]]:
    channel = f"C{run}{n:06d}"
    body = json.dumps(
        {
            "token": "x",
            "team_id": "TBENCH",
            "api_app_id": "ABENCH",
            "type": "event_callback",
            "event_id": f"Ev{run}{n:06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "TBENCH", "user_id": BOT_USER, "is_bot": True}],
            "event": {
                "type": "app_mention",
                "user": "UASKER",
                "text": f"<@{BOT_USER}> {QUESTION}",
                "channel": channel,
                "ts": f"{time.time():.6f}",
                "event_ts": "1.0",
            },
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return channel, body, headers


def teams_request(connector: str, n: int, run: str) -> tuple[str, bytes, dict[str, str]]:
    conversation = f"a:bench-{run}-{n}"
    body = json.dumps(
        {
            "type": "message",
            "id": f"act-{n}",
            "channelId": "msteams",
            "serviceUrl": connector,
            "text": QUESTION,
            "from": {"id": "29:user", "aadObjectId": "aad-user"},
            "recipient": {"id": "28:bot", "name": "Handledarbot"},
            "conversation": {"id": conversation, "conversationType": "personal"},
            "channelData": {"tenant": {"id": "t-bench"}},
        }
    ).encode()
    return conversation, body, {"Content-Type": "application/json"}


async def run_load(
    name: str,
    http: ClientSession,
    url: str,
    make: Callable[[int], tuple[str, bytes, dict[str, str]]],
    waiters: Waiters | None,
    total: int,
    concurrency: int,
) -> Result:
    latencies: list[float] = []
    failures = 0
    counter = iter(range(total))

    async def one(n: int) -> None:
        nonlocal failures
        key, body, headers = make(n)
        reply = waiters.expect(key) if waiters else None
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            ok = response.status < 300
        if not ok:
            failures += 1
            return
        finished = await asyncio.wait_for(reply, 30) if reply else time.perf_counter()
        latencies.append(finished - started)

    async def worker() -> None:
        for n in counter:
            await one(n)

    begun = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, total, time.perf_counter() - begun, latencies, failures)


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` so far (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def with_cpu(pid: int, run: Awaitable[Result]) -> Result:
    """`run`, with the CPU time the server process and this one spent during it."""
    server_before, load_before = process_cpu(pid), own_cpu()
    result = await run
    server_after, load_after = process_cpu(pid), own_cpu()
    if server_before is not None and server_after is not None:
        result.server_cpu = server_after - server_before
    result.load_cpu = load_after - load_before
    return result


async def main(total: int, concurrency: int, knowledge: str | None) -> list[Result]:
    slack_api = FakeSlackApi()
    slack_url = await slack_api.start()
    connector = await FakeConnector.start()
    slack_waiters, teams_waiters = Waiters(), Waiters()
    slack_api.done = slack_waiters.done
    connector.listeners.append(lambda posted: teams_waiters.done(_conversation(posted)))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        slack_url,
        *(["--knowledge", knowledge] if knowledge else []),
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        ports = json.loads(await asyncio.wait_for(child.stdout.readline(), 60))
        server = f"http://127.0.0.1:{ports['server']}"
        bare = f"http://127.0.0.1:{ports['bare']}/bare"
        relay = f"http://127.0.0.1:{ports['bare']}/relay"
        async with ClientSession(connector=TCPConnector(limit=concurrency * 2)) as http:
            plans: list[tuple[str, str, Callable[[str], Callable[[int], Any]], Waiters | None]] = [
                (
                    "bare aiohttp endpoint",
                    bare,
                    lambda run: lambda n: teams_request(connector.url, n, run),
                    None,
                ),
                (
                    "bare relay (answer 201, post a reply to the fake connector)",
                    relay,
                    lambda run: lambda n: teams_request(connector.url, n, "r" + run),
                    teams_waiters,
                ),
                (
                    "/slack/events (app_mention → chat.postMessage)",
                    server + "/slack/events",
                    lambda run: lambda n: slack_request(server, n, run),
                    slack_waiters,
                ),
                (
                    "/api/messages (message → reply activity)",
                    server + "/api/messages",
                    lambda run: lambda n: teams_request(connector.url, n, run),
                    teams_waiters,
                ),
            ]
            results = []
            for name, url, make, waiters in plans:
                await run_load(name, http, url, make("w"), waiters, 100, concurrency)  # warm-up
                results.append(
                    await with_cpu(
                        child.pid,
                        run_load(name, http, url, make("m"), waiters, total, concurrency),
                    )
                )
        return results
    finally:
        child.terminate()
        await child.wait()
        await connector.close()
        if slack_api.runner:
            await slack_api.runner.cleanup()


def _conversation(posted: Posted) -> str:
    return posted.conversation_id


def table(results: list[Result], concurrency: int) -> str:
    bare = results[0].rate
    lines = [
        f"| endpoint (concurrency {concurrency}) | requests | failed | req/s | p50 ms | p99 ms "
        "| server CPU µs/req | server CPU | load CPU | vs bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per_request = f"{r.server_cpu / r.requests * 1e6:,.0f}" if r.server_cpu else "–"
        server_share = f"{r.server_cpu / r.seconds:.0%}" if r.server_cpu else "–"
        load_share = f"{r.load_cpu / r.seconds:.0%}" if r.load_cpu else "–"
        lines.append(
            f"| {r.name} | {r.requests} | {r.failures} | {r.rate:,.0f} | {r.percentile(50):.1f} "
            f"| {r.percentile(99):.1f} | {per_request} | {server_share} | {load_share} "
            f"| {r.rate / bare:.0%} |"
        )
    return "\n".join(lines)


def _run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--knowledge", help="knowledge directory (default: the settings' own)")
    parser.add_argument("--child", metavar="SLACK_API_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _run(_serve_child(args.child, args.knowledge))
    else:
        if not 1 <= args.requests <= 20_000:
            parser.error("--requests must be between 1 and 20000")
        measured = _run(main(args.requests, args.concurrency, args.knowledge))
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, server in one process\n")
        print(table(measured, args.concurrency))
        print(
            "\nmean latency ms: "
            + ", ".join(
                f"{r.name.split(' (')[0]} {statistics.fmean(r.latencies) * 1000:.1f}"
                for r in measured
            )
        )
