"""A local fake of the Bot Framework connector (the service at an activity's `serviceUrl`).

It records every `POST /v3/conversations/{conversationId}/activities[/{activityId}]` and answers
`{"id": "..."}` as the real connector does. `throttle(n, retry_after=...)` makes the next `n`
posts answer 429 with a Retry-After header (`status=` picks 412, 502, 503, 504, 403, 404 instead).
`PUT /upload/{name}` stands in for the OneDrive upload URL of a file consent (`uploads`
records body and headers).
Start it with `await FakeConnector.start()` (port 0 on 127.0.0.1) and `await fake.close()`.
`listeners` are called with each recorded post (the benchmark times replies with them).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Posted:
    """One activity the bot posted: path parts, the JSON body and the Authorization header."""

    conversation_id: str
    reply_to_id: str | None
    body: dict[str, Any]
    authorization: str | None

    @property
    def text(self) -> str:
        """Everything user-visible in the activity as one string (text + card JSON)."""
        parts = [str(self.body.get("text") or "")]
        parts += [json.dumps(a, ensure_ascii=False) for a in self.body.get("attachments") or []]
        return "\n".join(parts)

    def cards(self) -> list[dict[str, Any]]:
        return [
            a["content"]
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass
class FakeConnector:
    runner: web.AppRunner
    url: str = ""
    posted: list[Posted] = field(default_factory=list)
    refused: int = 0
    uploads: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    _throttle_left: int = 0
    _throttle_status: int = 429
    _retry_after: str | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    listeners: list[Callable[[Posted], None]] = field(default_factory=list)

    @classmethod
    async def start(cls) -> FakeConnector:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        runner = web.AppRunner(app, access_log=None)
        fake = cls(runner=runner)
        app.router.add_post("/v3/conversations/{conversation}/activities", fake._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", fake._post)
        app.router.add_put("/upload/{name}", fake._upload)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake.url = f"http://127.0.0.1:{port}/"
        return fake

    async def close(self) -> None:
        await self.runner.cleanup()

    def throttle(self, times: int, *, retry_after: float | None = 1, status: int = 429) -> None:
        """Answer the next `times` posts with `status` (and Retry-After when given)."""
        self._throttle_left = times
        self._throttle_status = status
        self._retry_after = None if retry_after is None else f"{retry_after:g}"

    async def wait_for(
        self, predicate: Callable[[list[Posted]], bool], timeout: float = 5.0
    ) -> list[Posted]:
        """Wait until `predicate(posted)` holds; raise TimeoutError naming what arrived."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: predicate(self.posted)), timeout
                )
            except TimeoutError:
                got = f"{len(self.posted)} posts: {self.posted!r}"
                raise TimeoutError(f"fake connector got {got}") from None
        return self.posted

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.uploads.append((request.match_info["name"], data, dict(request.headers)))
        return web.json_response({"id": "onedrive-item-1", "name": request.match_info["name"]})

    async def _post(self, request: web.Request) -> web.Response:
        if self._throttle_left > 0:
            self._throttle_left -= 1
            self.refused += 1
            headers = {"Retry-After": self._retry_after} if self._retry_after else {}
            return web.json_response(
                {"error": {"code": "Throttled", "message": "slow down"}},
                status=self._throttle_status,
                headers=headers,
            )
        body = await request.json()
        posted = Posted(
            conversation_id=request.match_info["conversation"],
            reply_to_id=request.match_info.get("activity"),
            body=body,
            authorization=request.headers.get("Authorization"),
        )
        async with self._changed:
            self.posted.append(posted)
            self._changed.notify_all()
        for listener in self.listeners:
            listener(posted)
        return web.json_response({"id": f"fake-{next(self._ids)}"})
