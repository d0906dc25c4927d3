"""Slack: events, the slash command and button clicks in; Block Kit replies out.

A converter, nothing more: each Slack payload becomes one `bot.messages.Message`, the service
answers, and `render_slack` lays the `Reply` out. bolt's `AsyncApp` verifies every HTTP request's
signature and timestamp with the signing secret and acknowledges before the listener runs, so
Slack's 3-second limit holds however long an answer takes.

Conversations: a channel mention is `team:channel:thread` (the reply goes in that thread), a
direct message `team:channel`, a slash command `team:channel:user` (its replies are ephemeral).
Addresses, for later proactive messages, are JSON `{"channel": ..., "thread_ts": ...}`; a slash
command's address is the user's DM with the app.

Slack re-delivers an event it thinks timed out. A delivery whose `event_id` was seen before, or a
retry Slack made because of a timeout (we acknowledge at once, so the first delivery arrived),
is acknowledged and dropped: a question is never answered twice. Slack has also delivered one
message under two event ids (node-slack-sdk #1867), so a message event is dropped too when its
team + channel + `ts` + event type was seen before (`message_key`). What was taken in lives in
`Marks` (the database's, shared by every replica, when the server runs with a store), so a
question is never answered twice, not even after a restart; a retry of an event that no replica
finished within `EVENT_LEASE` seconds (the first delivery died with its replica) is answered,
once.

Other bots (events with `bot_id`, `app_id`, `bot_profile` or subtype `bot_message`) and edits
(`edited` on a mention, `message_changed` in a DM) are never answered: two bots cannot answer each
other forever, and an edited question does not get a second answer. Emoji shortcodes (`:+1:`) are
read as the emoji they name (the `emoji` package's table plus Slack's `::skin-tone-N:`), and a
colleague named with @ (`<@U0ANNA>`) becomes their display name, as a typed name would read
("handledning med Anna Svensson"; `users.info`, else the label Slack sent, else `@<user id>`).

Every HTTP request's signature is checked here, before bolt (whose own check logs the whole body
on failure): a missing or non-numeric timestamp, a bad signature or a timestamp more than five
minutes off is a 401 that logs no body; a signed payload of the wrong shape is a 400.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import emoji
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
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
from bot.messages import Message
from bot.ports import MessageHandler
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
MESSAGE_MARK = "slack:message"  # Marks kind of a message (`message_key`) taken in
EVENT_LEASE = 30.0  # seconds a replica has to finish an event before a retry may take it
_TAKEN = "handledarbot_event_marks"  # bolt context key: the marks this request took
NAMES_LIMIT = 2_000  # user display names remembered
NAME_TTL = 3600.0  # seconds a display name is reused before users.info is asked again
SIGNATURE_WINDOW = 300  # seconds a request's timestamp may be off (Slack's rule, as bolt's)
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_SKIN_TONE = re.compile(r":skin-tone-([2-6]):")


def message_key(body: dict[str, Any]) -> str | None:
    """`msg:<team>:<channel>:<ts>:<event type>` of a message event, None for other payloads.

    The event type is part of the key: a DM that @-mentions the bot arrives both as `message`
    and as `app_mention` with one `ts`, and only the `message` one is answered.
    """
    event = body.get("event")
    if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
        return None
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return None
    team = body.get("team_id") or event.get("team") or ""
    return f"msg:{team}:{channel}:{ts}:{event['type']}"


class DropRedeliveries(AsyncMiddleware):
    """Acknowledge and drop an event that some replica took in (and finished, or is working on).

    "Took in" is one mark in `Marks` (the database's, shared by every replica, when the server
    runs with a store): a message event's `message_key`, which a retry of the event and the same
    message under another event id share; for other events, the `event_id`. A retry of an event
    no replica finished within `EVENT_LEASE` seconds (the first delivery died with its replica)
    is answered, once.
    """

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
            key = message_key(req.body)
            kind, mark = (EVENT_MARK, event_id) if key is None else (MESSAGE_MARK, key)
            token = await self._marks.take(kind, mark, lease=EVENT_LEASE)
            if token is None:
                reasons = req.headers.get("x-slack-retry-reason") or []
                reason = reasons[0] if reasons else None
                log.info("dropped re-delivered event %s (retry reason %s)", event_id, reason)
                return BoltResponse(status=200, body="")
            req.context[_TAKEN] = [(kind, mark, token)]
        return await next()


class SlackApp:
    """The bolt app with Handledarbot's listeners, for HTTP (`dispatch`) or Socket Mode."""

    def __init__(
        self,
        *,
        service: MessageHandler,
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
        # Signatures are checked in `dispatch` (bolt's check logs the body of a refused request).
        # The listeners take `event`, `context`, `client`, `ack`, `respond`: never `say`,
        # `set_status`, `say_stream` or the assistant utilities, which bolt's conversation
        # middleware would otherwise build for every event.
        self.bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            name="handledarbot",
            logger=log,
            request_verification_enabled=False,
            attaching_conversation_kwargs_enabled=False,
        )
        # Socket Mode needs no signing secret (nothing arrives over HTTP then).
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._service = service
        self._marks: Marks = MemoryMarks() if marks is None else marks
        self._names: OrderedDict[str, tuple[str, float]] = OrderedDict()
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
        cls, *, settings: Settings, service: MessageHandler, marks: Marks | None = None
    ) -> SlackApp:
        return cls(
            service=service,
            token=settings.slack_bot_token or "",
            signing_secret=settings.slack_signing_secret or "",
            api_base_url=settings.slack_api_base_url,
            marks=marks,
        )

    async def dispatch(self, request: web.Request) -> web.Response:
        """The aiohttp handler for POST `ROUTE` (events, commands, interactivity).

        401 for a missing, malformed or stale timestamp or a bad signature, 400 for a signed body
        that is not a Slack payload; neither logs the body.
        """
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not self._signed(raw, timestamp, signature):
            log.info(
                "Slack: refused a request with a bad signature or timestamp (%d bytes)", len(raw)
            )
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            text = raw.decode("utf-8")
            # bolt's own parser, run first: bolt reads fields while building its request object
            problem = shape_problem(parse_body(text, request.content_type))
        except ValueError:
            return web.json_response({"error": "body is neither JSON nor a form"}, status=400)
        if problem is not None:
            log.info("Slack: refused a signed payload of the wrong shape: %s", problem)
            return web.json_response({"error": f"not a Slack payload: {problem}"}, status=400)
        # What bolt's `to_bolt_request` builds, from the body already read and decoded.
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def _signed(self, raw: bytes, timestamp: str, signature: str) -> bool:
        if self._verifier is None:
            return False
        if not timestamp.isascii() or not timestamp.isdigit() or not signature.isascii():
            return False
        if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW:
            return False
        expected = self._verifier.generate_signature(timestamp=timestamp, body=raw)
        return expected is not None and hmac.compare_digest(expected, signature)

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
                for kind, key, token in (kwargs.get("context") or {}).get(_TAKEN) or ():
                    await self._marks.done(kind, key, token)
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
        if _from_a_bot(event, context) or event.get("edited"):
            return  # another bot (they could answer each other forever), or an edit
        thread = str(event.get("thread_ts") or event.get("ts", ""))
        team = _team(context, event)
        message = Message(
            text=await self._question(event.get("text"), context, client),
            user_id=f"{team}:{event.get('user', '')}",
            conversation_id=f"{team}:{channel}:{thread}",
            platform=PLATFORM,
            address=address(channel, thread),
        )
        await self._answer(message, client, channel, thread)

    async def _on_message(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or _from_a_bot(event, context):
            return
        if event.get("subtype") not in ANSWERED_SUBTYPES:
            return  # edits, deletions, joins ...
        channel = str(event.get("channel", ""))
        thread = event.get("thread_ts")
        team = _team(context, event)
        message = Message(
            text=await self._question(event.get("text"), context, client),
            user_id=f"{team}:{event.get('user', '')}",
            conversation_id=f"{team}:{channel}",
            platform=PLATFORM,
            address=address(channel, thread),
        )
        await self._answer(message, client, channel, thread)

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
        self, message: Message, client: AsyncWebClient, channel: str, thread: str | None
    ) -> None:
        reply = await self._service.handle(message)
        await post_reply(client, channel, thread, reply, conversation_id=message.conversation_id)

    async def _question(
        self, text: object, context: AsyncBoltContext, client: AsyncWebClient
    ) -> str:
        """`_question`, with each other user's `<@U…>` read as their display name."""
        raw = text if isinstance(text, str) else ""
        names: dict[str, str] = {}
        for match in _MENTION.finditer(raw):
            user = match.group(1)
            if user != context.bot_user_id and user not in names:
                names[user] = await self._display_name(client, user, match.group(2))
        return _question(raw, context.bot_user_id, names)

    async def _display_name(self, client: AsyncWebClient, user: str, label: str | None) -> str:
        """`users.info`'s display name (else real name, user name); the label or id on failure."""
        known = self._names.get(user)
        if known is not None and time.monotonic() - known[1] < NAME_TTL:
            return known[0]
        try:
            response = await client.users_info(user=user)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.info("Slack: users.info for a mention failed: %s", type(error).__name__)
            return (label or "").strip() or f"@{user}"
        found = response.get("user") or {}
        profile = found.get("profile") or {} if isinstance(found, dict) else {}
        name = next(
            (
                str(candidate).strip()
                for candidate in (
                    profile.get("display_name"),
                    profile.get("real_name"),
                    found.get("real_name") if isinstance(found, dict) else None,
                    found.get("name") if isinstance(found, dict) else None,
                )
                if isinstance(candidate, str) and candidate.strip()
            ),
            (label or "").strip() or f"@{user}",
        )
        self._names[user] = (name, time.monotonic())
        while len(self._names) > NAMES_LIMIT:
            self._names.popitem(last=False)
        return name


def _question(text: object, bot_user_id: str | None, names: dict[str, str] | None = None) -> str:
    """The user's words without the bot's own mention; a bare mention asks for help.

    Other users' mentions become their name from `names` (user id → name), else the label Slack
    sent, else `@<user id>`; emoji shortcodes become emoji (`read_shortcodes`).
    """
    raw = text if isinstance(text, str) else ""

    def mentioned(match: re.Match[str]) -> str:
        user = match.group(1)
        if user == bot_user_id:
            return ""
        name = (names or {}).get(user) or (match.group(2) or "").strip()
        return name or f"@{user}"

    cleaned = read_shortcodes(_MENTION.sub(mentioned, raw))
    return cleaned.strip() or HELP_TEXT


def read_shortcodes(text: str) -> str:
    """Slack's emoji shortcodes as the emoji they name: `tack :+1:` → `tack 👍`.

    Names and aliases come from the `emoji` package (the Unicode emoji list with GitHub/Slack
    aliases); Slack's skin tone suffix `::skin-tone-2:` … `::skin-tone-6:` becomes the Fitzpatrick
    modifier U+1F3FB … U+1F3FF. Unknown shortcodes (a workspace's custom emoji) stay as typed.
    """
    if ":" not in text:
        return text
    toned = _SKIN_TONE.sub(lambda m: chr(0x1F3FB + int(m.group(1)) - 2), text)
    return emoji.emojize(toned, language="alias")


def _from_a_bot(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    """An event another bot or app (or this one) sent."""
    return bool(
        event.get("bot_id")
        or event.get("app_id")
        or event.get("bot_profile")
        or event.get("subtype") == "bot_message"
        or (context.bot_user_id and event.get("user") == context.bot_user_id)
    )


_TEXT_FIELDS = ("type", "channel", "user", "ts", "thread_ts", "text", "team", "channel_type")


def shape_problem(body: object) -> str | None:
    """What makes a signed body unusable for bolt and our listeners, or None when it is fine.

    Checks the fields bolt and the listeners read: the body is an object; `event`, `user`,
    `team`, `channel`, `container` are objects where they are not ids; `authorizations` and
    `actions` are lists of objects; ids and texts are strings.
    """
    if not isinstance(body, dict):
        return "the body is not an object"
    for key in ("event_id", "team_id", "api_app_id", "type", "command", "text", "user_id"):
        if key in body and not isinstance(body[key], str | None):
            return f"{key} is not a string"
    for key in ("authorizations", "actions"):
        items = body.get(key)
        if key in body and (
            not isinstance(items, list) or not all(isinstance(i, dict) for i in items)
        ):
            return f"{key} is not a list of objects"
    for key in ("user", "team", "channel", "container", "message", "enterprise"):
        value = body.get(key)
        if key in body and not isinstance(value, dict | str | None):
            return f"{key} is neither an object nor an id"
    event = body.get("event")
    if "event" in body and not isinstance(event, dict):
        return "event is not an object"
    if isinstance(event, dict):
        for key in _TEXT_FIELDS:
            if key in event and not isinstance(event[key], str | None):
                return f"event.{key} is not a string"
    return None


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
