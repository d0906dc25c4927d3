"""A local stand-in for Slack's Web API, on a random port, recording every call it gets.

Point `AsyncWebClient(base_url=fake.base_url)` (or `SLACK_API_BASE_URL`) at it. It answers what
bolt and our adapter call: `auth.test`, `chat.postMessage`, `chat.update`, the external file
upload (`files.getUploadURLExternal`, the upload URL it hands out, `files.completeUploadExternal`)
any `response_url` made with `response_url()`, and Socket Mode (`apps.connections.open` hands
out a websocket on the fake; `push` sends an envelope down it). Other methods answer
`{"ok": true}`.
`users.info` answers from `users` (user id → the `user` object Slack returns), else
`user_not_found`.
`rate_limit` makes the next calls answer 429 with Retry-After; `fail` makes a method answer an
error code. `wait_for` awaits a call instead of sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

TEAM_ID = "T0HANDLED"
BOT_USER_ID = "U0HBOT"
BOT_ID = "B0HBOT"


@dataclass
class Call:
    """One request the fake received; `params` merges JSON or form fields (blocks decoded)."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    data: bytes = b""
    answered: str = "ok"  # or the error code the fake answered with


@dataclass
class _Failure:
    method: str | None
    error: str | None
    status: int
    retry_after: int | None
    remaining: int


@dataclass
class FakeSlackApi:
    team_id: str = TEAM_ID
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID
    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)

    async def start(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info and other reads
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/"

    def response_url(self, name: str) -> str:
        """A URL standing in for a slash command's or a click's `response_url`."""
        return f"http://127.0.0.1:{self._port}/response/{name}"

    def rate_limit(self, times: int, *, retry_after: int = 0, method: str | None = None) -> None:
        """The next `times` calls (of `method`, or of any method) answer 429."""
        self._failures.append(_Failure(method, "ratelimited", 429, retry_after, times))

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        self._failures.append(_Failure(method, error, 200, None, times))

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda call: True,
        timeout: float = 5.0,
    ) -> Call:
        """The first call of `method` satisfying `predicate`, waiting up to `timeout` seconds."""

        def found() -> Call | None:
            return next((c for c in self.calls_to(method) if predicate(c)), None)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(found), timeout)
            except TimeoutError:
                seen = [c.method for c in self.calls]
                message = f"no matching {method} within {timeout}s; got {seen}: {self.calls[-3:]}"
                raise AssertionError(message) from None
        call = found()
        assert call is not None
        return call

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or params.get("token")
        failure = self._take_failure(method)
        if failure is None and method == "users.info" and params.get("user") not in self.users:
            failure = _Failure(method, "user_not_found", 200, None, 0)
        answered = (failure.error or "failed") if failure is not None else "ok"
        await self._record(Call(method, params, token, answered=answered))
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        return web.json_response(self._answer(method, params))

    def _take_failure(self, method: str) -> _Failure | None:
        for failure in self._failures:
            if failure.remaining > 0 and failure.method in (None, method):
                failure.remaining -= 1
                return failure
        return None

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://handled.slack.com/", "team": "Handled",
                    "user": "handledarbot", "team_id": self.team_id,
                    "user_id": self.bot_user_id, "bot_id": self.bot_id}  # fmt: skip
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            message = {"text": params.get("text"), "blocks": params.get("blocks"), "ts": ts}
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "users.info":
            return {"ok": True, "user": self.users[params["user"]]}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            upload_url = f"http://127.0.0.1:{self._port}/upload/{file_id}"
            return {"ok": True, "upload_url": upload_url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            done = [{"id": f.get("id"), "title": f.get("title")} for f in files]
            return {"ok": True, "files": done}
        return {"ok": True}

    async def push(self, envelope: dict[str, Any], timeout: float = 5.0) -> None:
        """Send a Socket Mode envelope over the app's open socket (waiting for it to connect)."""
        await self.wait_for("socket_open", timeout=timeout)
        await self._sockets[-1].send_json(envelope)

    async def drop(self, *, warn: bool = True) -> None:
        """End the app's socket as Slack does when it rotates connections: a `disconnect`
        envelope first (`warn`), then the close."""
        socket = self._sockets[-1]
        if warn:
            await socket.send_json(
                {"type": "disconnect", "reason": "refresh_requested",
                 "debug_info": {"host": "applink-fake"}}
            )  # fmt: skip
        await socket.close()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: records `socket_open`, each message the app sends, and `socket_closed`."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        await self._record(Call("socket_open", {}))
        async for frame in socket:
            await self._record(Call("socket_message", json.loads(frame.data)))
        self._sockets.remove(socket)
        await self._record(Call("socket_closed", {}))
        return socket

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        await self._record(Call("upload", {"file_id": request.match_info["file_id"]}, data=data))
        return web.Response(text="OK - " + str(len(data)))

    async def _response_url(self, request: web.Request) -> web.Response:
        params = await _params(request)
        await self._record(Call("response_url", {"name": request.match_info["name"], **params}))
        return web.json_response({"ok": True})


async def _params(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json" and body:
        params.update(json.loads(body))
    elif body:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    for key in ("blocks", "files"):
        while isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
