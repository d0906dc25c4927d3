"""Test support for the reminder tests, and a scheduler worker they run as a subprocess.

    python -m tests.reminder_worker --sqlite PATH | --postgres URL --schema S  --endpoint URL

delivers due reminders to a local fake HTTP endpoint until killed (the crash test sends SIGKILL).
The fake endpoint (`FakeEndpoint`) records each delivery outside the worker process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import aiohttp
from aiohttp import web

from bot.knowledge.schema import Cadence, Source, Text, Topic
from bot.messages import Reply
from bot.ports import DeliveryError
from bot.reminders.clock import SystemClock
from bot.reminders.render import Knowledge
from bot.reminders.scheduler import Scheduler, SchedulerConfig
from bot.reminders.store import SqlReminderStore
from bot.reminders.store_postgres import open_postgres_store
from bot.reminders.store_sqlite import open_sqlite_store

SOURCE = Source(
    id="skane-verktygslada",
    title="Verktygslåda för ST-handledare",
    publisher="Region Skåne",
    scope="skane",
    seed="x.txt",
    reviewed=date(2026, 11, 1),
)


def _topic(tid: str, sv: str, en: str, kind: str, **extra: object) -> Topic:
    note = extra.pop("note", None)
    cadence = Cadence.model_validate({"kind": kind, **extra, "note": note})
    return Topic(
        id=tid,
        scope="skane",
        source=SOURCE.id,
        reviewed=date(2026, 11, 1),
        title=Text(sv=sv, en=en),
        cadence=cadence,
    )


TOPICS = (
    _topic(
        "plan-followup",
        "Uppföljning av utbildningsplanen",
        "Follow-up of the education plan",
        "each_meeting",
    ),
    _topic("cbd", "Fallbaserad diskussion", "Case-based discussion", "every_months", months=3),
    _topic("half-year", "Halvårsavstämning", "Half-yearly review", "every_months", months=6),
    _topic(
        "plan-revision",
        "Revidering av utbildningsplanen",
        "Revision of the education plan",
        "yearly",
    ),
    _topic("annual-report", "Årsrapport", "Annual report", "end_of_year"),
    _topic(
        "kollegium",
        "Specialistkollegium",
        "Specialist colleague review",
        "times_during_st",
        times=3,
    ),
    _topic("360", "360-graders bedömning", "360-degree assessment", "times_during_st", times=2),
)
KNOWLEDGE = Knowledge(topics=TOPICS, sources=MappingProxyType({SOURCE.id: SOURCE}))


class HttpSender:
    """A Sender posting JSON to an endpoint; 429/5xx → retryable, other 4xx → permanent."""

    def __init__(self, *, base_url: str, session: aiohttp.ClientSession) -> None:
        self._url = base_url
        self._session = session

    async def send(self, address: str, reply: Reply) -> None:
        body = {
            "address": address,
            "paragraphs": list(reply.paragraphs),
            "options": [o.value for o in reply.options],
            "kind": reply.kind,
        }
        async with self._session.post(self._url, json=body) as response:
            if response.status < 300:
                return
            retry_after = response.headers.get("Retry-After")
            raise DeliveryError(
                f"HTTP {response.status}",
                permanent=response.status < 500 and response.status != 429,
                retry_after=float(retry_after) if retry_after else None,
            )


@dataclass
class FakeEndpoint:
    """Records deliveries as (reminder id, occurrence, seq), keyed off the snooze option value.

    `throttle_until`: answer 429 + Retry-After until that many requests were throttled;
    `stall_after`: accept that many deliveries, then hold every further request unanswered (the
    platform never accepted it, so it is not recorded) until `release()`.
    """

    retry_after: str = "1"
    throttle: int = 0
    stall_after: int | None = None
    gone: frozenset[str] = frozenset()
    delivered: list[tuple[int, int, int]] = field(default_factory=list)
    bodies: list[dict[str, object]] = field(default_factory=list)
    throttled: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/deliver", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/deliver"
        return self.url

    def release(self) -> None:
        self.stall_after = None
        self._release.set()

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body["address"] in self.gone:
            return web.json_response({"ok": False, "error": "channel_not_found"}, status=404)
        if self.throttled < self.throttle:
            self.throttled += 1
            return web.Response(status=429, headers={"Retry-After": self.retry_after})
        if self.stall_after is not None and len(self.delivered) >= self.stall_after:
            await self._release.wait()
            return web.Response(status=503)
        key = next(v for v in body["options"] if v.startswith("reminder:snooze:")).split(":")
        self.delivered.append((int(key[2]), int(key[3]), int(key[4])))
        self.bodies.append(body)
        return web.json_response({"ok": True})


async def wait_until(condition: object, timeout: float = 30.0) -> None:
    """Poll `condition()` (sync or async) until true; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


async def _main(args: argparse.Namespace) -> None:
    store: SqlReminderStore
    if args.postgres:
        store = await open_postgres_store(args.postgres, schema=args.schema)
    else:
        store = await open_sqlite_store(args.sqlite)
    config = SchedulerConfig(
        batch=args.batch,
        concurrency=args.concurrency,
        lease=timedelta(seconds=args.lease),
        send_timeout=args.send_timeout,
        poll_interval=0.05,
        backoff_base=0.05,
        backoff_max=0.5,
    )
    async with aiohttp.ClientSession() as session:
        sender = HttpSender(base_url=args.endpoint, session=session)
        scheduler = Scheduler(
            store=store,
            senders={"test": sender},
            clock=SystemClock(),
            knowledge=KNOWLEDGE,
            config=config,
            name=args.name,
        )
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(scheduler.stop()))
        print(json.dumps({"ready": args.name}), flush=True)
        scheduler.start()
        await scheduler._stop.wait()
        await scheduler.stop()
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite")
    parser.add_argument("--postgres")
    parser.add_argument("--schema")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--name", default="worker")
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--send-timeout", type=float, default=1.0)
    asyncio.run(_main(parser.parse_args()))


PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


class StoreFactory:
    """Opens real stores: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""

    def __init__(self, kind: str, directory: object) -> None:
        import uuid
        from pathlib import Path

        self.kind = kind
        self.path = Path(str(directory)) / "reminders.sqlite3"
        self.schema = f"rem_{uuid.uuid4().hex[:12]}"
        self._stores: list[SqlReminderStore] = []

    async def __aenter__(self) -> StoreFactory:
        if self.kind == "postgres":
            import asyncpg

            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f"CREATE SCHEMA {self.schema}")
            await conn.close()
        return self

    async def open(self) -> SqlReminderStore:
        if self.kind == "postgres":
            store = await open_postgres_store(PG_URL, schema=self.schema)
        else:
            store = await open_sqlite_store(self.path)
        self._stores.append(store)
        return store

    def worker_args(self) -> list[str]:
        if self.kind == "postgres":
            return ["--postgres", PG_URL, "--schema", self.schema]
        return ["--sqlite", str(self.path)]

    async def __aexit__(self, *exc: object) -> None:
        for store in self._stores:
            await store.close()
        if self.kind == "postgres":
            import asyncpg

            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f"DROP SCHEMA {self.schema} CASCADE")
            await conn.close()


if __name__ == "__main__":
    main()
