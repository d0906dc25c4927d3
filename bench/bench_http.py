"""Server CPU per request and throughput of /slack/events, /api/messages and /api/chat, with wrk
as the load, beside bare aiohttp endpoints; `serve` with 1 and 2 workers.

    .venv/bin/python bench/bench_http.py [--duration 10] [--connections 20] [--runs 3]

Needs wrk (Debian's package: `apt-get install wrk`). Per run, in this order:

- a child process with the bare endpoints, one aiohttp app with the access log off:
  `POST /bare` parses the JSON body and answers 200; `POST /relay` parses a Teams activity,
  answers 201 and posts a small reply activity to its `serviceUrl` (one client session): the HTTP
  a bot endpoint does, without an SDK; `POST /relay-answer` is the relay whose reply is the
  knowledge base's answer to the activity's text (`Service(engine=...)`, nothing stored);
  `POST /relay-answer-stored` the relay whose reply comes from the service `serve` runs
  (`build_runtime`: rate limit, conversation state and journal in a SQLite file);
- `handledarbot serve` itself (`python -m adapters.cli serve`, Slack over HTTP and Teams
  unauthenticated, a fresh SQLite file for the store and the shared state, the access log at its
  default), once with 1 worker and once with `--workers 2`.

wrk (its own process) sends pre-built requests, each a new question from a new user in its own
conversation (so every Slack event has its own event id and a valid signature): see
bench/wrk_post.lua. This process runs the fakes the server talks to (the Slack Web API's
`auth.test` and `chat.postMessage`, the Bot Framework connector of tests/fakes/connector.py) and
counts the replies they receive. A row is done when every request wrk sent has its reply (or the
replies stop coming for 3 s); the server's CPU (user + system, from /proc, summed over the
supervisor and its workers) over that time divided by the replies is "CPU µs/req"; replies over
the time from wrk's start to the last reply is "req/s".

The ratios printed under the table are the issue's targets: /slack/events ≤ 2× and
/api/messages ≤ 3× the CPU of the relay with the answer; 2 workers ≥ 1.8× the rate of 1. The load
side (wrk, and this process's fakes and counting) runs on the same cores: "load side, cores" is
its CPU over the row divided by the row's time, and the "ceiling" beside each 2-worker ratio is
the rate the cores it left would give at one worker's CPU per reply, over one worker's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.connector import FakeConnector  # noqa: E402

QUESTION = "Vilken utbildning behöver en ST-handledare?"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
BOT_USER = "UBENCHBOT"
LUA = ROOT / "bench" / "wrk_post.lua"
WARM_UP = 2  # seconds of load before each measured row
SETTLE = 3.0  # seconds without a new reply after which a row stops waiting
SERVE_HOST = "127.0.0.2"
ENV_PREFIXES = ("HANDLEDARBOT_", "SLACK_", "MICROSOFT_", "DATABASE_URL", "PORT")


# --- the bare endpoints (a child process) ----------------------------------------------------

RELAY_SESSION: web.AppKey[ClientSession] = web.AppKey("relay_session")
ANSWER: web.AppKey[Callable[[str], Any]] = web.AppKey("answer")
_relaying: set[asyncio.Task[None]] = set()


async def _serve_bare(port: int) -> None:
    from bot.app import build_engine, build_runtime
    from bot.messages import Message
    from bot.service import Service
    from bot.settings import load_settings

    settings = load_settings(env_file=None)
    engine = build_engine(settings)
    bare_service = Service(engine=engine)
    runtime = await build_runtime(settings, {}, engine=engine)

    async def answer(activity: dict[str, Any], stored: bool) -> str:
        message = Message(
            text=activity["text"],
            user_id=activity["from"]["id"],
            conversation_id=activity["conversation"]["id"],
            platform="teams",
        )
        service = runtime.service if stored else bare_service
        return "\n\n".join((await service.handle(message)).paragraphs)

    app = web.Application()
    app[ANSWER] = answer
    app.router.add_post("/bare", _bare)
    app.router.add_post("/relay", _relay)
    app.router.add_post("/relay-answer", _relay)
    app.router.add_post("/relay-answer-stored", _relay)
    app.on_startup.append(_open_relay)
    app.on_cleanup.append(_close_relay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def _bare(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response({"ok": True})


async def _relay(request: web.Request) -> web.Response:
    """Acknowledge, then post a reply to the activity's serviceUrl: the HTTP a bot does, bare."""
    activity = await request.json()
    with_answer = request.path.startswith("/relay-answer")
    stored = request.path == "/relay-answer-stored"
    session, answer = request.app[RELAY_SESSION], request.app[ANSWER]
    url = (
        f"{activity['serviceUrl']}v3/conversations/{activity['conversation']['id']}"
        f"/activities/{activity['id']}"
    )

    async def post() -> None:
        text = await answer(activity, stored) if with_answer else "ok"
        reply = {"type": "message", "text": text, "replyToId": activity["id"]}
        async with session.post(url, json=reply) as response:
            await response.read()

    task = asyncio.create_task(post())
    _relaying.add(task)
    task.add_done_callback(_relaying.discard)
    return web.Response(status=201)


async def _open_relay(app: web.Application) -> None:
    app[RELAY_SESSION] = ClientSession()


async def _close_relay(app: web.Application) -> None:
    await app[RELAY_SESSION].close()


# --- this process: fakes, requests, wrk ------------------------------------------------------


class FakeSlackApi:
    """auth.test and chat.postMessage, enough for bolt; counts the messages posted."""

    def __init__(self) -> None:
        self.posted = 0
        self.last = 0.0
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
        await request.read()
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": BOT_USER, "bot_id": "BBENCH",
                                      "team_id": "TBENCH", "user": "handledarbot"})  # fmt: skip
        if method == "chat.postMessage":
            self.posted += 1
            self.last = time.perf_counter()
            return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "message": {}})
        return web.json_response({"ok": True})


class Replies:
    """The replies the fakes received so far, and when the last one came."""

    def __init__(self, slack: FakeSlackApi, connector: FakeConnector) -> None:
        self._slack = slack
        self._connector = connector
        self.teams_last = 0.0
        connector.listeners.append(self._teams)

    def _teams(self, posted: object) -> None:
        self.teams_last = time.perf_counter()

    def count(self) -> int:
        return self._slack.posted + len(self._connector.posted)

    def last(self) -> float:
        return max(self._slack.last, self.teams_last)


Line = str  # one request for wrk_post.lua: tab-separated headers, then the body


def slack_lines(run: str, count: int) -> Iterator[Line]:
    stamp = str(int(time.time()))
    for n in range(count):
        body = json.dumps({
            "token": "x", "team_id": "TBENCH", "api_app_id": "ABENCH", "type": "event_callback",
            "event_id": f"Ev{run}{n:07d}", "event_time": int(stamp),
            "authorizations": [{"team_id": "TBENCH", "user_id": BOT_USER, "is_bot": True}],
            "event": {"type": "app_mention", "user": f"U{run}{n:07d}",
                      "text": f"<@{BOT_USER}> {QUESTION}", "channel": f"C{run}{n:07d}",
                      "ts": f"{stamp}.{n:06d}", "event_ts": f"{stamp}.{n:06d}"},
        }, ensure_ascii=False)  # fmt: skip
        digest = hmac.new(
            SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        yield (
            f"Content-Type: application/json\tX-Slack-Request-Timestamp: {stamp}\t"
            f"X-Slack-Signature: v0={digest}\t{body}"
        )


def teams_lines(run: str, count: int, connector: str) -> Iterator[Line]:
    for n in range(count):
        body = json.dumps({
            "type": "message", "id": f"act-{n}", "channelId": "msteams", "serviceUrl": connector,
            "text": QUESTION, "from": {"id": f"29:user-{run}-{n}", "aadObjectId": f"aad-{n}"},
            "recipient": {"id": "28:bot", "name": "Handledarbot"},
            "conversation": {"id": f"a:bench-{run}-{n}", "conversationType": "personal"},
            "channelData": {"tenant": {"id": "t-bench"}},
        }, ensure_ascii=False)  # fmt: skip
        yield f"Content-Type: application/json\t{body}"


def chat_lines(run: str, count: int) -> Iterator[Line]:
    for n in range(count):
        body = json.dumps({"text": QUESTION, "session": f"bench-{run}-{n:010d}"},
                          ensure_ascii=False)  # fmt: skip
        yield f"Content-Type: application/json\t{body}"


@dataclass
class Row:
    name: str
    requests: int = 0  # what wrk sent
    replies: int = 0  # replies counted (for endpoints that answer in the response: responses)
    seconds: float = 0.0
    cpu: float = 0.0  # server CPU seconds over the row
    failed: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    load_cpu: float = 0.0  # CPU s of the load side over the row: wrk, this process (fakes)

    @property
    def rate(self) -> float:
        return self.replies / self.seconds if self.seconds else 0.0

    @property
    def load_cores(self) -> float:
        """Cores the load side kept busy during the row (wrk and the fakes)."""
        return self.load_cpu / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.replies * 1e6 if self.replies else float("nan")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (Linux /proc); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """`pid` and its children (a `serve --workers N` supervisor and its workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [pid, *(int(c) for c in children.read().split())]
    except OSError:
        return [pid]


def cpu_of(pids: list[int]) -> float:
    return sum(process_cpu(p) for p in pids)


def load_side_cpu() -> float:
    """CPU seconds (user + system) of this process (the fakes, the reply counting) and of its
    children that have been waited for (every finished wrk; the servers are still running)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_http(url: str, process: asyncio.subprocess.Process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    async with ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{url}: the server exited ({process.returncode})")
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Bench:
    duration: float
    connections: int
    work: Path
    slack: FakeSlackApi
    connector: FakeConnector
    slack_url: str
    replies: Replies
    runs: int = field(default=0)

    def env(self, sqlite: Path) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
        return clean | {
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_BASE_URL": self.slack_url,
            "HANDLEDARBOT_TEAMS": "true",
            "HANDLEDARBOT_WEB": "true",
            "HANDLEDARBOT_WATCH_KNOWLEDGE": "false",
            "HANDLEDARBOT_SQLITE_PATH": str(sqlite),
            # Every request comes from its own user, except on the web page in local mode
            # (user "local"): the limit is checked on every message but never reached.
            "HANDLEDARBOT_RATE_LIMIT": "1000000000",
            "HANDLEDARBOT_LOG_LEVEL": "WARNING",
        }

    async def start(self, argv: list[str], env: dict[str, str], probe: str) -> Any:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, cwd=self.work, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        await wait_http(probe, process)
        return process

    async def wrk(self, url: str, lines: list[Line], seconds: int | None = None) -> dict[str, Any]:
        self.runs += 1
        requests = self.work / f"requests-{self.runs}.txt"
        requests.write_text("\n".join(lines) + "\n", encoding="utf-8")
        wrk = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{self.connections}", f"-d{seconds or int(self.duration)}s", "--latency",
            "-s", str(LUA), url, "--", str(requests), "1",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        output = (await wrk.communicate())[0].decode()
        requests.unlink()
        found = re.search(r"^WRKJSON (.*)$", output, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"wrk said:\n{output}")
        result: dict[str, Any] = json.loads(found.group(1))
        return result

    async def row(
        self, name: str, url: str, lines: Callable[[str, int], list[Line]], pids: list[int],
        *, replied: bool, expected_rate: float = 3000,
    ) -> Row:  # fmt: skip
        """One measured row: a short warm-up, then wrk for `duration` seconds. `replied`: the
        request is done when its reply reaches a fake (else when its response arrives)."""
        await self.wrk(url, lines("w", int(expected_rate * WARM_UP * 2)), WARM_UP)
        await self.settle(replied)
        count = int(expected_rate * self.duration * 2)
        built = lines("m", count)
        before_cpu, before_replies = cpu_of(pids), self.replies.count()
        before_load = load_side_cpu()
        begun = time.perf_counter()
        result = await self.wrk(url, built)
        ended = time.perf_counter()
        if replied:
            ended = await self.settle(replied, until=before_replies + result["requests"])
        row = Row(name, requests=result["requests"], cpu=cpu_of(pids) - before_cpu,
                  load_cpu=load_side_cpu() - before_load)  # fmt: skip
        ok = result["requests"] - result["non_2xx"] - result["socket_errors"]
        row.replies = self.replies.count() - before_replies if replied else ok
        row.failed = result["non_2xx"] + result["socket_errors"]
        row.seconds = ended - begun
        row.p50_ms, row.p99_ms = result["p50_us"] / 1000, result["p99_us"] / 1000
        if result["requests"] >= count:
            print(f"warning: {name}: wrk sent all {count} prepared requests", file=sys.stderr)
        return row

    async def settle(self, replied: bool, until: int | None = None) -> float:
        """Wait until `until` replies arrived, or none came for `SETTLE` s; the last one's time."""
        if not replied:
            return time.perf_counter()
        quiet_since, seen = time.perf_counter(), self.replies.count()
        while time.perf_counter() - quiet_since < SETTLE:
            if until is not None and self.replies.count() >= until:
                break
            await asyncio.sleep(0.05)
            if self.replies.count() != seen:
                quiet_since, seen = time.perf_counter(), self.replies.count()
        return self.replies.last()


async def stop(process: Any) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 40)
        except TimeoutError:
            process.kill()
            await process.wait()


async def one_run(duration: float, connections: int, workers: list[int]) -> list[Row]:
    slack = FakeSlackApi()
    slack_url = await slack.start()
    connector = await FakeConnector.start()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        bench = Bench(duration, connections, Path(tmp), slack, connector, slack_url,
                      Replies(slack, connector))  # fmt: skip
        teams = lambda run, n: list(teams_lines(run, n, connector.url))  # noqa: E731
        try:
            port = free_port()
            bare = await bench.start([str(Path(__file__).resolve()), "--bare", str(port)],
                                     bench.env(Path(tmp) / "bare.sqlite3"),
                                     f"http://127.0.0.1:{port}/nothing")  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            try:
                pids = [bare.pid]
                rows.append(await bench.row("bare endpoint", f"{base}/bare", teams, pids,
                                            replied=False, expected_rate=8000))  # fmt: skip
                rows.append(await bench.row("bare relay", f"{base}/relay", teams, pids,
                                            replied=True, expected_rate=5000))  # fmt: skip
                rows.append(await bench.row("bare relay + answer", f"{base}/relay-answer", teams,
                                            pids, replied=True, expected_rate=2000))  # fmt: skip
                rows.append(await bench.row("bare relay + answer with the store",
                                            f"{base}/relay-answer-stored", teams, pids,
                                            replied=True, expected_rate=2000))  # fmt: skip
            finally:
                await stop(bare)
            for n in workers:
                port = free_port()
                argv = ["-m", "adapters.cli", "serve", "--port", str(port), "--workers", str(n)]
                # Bound to 127.0.0.2, a loopback address that is not local mode: each web
                # session is its own user, as on a deployed server (local mode answers every
                # session as the one user "local", whose rate-limit window would hold every
                # request of the run).
                env = bench.env(Path(tmp) / f"serve-{n}.sqlite3")
                env["HANDLEDARBOT_HOST"] = SERVE_HOST
                server = await bench.start(argv, env, f"http://{SERVE_HOST}:{port}/healthz")
                base = f"http://{SERVE_HOST}:{port}"
                try:
                    if n > 1:
                        await _all_workers_up(base, n)
                    pids = family(server.pid)
                    tag = f" ({n} worker{'s' if n > 1 else ''})"
                    slack_lines_ = lambda run, k, n=n: list(slack_lines(f"{run}{n}", k))  # noqa: E731
                    rows.append(await bench.row("/slack/events" + tag, f"{base}/slack/events",
                                                slack_lines_, pids, replied=True,
                                                expected_rate=1500 * n))  # fmt: skip
                    rows.append(await bench.row("/api/messages" + tag, f"{base}/api/messages",
                                                teams, pids, replied=True,
                                                expected_rate=1000 * n))  # fmt: skip
                    chat = lambda run, k, n=n: list(chat_lines(f"{run}{n}", k))  # noqa: E731
                    rows.append(await bench.row("/api/chat" + tag, f"{base}/api/chat", chat,
                                                pids, replied=False,
                                                expected_rate=1500 * n))  # fmt: skip
                finally:
                    await stop(server)
        finally:
            await connector.close()
            if slack.runner is not None:
                await slack.runner.cleanup()
    return rows


async def _all_workers_up(base: str, workers: int) -> None:
    from aiohttp import TCPConnector

    seen: set[int] = set()
    async with ClientSession(connector=TCPConnector(force_close=True)) as http:
        for _ in range(500):
            async with http.get(f"{base}/healthz") as response:
                seen.add(int((await response.json())["pid"]))
            if len(seen) >= workers:
                return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"only {len(seen)} of {workers} workers answered")


def table(rows: list[Row], connections: int) -> str:
    lines = [
        f"| endpoint (wrk, {connections} connections) | sent | replies | failed | req/s "
        "| p50 ms | p99 ms | server CPU µs/req | load side, cores |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.requests} | {r.replies} | {r.failed} | {r.rate:,.0f} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.cpu_us:,.0f} | {r.load_cores:.2f} |"
        )
    return "\n".join(lines)


def ratios(rows: list[Row]) -> dict[str, float]:
    by = {r.name: r for r in rows}
    base = by["bare relay + answer"].cpu_us
    stored = by["bare relay + answer with the store"].cpu_us
    slack, teams = by["/slack/events (1 worker)"].cpu_us, by["/api/messages (1 worker)"].cpu_us
    found = {
        "slack CPU / (relay + answer) [target ≤ 2]": slack / base,
        "teams CPU / (relay + answer) [target ≤ 3]": teams / base,
        "slack CPU / (relay + answer with the store)": slack / stored,
        "teams CPU / (relay + answer with the store)": teams / stored,
    }
    for endpoint in ("/slack/events", "/api/messages", "/api/chat"):
        one, two = by.get(f"{endpoint} (1 worker)"), by.get(f"{endpoint} (2 workers)")
        if one and two and one.rate:
            found[f"{endpoint} rate 2 workers / 1 [target ≥ 1.8]"] = two.rate / one.rate
            # What the cores left by the load side allow: one worker's CPU per reply, on every
            # core that wrk and the fakes did not use during the 2-worker row.
            cores = os.cpu_count() or 1
            ceiling = (cores - two.load_cores) / (one.cpu_us / 1e6) / one.rate
            found[f"{endpoint} rate 2 workers / 1, ceiling the load side leaves"] = ceiling
    return found


async def main(duration: float, connections: int, runs: int, workers: list[int]) -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, wrk -t1 -c{connections} "
          f"-d{duration}s; {runs} run(s)\n")  # fmt: skip
    every: list[dict[str, float]] = []
    for run in range(1, runs + 1):
        rows = await one_run(duration, connections, workers)
        print(f"run {run}\n\n{table(rows, connections)}\n")
        found = ratios(rows)
        every.append(found)
        for name, value in found.items():
            print(f"- {name}: {value:.2f}")
        print(flush=True)
    if runs > 1:
        print("ratios over the runs (min–max, median):")
        for name in every[0]:
            values = [found[name] for found in every if name in found]
            print(f"- {name}: {min(values):.2f}–{max(values):.2f} "
                  f"(median {statistics.median(values):.2f})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per row")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", default="1,2", help="serve's worker counts to measure")
    parser.add_argument("--bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        asyncio.run(_serve_bare(args.bare))
    else:
        if shutil.which("wrk") is None:
            parser.error("needs wrk: apt-get install wrk (Debian's package)")
        counts = [int(w) for w in args.workers.split(",")]
        asyncio.run(main(args.duration, args.connections, args.runs, counts))
