"""One aiohttp server for every configured platform, plus `GET /healthz`.

- Slack over HTTP (`POST /slack/events`) when `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` are
  set; Slack Socket Mode instead when `SLACK_APP_TOKEN` is set too (no public URL needed: the
  socket is opened when the server starts and closed when it stops).
- Teams (`POST /api/messages`) when `adapters.teams.enabled(settings)`.

The Slack and Teams adapters, and with them slack_bolt and botbuilder, are imported only when
the settings turn them on: a server with neither does not spend its start-up importing them.

`validate` names every missing or contradictory setting so that `serve` fails before binding a
port; `serve` stops gracefully on SIGTERM and SIGINT, letting answers in progress finish.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters import access_log
from adapters import web as web_chat
from adapters.platforms import slack_mode, teams_enabled
from bot.metrics import Metrics
from bot.ports import Sender
from bot.service import Service
from bot.settings import Settings, is_loopback
from bot.sharedstate import Marks
from bot.startup import StartupError, describe_bind_error

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    from adapters.slack import SlackApp, SlackSender

SLACK_APP: web.AppKey[SlackApp] = web.AppKey("slack_app")
SLACK_SOCKET: web.AppKey[SocketMode] = web.AppKey("slack_socket")
SLACK_SENDER: web.AppKey[SlackSender] = web.AppKey("slack_sender")
ADAPTERS: web.AppKey[list[str]] = web.AppKey("adapters")
SERVICE: web.AppKey[Service] = web.AppKey("service")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
METRICS_TOKEN: web.AppKey[str | None] = web.AppKey("metrics_token")

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
SHUTDOWN_TIMEOUT = 10.0
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class SocketMode:
    """Slack Socket Mode for this app: the handler exists from start-up until shutdown."""

    app_token: str
    handler: AsyncSocketModeHandler | None = None


class ConfigurationError(Exception):
    """The settings cannot start a server; `problems` says what to set, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Incomplete configuration:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


def validate(settings: Settings) -> list[str]:
    """Every missing or contradictory setting, each as a sentence saying what to set."""
    return [*_slack_problems(settings), *_teams_problems(settings), *_nothing_on(settings)]


def _slack_problems(settings: Settings) -> list[str]:
    bot, secret, app = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
    )
    problems: list[str] = []
    if bot and not bot.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be the app's bot token (it starts with xoxb-).")
    if app and not app.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token (it starts with xapp-).")
    if app and not bot:
        problems.append("SLACK_APP_TOKEN is set (Socket Mode) but SLACK_BOT_TOKEN is missing.")
    if bot and not app and not secret:
        problems.append(
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is missing: the HTTP Events API "
            "needs it to verify requests (or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    if secret and not bot:
        problems.append("SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is missing.")
    return problems


def _teams_problems(settings: Settings) -> list[str]:
    app_id, password = settings.microsoft_app_id, settings.microsoft_app_password
    problems: list[str] = []
    if password and not app_id:
        problems.append("MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is missing.")
    if app_id and not password and settings.microsoft_app_type != "UserAssignedMSI":
        problems.append("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is missing.")
    if settings.microsoft_app_type not in APP_TYPES:
        problems.append(
            f"MICROSOFT_APP_TYPE is {settings.microsoft_app_type!r}; use one of "
            + ", ".join(APP_TYPES)
            + "."
        )
    tenant_bound = settings.microsoft_app_type in ("SingleTenant", "UserAssignedMSI")
    if app_id and tenant_bound and not settings.microsoft_app_tenant_id:
        problems.append(
            f"MICROSOFT_APP_TYPE={settings.microsoft_app_type} needs MICROSOFT_APP_TENANT_ID "
            "(the Entra ID tenant of the app registration or managed identity)."
        )
    if settings.teams_enabled and not app_id and not is_loopback(settings.host):
        problems.append(
            f"HANDLEDARBOT_TEAMS=true (unauthenticated local testing) listens only on a loopback "
            f"address, not HANDLEDARBOT_HOST={settings.host}: set HANDLEDARBOT_HOST=127.0.0.1, or "
            "register the bot and set MICROSOFT_APP_ID (see docs/teams.md)."
        )
    return problems


def _nothing_on(settings: Settings) -> list[str]:
    anything = (
        any((settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token))
        or teams_enabled(settings)
        or web_chat.enabled(settings)
    )
    if anything:
        return []
    return [
        "No chat platform is configured: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) "
        "or SLACK_APP_TOKEN (Socket Mode), and/or MICROSOFT_APP_ID with MICROSOFT_APP_PASSWORD "
        "(or HANDLEDARBOT_TEAMS=true for unauthenticated local testing), or HANDLEDARBOT_WEB=true "
        "for the web chat page."
    ]


def create_app(
    *,
    settings: Settings,
    service: Service,
    metrics: Metrics | None = None,
    marks: Marks | None = None,
) -> web.Application:
    """The web application for what `settings` configures; assumes `validate` found nothing.

    `marks` remembers Slack events and Teams welcomes taken in (the database's `SqlMarks`, shared
    by every replica; by default in this process only).

    With `metrics`, `GET /metrics` serves them in the Prometheus text format (behind
    `Authorization: Bearer <HANDLEDARBOT_METRICS_TOKEN>` when that is set).
    """
    app = web.Application()
    app[SERVICE] = service
    app[ADAPTERS] = []
    mode = slack_mode(settings)
    if mode is not None:
        _mount_slack(app, settings=settings, service=service, mode=mode, marks=marks)
    if teams_enabled(settings):
        from adapters import teams

        teams.mount(app, settings=settings, service=service, marks=marks)
        app[ADAPTERS].append("teams")
    if web_chat.enabled(settings):
        web_chat.mount(app, settings=settings, service=service)
        app[ADAPTERS].append("web")
    app.router.add_get("/healthz", _healthz)
    if metrics is not None:
        app[METRICS] = metrics
        app[METRICS_TOKEN] = settings.metrics_token
        app.router.add_get("/metrics", _metrics)
    return app


def _mount_slack(
    app: web.Application, *, settings: Settings, service: Service, mode: str, marks: Marks | None
) -> None:
    from adapters import slack as slack_adapter

    slack = slack_adapter.SlackApp.from_settings(settings=settings, service=service, marks=marks)
    app[SLACK_APP] = slack
    app[SLACK_SENDER] = slack_adapter.SlackSender.from_settings(settings)
    app.on_startup.append(_open_slack_session)
    if mode == "socket":
        app[SLACK_SOCKET] = SocketMode(app_token=settings.slack_app_token or "")
        app.on_startup.append(_connect_socket)
        app.on_shutdown.append(_close_socket)
    else:
        app.router.add_post(slack_adapter.ROUTE, slack.dispatch)
    app.on_shutdown.append(_drain_slack)
    app.on_cleanup.append(_close_slack_session)
    app[ADAPTERS].append(f"slack-{mode}")


async def _open_slack_session(app: web.Application) -> None:
    app[SLACK_SENDER].client.session = await app[SLACK_APP].open_session()


async def _close_slack_session(app: web.Application) -> None:
    app[SLACK_SENDER].client.session = None
    await app[SLACK_APP].close_session()


async def _connect_socket(app: web.Application) -> None:
    socket = app[SLACK_SOCKET]
    socket.handler = app[SLACK_APP].socket_mode_handler(socket.app_token)
    await socket.handler.connect_async()  # type: ignore[no-untyped-call]


async def _close_socket(app: web.Application) -> None:
    socket = app[SLACK_SOCKET]
    if socket.handler is not None:
        await socket.handler.close_async()  # type: ignore[no-untyped-call]
        socket.handler = None


async def _drain_slack(app: web.Application) -> None:
    await app[SLACK_APP].drain(SHUTDOWN_TIMEOUT)


def senders(app: web.Application) -> dict[str, Sender]:
    """The proactive senders of the platforms `app` serves, by `Message.platform`."""
    found: dict[str, Sender] = {}
    if SLACK_SENDER in app:
        found["slack"] = app[SLACK_SENDER]
    teams = sys.modules.get("adapters.teams")  # not imported: no app has Teams mounted
    if teams is not None and teams.TEAMS_SENDER in app:
        found["teams"] = app[teams.TEAMS_SENDER]
    if web_chat.WEB_SENDER in app:
        found["web"] = app[web_chat.WEB_SENDER]
    return found


async def _healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body: dict[str, Any] = {
        "status": "ok",
        "knowledge_version": getattr(service.engine, "version", None),
        "adapters": request.app[ADAPTERS],
        "pid": os.getpid(),
    }
    return web.json_response(body)


async def _metrics(request: web.Request) -> web.Response:
    token = request.app[METRICS_TOKEN]
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters (`Bearer é`).
    if token and not hmac.compare_digest(
        request.headers.get("Authorization", "").encode("utf-8", "surrogateescape"),
        f"Bearer {token}".encode(),
    ):
        return web.Response(status=401, text="unauthorized\n")
    return web.Response(
        body=request.app[METRICS].render().encode(),
        headers={"Content-Type": PROMETHEUS_TYPE, "X-Content-Type-Options": "nosniff"},
    )


async def serve(
    settings: Settings,
    service: Service,
    *,
    metrics: Metrics | None = None,
    marks: Marks | None = None,
    port: int | None = None,
    announce: Callable[[str], None] | None = None,
    setup: Callable[[web.Application], None] | None = None,
    stop: asyncio.Event | None = None,
    reuse_port: bool = False,
) -> None:
    """Run until SIGTERM or SIGINT (or `stop` is set); raises `ConfigurationError` before binding
    when incomplete.

    `reuse_port` binds with SO_REUSEPORT, so that several worker processes share the port and the
    kernel spreads the connections over them (`adapters.workers`).

    `setup` sees the application before it starts: the place to take `senders(app)` and to add
    start-up and clean-up hooks (a reminder scheduler). `announce` receives one line naming the
    listening address and the adapters that are on (default: printed to stderr).
    """
    problems = validate(settings)
    if problems:
        raise ConfigurationError(problems)
    app = create_app(settings=settings, service=service, metrics=metrics, marks=marks)
    if setup is not None:
        setup(app)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        **access_log.runner_options(settings.access_log),
    )
    await runner.setup()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        bound = settings.port if port is None else port
        site = web.TCPSite(runner, settings.host, bound, reuse_port=reuse_port or None)
        try:
            await site.start()
        except OSError as error:
            raise StartupError(describe_bind_error(error, settings, bound)) from None
        _announce(runner, app, announce)
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()


def _announce(
    runner: web.AppRunner, app: web.Application, announce: Callable[[str], None] | None
) -> None:
    urls = ", ".join(f"http://{host}:{port}" for host, port, *_ in runner.addresses)
    adapters: list[str] = app[ADAPTERS]
    line = f"handledarbot: listening on {urls} ({', '.join(adapters) or 'no adapters'})"
    (announce or _to_stderr)(line)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(settings: Settings, service: Service, *, port: int | None = None) -> int:
    """`handledarbot serve`: the exit status (2 for an incomplete configuration)."""
    try:
        asyncio.run(serve(settings, service, port=port))
    except ConfigurationError as error:
        for problem in error.problems:
            print(f"handledarbot serve: {problem}", file=sys.stderr)
        return 2
    except StartupError as error:
        print(f"handledarbot serve: {error}", file=sys.stderr)
        return 2
    return 0
