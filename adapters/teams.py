"""Microsoft Teams: `POST /api/messages` through botbuilder's `CloudAdapter`, and proactive sends.

Every botbuilder import of the project lives in this module. Microsoft archived the Bot Framework
SDK (botbuilder-python; support ended 2025-12-31) in favour of the Microsoft 365 Agents SDK
(`microsoft-agents-hosting-aiohttp` for Python); moving to it means rewriting this one file.

The adapter is a converter: an Activity becomes one `bot.messages.Message` (the bot's own @-mention
removed), `Service.handle` answers, and the `Reply` goes back as an Adaptive Card
(`adapters.render_cards`). A card button click arrives as a message whose `value` is
`{"choice": <Option.value>}`. The bot greets once per conversation when it is itself added
(conversationUpdate).

Authentication: `MICROSOFT_APP_ID` + `MICROSOFT_APP_PASSWORD` (+ `MICROSOFT_APP_TENANT_ID` for
SingleTenant) turn on JWT validation, and a request without a valid token gets 401. With no app id
it runs unauthenticated, for local testing only, and says so in the log when mounted.

`Message.address` is JSON `{"reference": <ConversationReference>, "tenant_id": ...}`; the tenant
is kept beside the reference because botbuilder 4.17 drops `conversation.tenantId` from it.
`TeamsSender.send(address, reply)` continues that conversation: proactive sends land on
`{serviceUrl}/v3/conversations/{id}/activities/<a new id>`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from azure.core.exceptions import DeserializationError
from botbuilder.core import InvokeResponse, TurnContext  # type: ignore[import-untyped]
from botbuilder.integration.aiohttp import (  # type: ignore[import-untyped]
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (  # type: ignore[import-untyped]
    Activity,
    ActivityTypes,
    Attachment,
    ConversationReference,
    ErrorResponseException,
)
from botframework.connector.aio import ConnectorClient  # type: ignore[import-untyped]
from botframework.connector.auth import (  # type: ignore[import-untyped]
    AppCredentials,
    AuthenticateRequestResult,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    UserTokenClient,
)
from msrest import Serializer
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict

from adapters import render_cards
from bot.messages import Message, Reply
from bot.ports import DeliveryError
from bot.settings import Settings
from bot.sharedstate import Marks, MemoryMarks

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
MAX_TEXT = 4000  # characters of a user's message passed on to the core
MAX_BODY = 256 * 1024  # bytes of an incoming activity
WELCOME_MARK = "teams:welcome"  # Marks kind of a conversation greeted once
WELCOME_LEASE = 30.0  # seconds to send the welcome before another delivery may try again
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
PERMANENT_STATUSES = frozenset({401, 403, 404})
REPLY_ATTEMPTS = 3  # a reply inside a turn is retried this often before giving up
MAX_RETRY_WAIT = 5.0  # seconds a turn waits for one retry at most
CONNECTOR_TIMEOUT = 30.0  # seconds for one call to the Bot Framework connector

TEAMS_SENDER: web.AppKey[TeamsSender] = web.AppKey("teams_sender")


class Service(Protocol):
    """What this adapter needs of `bot.service.Service`."""

    async def handle(self, message: Message) -> Reply: ...


@dataclass(frozen=True, slots=True)
class _AuthConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None


def enabled(settings: Settings) -> bool:
    """Teams is served when an app id is configured or HANDLEDARBOT_TEAMS=true (unauthenticated)."""
    return bool(settings.microsoft_app_id) or settings.teams_enabled


def authenticated(settings: Settings) -> bool:
    return bool(settings.microsoft_app_id)


def create_adapter(settings: Settings) -> CloudAdapter:
    """A CloudAdapter fed from Settings; an app id without a password is a configuration error."""
    app_id = settings.microsoft_app_id or ""
    password = settings.microsoft_app_password or ""
    app_type = settings.microsoft_app_type
    if app_id and not password and app_type.lower() != "userassignedmsi":
        raise ValueError("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is missing.")
    if app_type.lower() == "singletenant" and app_id and not settings.microsoft_app_tenant_id:
        raise ValueError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID.")
    if not app_id:
        app_type = "MultiTenant"  # the only type that allows authentication off
    config = _AuthConfig(app_id, password, app_type, settings.microsoft_app_tenant_id)
    return CloudAdapter(_ReusingAuthentication(config))


class _ReusingAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """Keeps connector and token clients across turns instead of building them per activity.

    botbuilder 4.17 builds two msrest clients per turn; each computes a ~500,000-step retry table
    and sends through `requests` in worker threads with its own session (a new TCP connection per
    reply). Here a connector client is made once per (app id, serviceUrl, audience) and sends over
    one aiohttp session; its AppCredentials fetch and refresh the token (`_BearerPolicy`).
    """

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self.connectors: OrderedDict[tuple[str | None, str, str | None], Any] = OrderedDict()
        self._token_clients: dict[str | None, UserTokenClient] = {}
        self._session: ClientSession | None = None

    def session(self) -> ClientSession:
        """The aiohttp session replies and proactive sends go through (made on first use)."""
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=ClientTimeout(total=CONNECTOR_TIMEOUT))
        return self._session

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusingFactory(
                result.connector_factory, self, _app_id(result.claims_identity)
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        inner = super().create_connector_factory(claims_identity)
        return _ReusingFactory(inner, self, _app_id(claims_identity))

    async def close(self) -> None:
        """Close the HTTP session replies and proactive sends use (on server shutdown)."""
        self.connectors.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        if key not in self._token_clients:
            self._token_clients[key] = await super().create_user_token_client(claims_identity)
        return self._token_clients[key]


@dataclass(frozen=True, slots=True)
class _RawResponse:
    """What msrest's HttpOperationError keeps as `.response` (status and headers for retries)."""

    status_code: int
    headers: CIMultiDict[str]
    reason: str | None

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise OSError(f"HTTP {self.status_code} {self.reason or ''}".strip())


class _AioResponse(AsyncClientResponse):
    def __init__(
        self, request: Any, status: int, headers: Any, reason: str | None, body: bytes
    ) -> None:
        raw = _RawResponse(status, CIMultiDict(headers), reason)
        super().__init__(request, raw)
        self.status_code = status
        self.headers = raw.headers
        self.reason = reason
        self._body = body

    def body(self) -> bytes:
        return self._body


class _AioSender(AsyncHTTPSender[Any, Any]):
    """msrest transport over one shared aiohttp session (msrest's runs `requests` in threads)."""

    def __init__(self, session: Callable[[], ClientSession]) -> None:
        self._session = session

    async def __aenter__(self) -> _AioSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        return None

    def build_context(self) -> None:
        return None

    async def send(self, request: Request[Any], **config: Any) -> Response[Any, Any]:
        http = request.http_request
        async with self._session().request(
            http.method, http.url, headers=dict(http.headers), data=http.data
        ) as response:
            body = await response.read()
            result = _AioResponse(http, response.status, response.headers, response.reason, body)
        return Response(request, result)


class _BearerPolicy(AsyncHTTPPolicy[Any, Any]):
    """Adds the bot's token as AppCredentials.signed_session does for `requests` sessions."""

    def __init__(self, credentials: AppCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Request[Any], **kwargs: Any) -> Response[Any, Any]:
        if self._credentials.microsoft_app_id:
            token = await asyncio.to_thread(self._credentials.get_access_token)
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        assert self.next is not None
        return await self.next.send(request, **kwargs)


def _aiohttp_client(original: Any, service_url: str, session: Callable[[], ClientSession]) -> Any:
    """The same connector client (credentials, user agent) sending over aiohttp."""
    credentials = original.config.credentials
    if not isinstance(credentials, AppCredentials):
        return original  # some other credential type: keep botbuilder's own transport

    def pipeline(config: Any) -> AsyncPipeline[Any, Any]:
        policies = [
            config.user_agent_policy,
            _BearerPolicy(credentials),
            RawDeserializer(),
            config.http_logger_policy,
        ]
        return AsyncPipeline(policies, _AioSender(session))

    client = ConnectorClient(credentials, base_url=service_url, pipeline_type=pipeline)
    client.config.user_agent_policy = original.config.user_agent_policy
    serializer = _CardSerializer(client._serialize.dependencies)  # type: ignore[no-untyped-call]
    client._serialize = client.conversations._serialize = serializer
    client.attachments._serialize = serializer
    return client


class _CardSerializer(Serializer):
    """msrest's Serializer, except that an Activity's attachment `content` dicts go out as they are.

    msrest validates and copies a generic object value by value (`serialize_object`, with an
    `eval` per boolean): for an Adaptive Card a few hundred calls, about 0.3 ms per reply, the
    largest single cost of a Teams answer. The cards come from `render_cards` as JSON-ready dicts
    (str, int, bool, None, lists and dicts), for which that walk returns an equal copy; the rest of
    the Activity still goes through msrest, without its client-side validation pass, which checks
    nothing here: no model of botbuilder's schema declares a constraint (`_validation` is empty),
    and the conversions it tries are done again by the serialization itself.
    """

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        attachments = getattr(data, "attachments", None) if data_type == "Activity" else None
        contents = [a.content if isinstance(a.content, dict) else None for a in attachments or []]
        if not any(content is not None for content in contents):
            return super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]
        assert attachments is not None
        for attachment, content in zip(attachments, contents, strict=True):
            if content is not None:
                attachment.content = None
        validating, self.client_side_validation = self.client_side_validation, False
        try:
            serialized = super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            self.client_side_validation = validating
            for attachment, content in zip(attachments, contents, strict=True):
                if content is not None:
                    attachment.content = content
        items = serialized.get("attachments") if isinstance(serialized, dict) else None
        if not isinstance(items, list) or len(items) != len(contents):
            # An unexpected shape: msrest throughout.
            return super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]
        for item, content in zip(items, contents, strict=True):
            if content is not None:
                item["content"] = content
        return serialized


class _ReusingFactory(ConnectorFactory):  # type: ignore[misc]
    MAX_CLIENTS = 64  # Teams uses a handful of regional service URLs

    def __init__(
        self,
        inner: ConnectorFactory,
        owner: _ReusingAuthentication,
        app_id: str | None,
    ) -> None:
        self._inner = inner
        self._owner = owner
        self._cache = owner.connectors
        self._app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            original = await self._inner.create(service_url, audience)
            client = _aiohttp_client(original, service_url, self._owner.session)
            self._cache[key] = client
            while len(self._cache) > self.MAX_CLIENTS:
                self._cache.popitem(last=False)
        return client


def _app_id(identity: ClaimsIdentity | None) -> str | None:
    if identity is None or not identity.claims:
        return None
    app_id: str | None = JwtTokenValidation.get_app_id_from_claims(identity.claims)
    return app_id


def mount(
    app: web.Application, *, settings: Settings, service: Service, marks: Marks | None = None
) -> None:
    """Add `POST /api/messages` to `app`; the sender for reminders is then `app[TEAMS_SENDER]`.

    `marks` remembers the conversations greeted (shared by replicas when it is the database's).
    """
    adapter = create_adapter(settings)
    if not authenticated(settings):
        log.warning(
            "Teams: MICROSOFT_APP_ID is not set; /api/messages accepts unauthenticated requests. "
            "Use this for local testing only."
        )
    bot = TeamsBot(service=service, marks=marks)
    app.router.add_post(ROUTE, _handler(adapter, bot))
    sender = TeamsSender(adapter=adapter, app_id=settings.microsoft_app_id)
    app[TEAMS_SENDER] = sender

    async def close(_: web.Application) -> None:
        await sender.close()

    app.on_cleanup.append(close)


def _handler(
    adapter: CloudAdapter, bot: TeamsBot
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        activity = await _read_activity(request)
        auth_header = request.headers.get("Authorization", "")
        try:
            auth = await adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except Exception as error:  # PermissionError, or a malformed token with auth off
            log.info("Teams: refused a request: %s", type(error).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            invoke: InvokeResponse | None = await adapter.process_activity(
                auth, activity, bot.on_turn
            )
        except Exception:
            log.exception("Teams: turn failed for a %s activity", activity.type)
            return web.json_response({"error": "turn failed"}, status=500)
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=201)

    return handle


async def _read_activity(request: web.Request) -> Activity:
    """The request's Activity, or an HTTP error a sender can act on (400, 413, 415)."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="expected application/json")
    size = request.content_length or 0
    if size > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=size)
    try:
        body = json.loads(await request.read())
        activity = Activity().deserialize(body) if isinstance(body, dict) else None
    except (ValueError, DeserializationError):
        activity = None
    if activity is None or not activity.type:
        raise web.HTTPBadRequest(text="expected a Bot Framework Activity as JSON")
    return activity


class TeamsBot:
    """The turn logic: messages and card clicks to the core, a welcome when added."""

    def __init__(self, *, service: Service, marks: Marks | None = None) -> None:
        self._service = service
        self._greeted: Marks = MemoryMarks() if marks is None else marks

    async def on_turn(self, turn: TurnContext) -> None:
        activity = turn.activity
        if activity.type == ActivityTypes.message:
            await self._on_message(turn)
        elif activity.type == ActivityTypes.conversation_update:
            await self._on_conversation_update(turn)
        # Other activity types (typing, reactions, installationUpdate...) need no answer.

    async def _on_message(self, turn: TurnContext) -> None:
        message = to_message(turn.activity)
        if message is None:
            return
        reply = await self._service.handle(message)
        await send_reply(turn, reply)

    async def _on_conversation_update(self, turn: TurnContext) -> None:
        activity = turn.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m.id for m in activity.members_added or []]
        conversation_id = activity.conversation.id if activity.conversation else None
        if not bot_id or bot_id not in added or not conversation_id:
            return
        token = await self._greeted.take(WELCOME_MARK, conversation_id, lease=WELCOME_LEASE)
        if token is None:
            return  # greeted already, by this replica or another
        english = (activity.locale or "").lower().startswith("en")
        hello = Message(
            text="help" if english else "hjälp",
            user_id=bot_id,
            conversation_id=conversation_id,
            platform="teams",
            address=address_of(activity),
        )
        await send_reply(turn, await self._service.handle(hello))
        await self._greeted.done(WELCOME_MARK, conversation_id, token)


def to_message(activity: Activity) -> Message | None:
    """The core Message for a Teams message activity; None when it carries nothing to answer."""
    conversation_id = activity.conversation.id if activity.conversation else None
    sender = activity.from_property
    if not conversation_id or sender is None:
        return None
    value = activity.value if isinstance(activity.value, dict) else {}
    choice = value.get("choice")
    choice = choice if isinstance(choice, str) and choice else None
    text = strip_mentions(activity)[:MAX_TEXT]
    if choice is None and not text and value:
        return None  # some other card's submit, not ours
    return Message(
        text=text,
        user_id=sender.aad_object_id or sender.id or "",
        conversation_id=conversation_id,
        platform="teams",
        choice=choice,
        address=address_of(activity),
    )


_AT = re.compile(r"<at(?:\s[^>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def strip_mentions(activity: Activity) -> str:
    """The text without the bot's own @-mention; other mentions keep just the name.

    Equivalent to `TurnContext.remove_recipient_mention`, which in 4.17 uses the mention text as a
    regular expression (a bot name with "(" or "+" breaks it) and mutates the activity.
    """
    text = activity.text or ""
    bot = activity.recipient
    for entity in activity.entities or []:
        if (entity.type or "").lower() != "mention":
            continue
        props: dict[str, Any] = getattr(entity, "additional_properties", None) or {}
        mentioned = props.get("mentioned") or {}
        mention_text = props.get("text")
        ours = bot is not None and isinstance(mentioned, dict) and mentioned.get("id") == bot.id
        if ours and isinstance(mention_text, str) and mention_text:
            text = text.replace(mention_text, " ")
    bot_name = (bot.name or "").strip().lower() if bot else ""

    def unwrap(match: re.Match[str]) -> str:
        inner = match.group(1)
        return " " if bot_name and inner.strip().lower() == bot_name else inner

    return " ".join(_AT.sub(unwrap, text).split())


def address_of(activity: Activity) -> str:
    """Opaque JSON the core stores to reach this conversation later (reminders)."""
    reference = TurnContext.get_conversation_reference(activity)
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    return json.dumps({"reference": reference.serialize(), "tenant_id": tenant_id})


def reply_activity(reply: Reply) -> Activity:
    """The Activity that carries `reply`: an Adaptive Card, its summary for notifications."""
    attachment = render_cards.render_attachment(reply)
    # Files (the calendar export) travel inline as data URLs: a bot cannot upload to the user's
    # OneDrive without the file-consent flow, and an .ics is a few kilobytes.
    files = [
        Attachment(
            content_type=file.content_type,
            name=file.filename,
            content_url=f"data:{file.content_type};base64,"
            + base64.b64encode(file.data).decode("ascii"),
        )
        for file in reply.attachments
    ]
    return Activity(
        type=ActivityTypes.message,
        summary=render_cards.summary(reply),
        attachments=[
            Attachment(content_type=attachment["contentType"], content=attachment["content"]),
            *files,
        ],
    )


async def send_reply(turn: TurnContext, reply: Reply) -> None:
    """Send `reply` in the turn, retrying 412/429/502/503/504 with backoff and jitter."""
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            await turn.send_activity(reply_activity(reply))
            return
        except ErrorResponseException as error:
            status, retry_after = _status_of(error)
            if status not in RETRY_STATUSES or attempt == REPLY_ATTEMPTS:
                raise
            await asyncio.sleep(_backoff(attempt, retry_after))


def _backoff(attempt: int, retry_after: float | None) -> float:
    base = retry_after if retry_after is not None else 0.5 * 2 ** (attempt - 1)
    return min(MAX_RETRY_WAIT, base) + random.uniform(0, 0.25)


def _status_of(error: ErrorResponseException) -> tuple[int | None, float | None]:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    try:
        retry_after: float | None = float(str(headers["Retry-After"]))
    except (KeyError, TypeError, ValueError):
        retry_after = None
    return status, retry_after


class TeamsSender:
    """`bot.ports.Sender` for Teams: delivers a Reply to an address made by `address_of`."""

    def __init__(self, *, adapter: CloudAdapter, app_id: str | None) -> None:
        self._adapter = adapter
        self._app_id = app_id or None

    @classmethod
    def from_settings(cls, settings: Settings) -> TeamsSender:
        return cls(adapter=create_adapter(settings), app_id=settings.microsoft_app_id)

    async def close(self) -> None:
        """Close the HTTP sessions kept for replies and proactive sends."""
        auth = self._adapter.bot_framework_authentication
        if isinstance(auth, _ReusingAuthentication):
            await auth.close()

    async def send(self, address: str, reply: Reply) -> None:
        reference = _reference_of(address)

        async def deliver(turn: TurnContext) -> None:
            await turn.send_activity(reply_activity(reply))

        try:
            await self._adapter.continue_conversation(reference, deliver, self._app_id)
        except ErrorResponseException as error:
            status, retry_after = _status_of(error)
            permanent = status in PERMANENT_STATUSES or (
                status is not None and 400 <= status < 500 and status not in RETRY_STATUSES
            )
            raise DeliveryError(
                f"Teams refused the message (HTTP {status})",
                permanent=permanent,
                retry_after=retry_after,
            ) from error
        except (TimeoutError, ClientError, OSError) as error:
            raise DeliveryError(f"Teams unreachable: {error}", permanent=False) from error


def _reference_of(address: str) -> ConversationReference:
    try:
        data = json.loads(address)
        reference = ConversationReference().deserialize(data["reference"])
    except (ValueError, KeyError, TypeError, DeserializationError) as error:
        raise DeliveryError("not a Teams address", permanent=True) from error
    if not reference.service_url or not reference.conversation:
        raise DeliveryError("Teams address lacks serviceUrl or conversation", permanent=True)
    if data.get("tenant_id") and not reference.conversation.tenant_id:
        reference.conversation.tenant_id = data["tenant_id"]
    return reference
