"""Microsoft Teams: `POST /api/messages` through botbuilder's `CloudAdapter`, and proactive sends.

botbuilder is imported here and in `adapters.botframework` (the SDK internals this project
replaces, with why). Microsoft archived the Bot Framework SDK (botbuilder-python; support ended
2025-12-31) in favour of the Microsoft 365 Agents SDK (`microsoft-agents-hosting-aiohttp` for
Python); moving to it means rewriting these two files.

The adapter is a converter: an Activity becomes one `bot.messages.Message` (the bot's own @-mention
removed), `Service.handle` answers, and the `Reply` goes back as an Adaptive Card
(`adapters.render_cards`). A card button click arrives as a message whose `value` is
`{"choice": <Option.value>}`. The bot greets once per conversation when it is itself added
(conversationUpdate). `TeamsBot` uses botbuilder's `TeamsActivityHandler` hooks; files go through
the file-consent flow in personal chat and a short-lived download link elsewhere (`FileOffers`).

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
import json
import logging
import random
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from azure.core.exceptions import DeserializationError
from botbuilder.core import InvokeResponse, TurnContext  # type: ignore[import-untyped]
from botbuilder.core.teams import TeamsActivityHandler  # type: ignore[import-untyped]
from botbuilder.integration.aiohttp import CloudAdapter  # type: ignore[import-untyped]
from botbuilder.schema import (  # type: ignore[import-untyped]
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    Attachment,
    ChannelAccount,
    ConversationReference,
    ErrorResponseException,
)
from botbuilder.schema.teams import (  # type: ignore[import-untyped]
    FileConsentCard,
    FileConsentCardResponse,
    FileInfoCard,
)

from adapters import render_cards
from adapters.botframework import (
    CardAttachment,
    ReplyActivity,
    ReusingAuthentication,
    create_adapter,
    read_model,
    write_model,
)
from adapters.platforms import teams_enabled
from bot.messages import Attachment as File
from bot.messages import Message, Reply
from bot.ports import DeliveryError, MessageHandler
from bot.settings import Settings
from bot.sharedstate import Marks, MemoryMarks

__all__ = ["TEAMS_SENDER", "TeamsBot", "TeamsSender", "create_adapter", "enabled", "mount"]

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
FILES_ROUTE = "/teams/files/{token}"  # short-lived download links for files outside personal chat
MAX_TEXT = 4000  # characters of a user's message passed on to the core
MAX_BODY = 256 * 1024  # bytes of an incoming activity
WELCOME_MARK = "teams:welcome"  # Marks kind of a conversation greeted once
WELCOME_LEASE = 30.0  # seconds to send the welcome before another delivery may try again
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
PERMANENT_STATUSES = frozenset({401, 403, 404})
REPLY_ATTEMPTS = 3  # a reply inside a turn is retried this often before giving up
MAX_RETRY_WAIT = 5.0  # seconds a turn waits for one retry at most
FILE_TTL = 3600.0  # seconds a file offer (consent card or download link) stays valid
MAX_FILE_OFFERS = 1000  # offers kept at once; the oldest go first
UPLOAD_TIMEOUT = 30.0  # seconds for uploading one accepted file to the user's OneDrive
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CARD_REFRESH = "application/vnd.microsoft.card.adaptive"  # an invoke answer that replaces the card

# The public origin (`https://host`) this request reached, for download links in its replies.
_origin: ContextVar[str | None] = ContextVar("teams_origin", default=None)

TEAMS_SENDER: web.AppKey[TeamsSender] = web.AppKey("teams_sender")


def enabled(settings: Settings) -> bool:
    """Teams is served when an app id is configured or HANDLEDARBOT_TEAMS=true (unauthenticated)."""
    return teams_enabled(settings)


def authenticated(settings: Settings) -> bool:
    return bool(settings.microsoft_app_id)


def mount(
    app: web.Application,
    *,
    settings: Settings,
    service: MessageHandler,
    marks: Marks | None = None,
) -> None:
    """Add `POST /api/messages` and `GET /teams/files/{token}` to `app`.

    The sender for reminders is then `app[TEAMS_SENDER]`. `marks` remembers the conversations
    greeted (shared by replicas when it is the database's).
    """
    adapter = create_adapter(settings)
    if not authenticated(settings):
        log.warning(
            "Teams: MICROSOFT_APP_ID is not set; /api/messages accepts unauthenticated requests. "
            "Use this for local testing only."
        )
    offers = FileOffers()
    public_url = (settings.public_url or "").rstrip("/") or None
    bot = TeamsBot(service=service, offers=offers, marks=marks)
    app.router.add_post(ROUTE, _handler(adapter, bot, public_url))
    app.router.add_get(FILES_ROUTE, _file_download(offers))
    sender = TeamsSender(
        adapter=adapter, app_id=settings.microsoft_app_id, offers=offers, public_url=public_url
    )
    app[TEAMS_SENDER] = sender

    async def close(_: web.Application) -> None:
        await sender.close()

    app.on_cleanup.append(close)


def _handler(
    adapter: CloudAdapter, bot: TeamsBot, public_url: str | None
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
        token = _origin.set(public_url or f"{request.scheme}://{request.host}")
        try:
            invoke: InvokeResponse | None = await adapter.process_activity(
                auth, activity, bot.on_turn
            )
        except Exception:
            log.exception("Teams: turn failed for a %s activity", activity.type)
            return web.json_response({"error": "turn failed"}, status=500)
        finally:
            _origin.reset(token)
        if invoke is not None:
            if invoke.body is None:
                return web.Response(status=invoke.status)
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=201)

    return handle


_ACCOUNT_FIELDS = ("from", "recipient", "conversation")


async def _read_activity(request: web.Request) -> Activity:
    """The request's Activity, or an HTTP error a sender can act on (400, 413, 415).

    Beyond JSON: the fields the turn reads must have the schema's types (`type`, `id`, `text`,
    `serviceUrl`, `locale` strings; `from`, `recipient`, `conversation` objects; `entities`,
    `membersAdded`, `attachments` lists of objects), else 400 instead of a failed turn.
    """
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="expected application/json")
    size = request.content_length or 0
    if size > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=size)
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    problem = _shape_problem(body)
    if problem is not None:
        raise web.HTTPBadRequest(text=f"expected a Bot Framework Activity as JSON: {problem}")
    try:
        activity = read_model("Activity", body)
    except (ValueError, TypeError, DeserializationError):
        activity = None
    if activity is None or not activity.type:
        raise web.HTTPBadRequest(text="expected a Bot Framework Activity as JSON")
    return activity


def _shape_problem(body: object) -> str | None:
    if not isinstance(body, dict):
        return "not a JSON object"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "type is missing"
    for key in ("id", "text", "serviceUrl", "locale", "channelId", "name", "replyToId"):
        if key in body and not isinstance(body[key], str | None):
            return f"{key} is not a string"
    for key in _ACCOUNT_FIELDS:
        value = body.get(key)
        if key in body and not isinstance(value, dict | None):
            return f"{key} is not an object"
        if isinstance(value, dict) and not isinstance(value.get("id"), str | None):
            return f"{key}.id is not a string"
    for key in ("entities", "membersAdded", "membersRemoved", "attachments"):
        items = body.get(key)
        if (
            key in body
            and items is not None
            and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items))
        ):
            return f"{key} is not a list of objects"
    return None


class TeamsBot(TeamsActivityHandler):  # type: ignore[misc]
    """The turn logic on botbuilder's `ActivityHandler` hooks.

    - `on_message_activity`: messages and `Action.Submit` clicks to the core, the reply back.
    - `on_teams_members_added_dispatch` / `on_members_added_activity`: a welcome, once per
      conversation, when the bot itself is added (no roster lookups for other members).
    - `on_adaptive_card_invoke`: an `Action.Execute` (`adaptiveCard/action`) whose data carries
      `choice` is answered like a click, the answer card replacing the clicked one.
    - `on_teams_file_consent_accept` / `_decline`: the file-consent flow for files in personal
      chat (upload to the `uploadUrl` Teams gives, then a file info card; or a short note).
    - `on_invoke_activity`: every other invoke gets 200 with an empty body, not botbuilder's 501.
    Other activity types (typing, reactions, installationUpdate ...) need no answer.
    """

    def __init__(
        self,
        *,
        service: MessageHandler,
        offers: FileOffers | None = None,
        marks: Marks | None = None,
    ) -> None:
        super().__init__()
        self._service = service
        self._offers = offers or FileOffers()
        # Conversations greeted (shared by replicas when `marks` is the database's).
        self._greeted: Marks = MemoryMarks() if marks is None else marks

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        message = to_message(turn_context.activity)
        if message is None:
            return
        reply = await self._service.handle(message)
        await send_reply(turn_context, reply, self._offers)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        response: InvokeResponse | None = await super().on_invoke_activity(turn_context)
        if response is None or response.status == 501:
            return InvokeResponse(status=200)
        return response

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """An `Action.Execute` carrying `{"choice": ...}`: the clicked card becomes the answer
        (the Universal Actions refresh); other verbs get the same card back unchanged."""
        action = invoke_value.action
        data = action.get("data") if isinstance(action, dict) else getattr(action, "data", None)
        choice = data.get("choice") if isinstance(data, dict) else None
        activity = turn_context.activity
        sender = activity.from_property
        conversation_id = activity.conversation.id if activity.conversation else None
        if not isinstance(choice, str) or not choice or sender is None or not conversation_id:
            return AdaptiveCardInvokeResponse(status_code=200, type=CARD_REFRESH, value=None)
        message = Message(
            text="",
            user_id=sender.aad_object_id or sender.id or "",
            conversation_id=conversation_id,
            platform="teams",
            choice=choice,
            address=address_of(activity),
        )
        reply = await self._service.handle(message)
        if reply.attachments:
            await send_reply(turn_context, reply, self._offers)
        return AdaptiveCardInvokeResponse(
            status_code=200, type=CARD_REFRESH, value=render_cards.render_card(reply)
        )

    async def on_teams_file_consent_accept(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        lang = _lang(turn_context.activity)
        info = file_consent_card_response.upload_info
        offer = self._offers.take(_offer_token(file_consent_card_response.context))
        if offer is None or info is None or not info.upload_url:
            await turn_context.send_activity(_note(FILE_WORDS[lang]["expired"]))
            return
        try:
            await upload(info.upload_url, offer.data)
        except (ClientError, TimeoutError) as error:
            log.warning("Teams: uploading an accepted file failed: %s", type(error).__name__)
            await turn_context.send_activity(_note(FILE_WORDS[lang]["failed"]))
            return
        card = FileInfoCard(unique_id=info.unique_id, file_type=info.file_type)
        attachment = Attachment(
            content=card.serialize(),
            content_type=FILE_INFO_CARD,
            name=info.name or offer.filename,
            content_url=info.content_url,
        )
        ready = Activity(
            type=ActivityTypes.message,
            text=FILE_WORDS[lang]["ready"].format(name=info.name or offer.filename),
            attachments=[attachment],
        )
        await turn_context.send_activity(ready)

    async def on_teams_file_consent_decline(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        self._offers.take(_offer_token(file_consent_card_response.context))
        await turn_context.send_activity(
            _note(FILE_WORDS[_lang(turn_context.activity)]["declined"])
        )

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        await self._greet(members_added, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self._greet(members_added, turn_context)

    async def _greet(self, members_added: list[ChannelAccount], turn: TurnContext) -> None:
        activity = turn.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m.id for m in members_added or []]
        conversation_id = activity.conversation.id if activity.conversation else None
        if not bot_id or bot_id not in added or not conversation_id:
            return
        token = await self._greeted.take(WELCOME_MARK, conversation_id, lease=WELCOME_LEASE)
        if token is None:
            return  # greeted already, by this replica or another
        english = _lang(activity) == "en"
        hello = Message(
            text="help" if english else "hjälp",
            user_id=bot_id,
            conversation_id=conversation_id,
            platform="teams",
            address=address_of(activity),
        )
        await send_reply(turn, await self._service.handle(hello), self._offers)
        await self._greeted.done(WELCOME_MARK, conversation_id, token)


def _lang(activity: Activity) -> str:
    return "en" if (activity.locale or "").lower().startswith("en") else "sv"


def _note(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text)


def _offer_token(context: object) -> str:
    token = context.get("offer") if isinstance(context, dict) else None
    return token if isinstance(token, str) else ""


FILE_WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "consent": "Vill du spara {name} i din OneDrive?",
        "ready": "{name} finns nu i din OneDrive.",
        "declined": "Okej, filen sparades inte.",
        "expired": "Erbjudandet har gått ut. Be om filen igen.",
        "failed": "Filen kunde inte sparas just nu. Försök igen om en stund.",
        "link": "Ladda ner {name} (länken gäller en timme)",
        "personal_only": "Filen {name} kan hämtas i en personlig chatt med Handledarbot.",
    },
    "en": {
        "consent": "Save {name} to your OneDrive?",
        "ready": "{name} is now in your OneDrive.",
        "declined": "All right, the file was not saved.",
        "expired": "That offer has expired. Ask for the file again.",
        "failed": "The file could not be saved just now. Try again in a while.",
        "link": "Download {name} (the link works for one hour)",
        "personal_only": "The file {name} can be fetched in a personal chat with Handledarbot.",
    },
}


@dataclass(frozen=True, slots=True)
class _Offer:
    file: File
    expires: float


class FileOffers:
    """Files offered to a user, under an unguessable token (`secrets.token_urlsafe(32)`).

    A consent card's token is taken once (accept or decline); a download link's token works
    until it expires (`FILE_TTL`). In memory: an offer made on one replica is only known there,
    and a restart forgets it (the user is told to ask again).
    """

    def __init__(self, *, ttl: float = FILE_TTL, clock: Callable[[], float] = time.monotonic):
        self._offers: OrderedDict[str, _Offer] = OrderedDict()
        self._ttl = ttl
        self._clock = clock

    def offer(self, file: File) -> str:
        token = secrets.token_urlsafe(32)
        self._offers[token] = _Offer(file, self._clock() + self._ttl)
        while len(self._offers) > MAX_FILE_OFFERS:
            self._offers.popitem(last=False)
        return token

    def peek(self, token: str) -> File | None:
        offer = self._offers.get(token)
        if offer is None:
            return None
        if offer.expires < self._clock():
            del self._offers[token]
            return None
        return offer.file

    def take(self, token: str) -> File | None:
        file = self.peek(token)
        self._offers.pop(token, None)
        return file


def _file_download(offers: FileOffers) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def download(request: web.Request) -> web.Response:
        file = offers.peek(request.match_info["token"])
        if file is None:
            return web.json_response(
                {"error": "this link has expired or never existed"}, status=404
            )
        safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", file.filename) or "file"
        return web.Response(
            body=file.data,
            content_type=file.content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{safe_name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    return download


async def upload(url: str, data: bytes) -> None:
    """PUT `data` to a OneDrive upload session URL from a file consent (one range, as Microsoft's
    file-upload sample does)."""
    headers = {
        "Content-Length": str(len(data)),
        "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
    }
    async with (
        ClientSession(timeout=ClientTimeout(total=UPLOAD_TIMEOUT)) as session,
        session.put(url, data=data, headers=headers) as response,
    ):
        response.raise_for_status()


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
    return json.dumps({"reference": write_model(reference), "tenant_id": tenant_id})


def reply_activity(
    reply: Reply,
    *,
    offers: FileOffers | None = None,
    personal: bool = False,
    origin: str | None = None,
) -> Activity:
    """The Activity that carries `reply`: an Adaptive Card, its summary for notifications.

    Files (the calendar export): in personal chat a file consent card each (Teams then asks the
    user to save it to OneDrive, see `TeamsBot.on_teams_file_consent_accept`); elsewhere a card
    with a download link at `origin` (`FILES_ROUTE`, valid `FILE_TTL`); without an origin a note
    that the file is available in personal chat.
    """
    attachment = render_cards.render_attachment(reply)
    attachments = [
        CardAttachment(content_type=attachment["contentType"], content=attachment["content"])
    ]
    words = FILE_WORDS["en" if reply.lang == "en" else "sv"]
    offers = offers or FileOffers()
    for file in reply.attachments:
        if personal:
            token = offers.offer(file)
            card = FileConsentCard(
                description=words["consent"].format(name=file.filename),
                size_in_bytes=len(file.data),
                accept_context={"offer": token},
                decline_context={"offer": token},
            )
            attachments.append(
                CardAttachment(
                    content_type=CONSENT_CARD, name=file.filename, content=card.serialize()
                )
            )
        elif origin:
            url = origin + FILES_ROUTE.replace("{token}", offers.offer(file))
            link = render_cards.link_card(words["link"].format(name=file.filename), url)
            attachments.append(
                CardAttachment(content_type=link["contentType"], content=link["content"])
            )
        else:
            note = render_cards.link_card(words["personal_only"].format(name=file.filename), None)
            attachments.append(
                CardAttachment(content_type=note["contentType"], content=note["content"])
            )
    return ReplyActivity(
        type=ActivityTypes.message, summary=render_cards.summary(reply), attachments=attachments
    )


def _personal(activity: Activity) -> bool:
    conversation = activity.conversation
    return bool(conversation and (conversation.conversation_type or "personal") == "personal")


async def send_reply(turn: TurnContext, reply: Reply, offers: FileOffers | None = None) -> None:
    """Send `reply` in the turn, retrying 412/429/502/503/504 with backoff and jitter."""
    activity = reply_activity(
        reply, offers=offers, personal=_personal(turn.activity), origin=_origin.get()
    )
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            await turn.send_activity(activity)
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

    def __init__(
        self,
        *,
        adapter: CloudAdapter,
        app_id: str | None,
        offers: FileOffers | None = None,
        public_url: str | None = None,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id or None
        self._offers = offers or FileOffers()
        self._public_url = public_url

    @classmethod
    def from_settings(cls, settings: Settings) -> TeamsSender:
        return cls(
            adapter=create_adapter(settings),
            app_id=settings.microsoft_app_id,
            public_url=(settings.public_url or "").rstrip("/") or None,
        )

    async def close(self) -> None:
        """Close the HTTP sessions kept for replies and proactive sends."""
        auth = self._adapter.bot_framework_authentication
        if isinstance(auth, ReusingAuthentication):
            await auth.close()

    async def send(self, address: str, reply: Reply) -> None:
        reference = _reference_of(address)

        async def deliver(turn: TurnContext) -> None:
            personal = (reference.conversation.conversation_type or "personal") == "personal"
            activity = reply_activity(
                reply, offers=self._offers, personal=personal, origin=self._public_url
            )
            await turn.send_activity(activity)

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
        reference = read_model("ConversationReference", data["reference"])
    except (ValueError, KeyError, TypeError, DeserializationError) as error:
        raise DeliveryError("not a Teams address", permanent=True) from error
    if not reference.service_url or not reference.conversation:
        raise DeliveryError("Teams address lacks serviceUrl or conversation", permanent=True)
    if data.get("tenant_id") and not reference.conversation.tenant_id:
        reference.conversation.tenant_id = data["tenant_id"]
    return reference
