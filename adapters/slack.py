"""Slack: events, the slash command and button clicks in; Block Kit replies out.

A converter, nothing more: each Slack payload becomes one `bot.messages.Message`, the service
answers, and `render_slack` lays the `Reply` out. bolt's `AsyncApp` verifies every HTTP request's
signature and timestamp with the signing secret and acknowledges before the listener runs, so
Slack's 3-second limit holds however long an answer takes.

Conversations: a channel mention is `team:channel:thread` (the reply goes in that thread), a
direct message `team:channel`, a slash command `team:channel:user` (its replies are ephemeral).
Addresses, for later proactive messages, are JSON `{"channel": ..., "thread_ts": ...}`; a slash
command's address is the user's DM with the app.

Slack re-delivers an event it thinks timed out or failed. What was taken in lives in `Marks`
(the database's, shared by every replica, when the server runs with a store): an event whose
`event_id` some replica took in, or a message (channel + ts) some replica answers or answered, is
acknowledged and dropped, so a question is never answered twice, not even after a restart. A
retry of an event that no replica finished within `EVENT_LEASE` seconds (the first delivery
died with its replica) is answered, once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.render_slack import (
    CLARIFY_BLOCK_PREFIX,
    LINK_ACTION_PREFIX,
    OPTION_ACTION_PREFIX,
    RATE_ACTION_PREFIX,
    RATE_BLOCK_ID,
    conversation_from_block_id,
    escape,
    render_reply,
)
from adapters.slack_delivery import (
    SlackSender,
    address,
    configure_client,
    parse_address,
    post_reply,
    sdk_logger,
)
from bot.messages import Message, Reply
from bot.settings import Settings
from bot.sharedstate import Marks, MemoryMarks

__all__ = ["SlackApp", "SlackSender", "address", "parse_address"]

log = logging.getLogger("handledarbot.slack")

PLATFORM = "slack"
ROUTE = "/slack/events"  # events, the slash command and interactivity all arrive here
COMMAND = "/handledning"
EVENTS = ("app_mention", "message.im")
ANSWERED_SUBTYPES = (None, "file_share", "thread_broadcast")  # a DM with words to answer
HELP_TEXT = "hjälp"
EVENT_MARK = "slack:event"  # Marks kind of an event_id taken in
MESSAGE_MARK = "slack:message"  # Marks kind of a message (channel:ts) being answered
EVENT_LEASE = 30.0  # seconds a replica has to finish an event before a retry may take it
_TAKEN = "handledarbot_event_mark"  # bolt context key: the (event_id, token) this request took
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


class Handler(Protocol):
    async def handle(self, message: Message) -> Reply: ...


class DropRedeliveries(AsyncMiddleware):
    """Acknowledge and drop an event that some replica took in (and finished, or is working on)."""

    def __init__(self, marks: Marks) -> None:
        self._marks = marks

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        event_id = req.body.get("event_id")
        if isinstance(event_id, str):
            token = await self._marks.take(EVENT_MARK, event_id, lease=EVENT_LEASE)
            if token is None:
                reasons = req.headers.get("x-slack-retry-reason") or []
                reason = reasons[0] if reasons else None
                log.info("dropped re-delivered event %s (retry reason %s)", event_id, reason)
                return BoltResponse(status=200, body="")
            req.context[_TAKEN] = (event_id, token)
        return await next()


class SlackApp:
    """The bolt app with Handledarbot's listeners, for HTTP (`dispatch`) or Socket Mode."""

    def __init__(
        self,
        *,
        service: Handler,
        token: str,
        signing_secret: str,
        api_base_url: str | None = None,
        marks: Marks | None = None,
    ) -> None:
        """`marks` remembers events taken in; by default in this process only."""
        # The Web API client gets the SDK logger; bolt keeps this module's logger (bolt copies its
        # level into the `handledarbot` logger on every request, see `sdk_logger`).
        client = AsyncWebClient(token=token, logger=sdk_logger())
        configure_client(client, base_url=api_base_url, retry_rate_limits=True)
        self.bolt = AsyncApp(
            client=client, signing_secret=signing_secret, name="handledarbot", logger=log
        )
        self._service = service
        self._marks: Marks = MemoryMarks() if marks is None else marks
        self._inflight: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.bolt.use(DropRedeliveries(self._marks))
        self.bolt.event("app_mention")(self._tracked(self._on_mention))
        self.bolt.event("message")(self._tracked(self._on_message))
        self.bolt.event(re.compile(".*"))(_ignore)
        self.bolt.command(COMMAND)(self._tracked(self._on_command))
        self.bolt.action(re.compile(f"^{OPTION_ACTION_PREFIX}"))(self._tracked(self._on_option))
        self.bolt.action(re.compile(f"^{LINK_ACTION_PREFIX}"))(_acknowledge)
        self.bolt.action(re.compile(f"^{RATE_ACTION_PREFIX}"))(self._tracked(self._on_rating))

    @classmethod
    def from_settings(
        cls, *, settings: Settings, service: Handler, marks: Marks | None = None
    ) -> SlackApp:
        return cls(
            service=service,
            token=settings.slack_bot_token or "",
            signing_secret=settings.slack_signing_secret or "",
            api_base_url=settings.slack_api_base_url,
            marks=marks,
        )

    async def dispatch(self, request: web.Request) -> web.Response:
        """The aiohttp handler for POST `ROUTE` (events, commands, interactivity)."""
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:
            return web.json_response({"error": "body is neither JSON nor a form"}, status=400)
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def socket_mode_handler(self, app_token: str) -> AsyncSocketModeHandler:
        return AsyncSocketModeHandler(self.bolt, app_token=app_token, logger=log)

    async def open_session(self) -> aiohttp.ClientSession:
        """One connection pool for every Web API call (else the SDK opens one per call)."""
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.bolt.client.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
            self.bolt.client.session = self._session
        return self._session

    async def close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.bolt.client.session = None

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for answers already being worked on (graceful shutdown)."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)

    def _tracked(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(listener)
        async def run(**kwargs: Any) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await listener(**kwargs)
                taken = (kwargs.get("context") or {}).get(_TAKEN)
                if taken is not None:
                    await self._marks.done(EVENT_MARK, *taken)
            finally:
                if task is not None:
                    self._inflight.discard(task)

        return run

    async def _on_mention(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        channel = str(event.get("channel", ""))
        if event.get("channel_type") == "im" or channel.startswith("D"):
            return  # the message.im listener answers direct messages
        thread = str(event.get("thread_ts") or event.get("ts", ""))
        team = _team(context, event)
        message = Message(
            text=_question(event.get("text"), context.bot_user_id),
            user_id=f"{team}:{event.get('user', '')}",
            conversation_id=f"{team}:{channel}:{thread}",
            platform=PLATFORM,
            address=address(channel, thread),
        )
        await self._answer(message, client, channel, thread, ts=str(event.get("ts") or ""))

    async def _on_message(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in ANSWERED_SUBTYPES:
            return  # edits, deletions, joins ...
        channel = str(event.get("channel", ""))
        thread = event.get("thread_ts")
        team = _team(context, event)
        message = Message(
            text=_question(event.get("text"), context.bot_user_id),
            user_id=f"{team}:{event.get('user', '')}",
            conversation_id=f"{team}:{channel}",
            platform=PLATFORM,
            address=address(channel, thread),
        )
        await self._answer(message, client, channel, thread, ts=str(event.get("ts") or ""))

    async def _on_command(
        self,
        ack: Callable[..., Awaitable[None]],
        command: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        team = context.team_id or command.get("team_id", "")
        user = command.get("user_id", "")
        conversation = f"{team}:{command.get('channel_id', '')}:{user}"
        message = Message(
            text=_question(command.get("text"), context.bot_user_id),
            user_id=f"{team}:{user}",
            conversation_id=conversation,
            platform=PLATFORM,
            address=address(user, None),
        )
        rendered = render_reply(await self._service.handle(message), conversation_id=conversation)
        await respond(blocks=rendered.blocks, text=rendered.text, response_type="ephemeral")

    async def _on_option(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        thread = container.get("thread_ts")
        team = context.team_id or ""
        user = (body.get("user") or {}).get("id", "")
        label = str((action.get("text") or {}).get("text", ""))
        conversation = conversation_from_block_id(str(action.get("block_id", "")))
        message = Message(
            text=label,
            choice=str(action.get("value", "")),
            user_id=f"{team}:{user}",
            conversation_id=conversation or _click_conversation(team, channel, user, container),
            platform=PLATFORM,
            address=address(channel, thread),
        )
        reply = await self._service.handle(message)
        rendered = render_reply(reply, conversation_id=message.conversation_id)
        if container.get("is_ephemeral") or "message_ts" not in container:
            await respond(blocks=rendered.blocks, text=rendered.text, replace_original=True)
            return
        original = (body.get("message") or {}).get("blocks") or []
        await client.chat_update(
            channel=channel,
            ts=container["message_ts"],
            blocks=_answered(original, label),
            text=escape(label),
        )
        await post_reply(client, channel, thread, reply, conversation_id=message.conversation_id)

    async def _on_rating(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A 👍/👎 click: the service records it; the buttons give way to its thanks."""
        await ack()
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        team = context.team_id or ""
        user = (body.get("user") or {}).get("id", "")
        message = Message(
            text="",
            choice=str(action.get("value", "")),
            user_id=f"{team}:{user}",
            conversation_id=_click_conversation(team, channel, user, container),
            platform=PLATFORM,
        )
        reply = await self._service.handle(message)
        thanks = escape(" ".join(reply.paragraphs))
        if container.get("is_ephemeral") or "message_ts" not in container:
            await respond(text=thanks, response_type="ephemeral", replace_original=False)
            return
        original = (body.get("message") or {}).get("blocks") or []
        await client.chat_update(
            channel=channel,
            ts=container["message_ts"],
            blocks=_rated(original, thanks),
            text=str((body.get("message") or {}).get("text", "")),
        )

    async def _answer(
        self, message: Message, client: AsyncWebClient, channel: str, thread: str | None, *, ts: str
    ) -> None:
        """Answer a message once, whichever events (ids) carry it: marked by channel + ts."""
        mark = f"{channel}:{ts}"
        token = await self._marks.take(MESSAGE_MARK, mark, lease=EVENT_LEASE) if ts else ""
        if token is None:
            log.info("message %s is answered already (another event carried it)", mark)
            return
        reply = await self._service.handle(message)
        await post_reply(client, channel, thread, reply, conversation_id=message.conversation_id)
        if token:
            await self._marks.done(MESSAGE_MARK, mark, token)


def _question(text: object, bot_user_id: str | None) -> str:
    """The user's words without the bot's own mention; a bare mention asks for help."""
    raw = text if isinstance(text, str) else ""
    cleaned = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), raw)
    return cleaned.strip() or HELP_TEXT


def _team(context: AsyncBoltContext, event: dict[str, Any]) -> str:
    return str(context.team_id or event.get("team") or "")


def _click_conversation(team: str, channel: str, user: str, container: dict[str, Any]) -> str:
    if container.get("is_ephemeral"):
        return f"{team}:{channel}:{user}"
    thread = container.get("thread_ts")
    return f"{team}:{channel}:{thread}" if thread else f"{team}:{channel}"


def _answered(blocks: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    """The clicked message with its option buttons replaced by the choice made."""
    chosen = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"→ {escape(label)}"}]}
    kept: list[dict[str, Any]] = []
    for block in blocks:
        if str(block.get("block_id", "")).startswith(CLARIFY_BLOCK_PREFIX):
            if chosen not in kept:
                kept.append(chosen)
        else:
            kept.append(block)
    return kept


def _rated(blocks: list[dict[str, Any]], thanks: str) -> list[dict[str, Any]]:
    """The rated message with its 👍/👎 buttons replaced by the thanks (and no second vote)."""
    done = {"type": "context", "elements": [{"type": "mrkdwn", "text": thanks}]}
    return [done if block.get("block_id") == RATE_BLOCK_ID else block for block in blocks]


async def _ignore() -> None:
    """Events we do not subscribe to on purpose still get their 200."""


async def _acknowledge(ack: Callable[..., Awaitable[None]]) -> None:
    await ack()
