"""botbuilder 4.17 internals replaced for speed and safety; the only place that touches them.

Why this module exists: `adapters.teams` is a converter (activity in, `Message` to the core, reply
activity out). What botbuilder-python 4.17.1 does badly underneath lives here, each part written
against that version's source (botframework-connector and botbuilder-integration-aiohttp 4.17.1,
msrest 0.7.1) and covered by tests/test_teams.py over HTTP against tests/fakes/connector.py:

- `ReusingAuthentication` / `_ReusingFactory`: botbuilder builds two msrest clients per turn, each
  with its own `requests` session in worker threads; here one connector client per (app id,
  serviceUrl, audience) sends over one aiohttp session (`_AioSender`, `_BearerPolicy` adds the
  token as `AppCredentials.signed_session` would).
- `_CardSerializer`: msrest's Serializer without its value-by-value walk of Adaptive Card dicts,
  and without the deserialization pass `Serializer.body` makes over an Activity that is already
  made of schema models throughout.
- `ReplyActivity`, `CardAttachment`: the reply Activity and its attachments, which
  `TurnContext.send_activities`' deep copy of each outgoing activity copies without walking the
  unset attributes, sharing the card (never changed once rendered) instead of copying it.
- `read_model` / `write_model`: `Model.deserialize` / `Model.serialize` for the schema's models
  with one msrest deserializer and serializer for the process; msrest builds both, and the table
  of the schema's classes they need, on every call.
- `OpenIdMetadata` (issue 14): botbuilder's `_OpenIdMetadata._refresh` calls `requests.get`
  synchronously, without a timeout, inside the async request handler, whenever its key cache is
  empty or a token names an unknown key id; a slow metadata endpoint stalled the whole process
  (Slack, Teams, the web page, reminder delivery) for every such request. `install_openid_metadata`
  swaps in a cache that fetches over aiohttp with a timeout, one fetch at a time, keeps serving the
  keys it has while a refresh runs, and refetches at most every `UNKNOWN_KEY_REFETCH` seconds for
  unknown key ids (`FAILED_FETCH_RETRY` after a failed fetch), so bad tokens cannot cause a storm.

Microsoft archived the Bot Framework SDK (support ended 2025-12-31); its successor for Python is
the Microsoft 365 Agents SDK. Moving to it replaces this module and the imports of `adapters.teams`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botbuilder.schema  # type: ignore[import-untyped]
from aiohttp import ClientError, ClientSession, ClientTimeout
from azure.core.exceptions import DeserializationError, SerializationError
from botbuilder.integration.aiohttp import (  # type: ignore[import-untyped]
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, Attachment
from botframework.connector.aio import ConnectorClient  # type: ignore[import-untyped]
from botframework.connector.auth import (  # type: ignore[import-untyped]
    AppCredentials,
    AuthenticateRequestResult,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    UserTokenClient,
)
from botframework.connector.auth.jwt_token_extractor import (  # type: ignore[import-untyped]
    JwtTokenExtractor,
    _OpenIdConfig,
)
from jwt.algorithms import RSAAlgorithm
from msrest import Deserializer, Serializer
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import (
    _FLATTEN,
    Model,
    _decode_attribute_map_key,
    rest_key_extractor,
)
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict

from bot.settings import Settings

log = logging.getLogger("adapters.teams")

CONNECTOR_TIMEOUT = 30.0  # seconds for one call to the Bot Framework connector
METADATA_TIMEOUT = 5.0  # seconds for the OpenID metadata document and its key set together
KEYS_MAX_AGE = 24 * 3600.0  # seconds before cached signing keys are refreshed (as botbuilder)
UNKNOWN_KEY_REFETCH = 3600.0  # seconds between refetches caused by an unknown key id
FAILED_FETCH_RETRY = 60.0  # seconds before a failed fetch is tried again


class OpenIdMetadata:
    """Signing keys of one OpenID metadata URL, for botbuilder's `JwtTokenExtractor`.

    `get(key_id)` answers at once from the cache when it can: keys older than `KEYS_MAX_AGE` are
    still served while one refresh runs in the background. It waits (at most `METADATA_TIMEOUT`)
    only when it has no keys at all, or for an unknown key id when the last fetch is older than
    `UNKNOWN_KEY_REFETCH`. Returns botbuilder's `_OpenIdConfig` (public key, endorsements) or
    None, which botbuilder's validation turns into a refused request.
    """

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.fetches = 0  # attempts so far, for tests and logs
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._running: asyncio.Task[None] | None = None
        self._clock = clock

    async def get(self, key_id: str | None) -> Any:
        now = self._clock()
        stale = self._fetched_at is not None and now - self._fetched_at > KEYS_MAX_AGE
        if not self._keys and self._may_fetch(now, FAILED_FETCH_RETRY):
            await self._refresh_waiting()
        elif stale and self._may_fetch(now, FAILED_FETCH_RETRY):
            self._start_refresh()  # serve the keys we have meanwhile
        if self._keys and key_id not in self._keys and self._may_fetch(now, UNKNOWN_KEY_REFETCH):
            await self._refresh_waiting()
        return self._config(key_id)

    def _may_fetch(self, now: float, pause: float) -> bool:
        return self._tried_at is None or now - self._tried_at >= pause

    def _start_refresh(self) -> asyncio.Task[None]:
        running = self._running
        if (
            running is None
            or running.done()
            or running.get_loop() is not asyncio.get_running_loop()
        ):
            self._tried_at = self._clock()
            running = self._running = asyncio.create_task(self._refresh())
        return running

    async def _refresh_waiting(self) -> None:
        task = self._start_refresh()
        # The fetch ends at its own timeout; this request goes on without new keys after ours.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), METADATA_TIMEOUT)

    async def _refresh(self) -> None:
        self.fetches += 1
        timeout = ClientTimeout(total=METADATA_TIMEOUT)
        try:
            async with ClientSession(timeout=timeout) as session:
                async with session.get(self.url) as response:
                    response.raise_for_status()
                    keys_url = (await response.json(content_type=None))["jwks_uri"]
                async with session.get(keys_url) as response:
                    response.raise_for_status()
                    keys = (await response.json(content_type=None))["keys"]
            self._keys = {str(k["kid"]): k for k in keys if isinstance(k, dict) and "kid" in k}
            self._fetched_at = self._clock()
        except (ClientError, TimeoutError, ValueError, KeyError, TypeError) as error:
            log.warning(
                "Teams: could not fetch the OpenID signing keys from %s (%s); %s",
                self.url,
                type(error).__name__,
                "keeping the cached keys" if self._keys else "tokens are refused until it works",
            )

    def _config(self, key_id: str | None) -> Any:
        key = self._keys.get(key_id or "")
        if key is None:
            return None
        return _OpenIdConfig(RSAAlgorithm.from_jwk(json.dumps(key)), key.get("endorsements", []))


_METADATA: dict[str, OpenIdMetadata] = {}


def openid_metadata(url: str) -> OpenIdMetadata:
    """The one cache of `url`'s keys in this process."""
    if url not in _METADATA:
        _METADATA[url] = OpenIdMetadata(url)
    return _METADATA[url]


def install_openid_metadata() -> None:
    """Make botbuilder's token validation use `OpenIdMetadata` (idempotent)."""
    JwtTokenExtractor.get_open_id_metadata = staticmethod(openid_metadata)
    JwtTokenExtractor.metadataCache.clear()


@dataclass(frozen=True, slots=True)
class _AuthConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None


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
    install_openid_metadata()
    return CloudAdapter(ReusingAuthentication(config))


class ReusingAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
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


# botbuilder's schema classes by name, as msrest's `Model._infer_class_models` finds them for the
# schema's models (every class of the package), built once.
SCHEMA_CLASSES: dict[str, type] = {
    name: value for name, value in vars(botbuilder.schema).items() if isinstance(value, type)
}


class _Reader(Deserializer):
    """msrest's Deserializer for JSON (dicts): the XML key extractor, which answers None for any
    dict, is left out, and the keys each model knows (to find its additional properties) are
    computed once per model instead of on every object deserialized."""

    def __init__(self, classes: dict[str, type]) -> None:
        super().__init__(classes)  # type: ignore[no-untyped-call]
        self.key_extractors = [rest_key_extractor]
        self._known: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}

    def _deserialize(self, target_obj: Any, data: Any) -> Any:
        """msrest's `_deserialize` of a JSON object into a schema model, taking a `str`, `bool`,
        `int` or `float` value of exactly the declared type (or a missing one) as it is, as
        msrest's `deserialize_data` returns it; any other value goes to `deserialize_data`, and
        anything but a plain model (polymorphic, with validation, flattened keys) to msrest."""
        cls: Any = self.dependencies.get(target_obj) if isinstance(target_obj, str) else target_obj
        layout = (
            _layout(cls)
            if isinstance(data, dict)
            and isinstance(cls, type)
            and issubclass(cls, Model)
            and not cls.__dict__.get("_subtype_map")
            and not getattr(cls, "_validation", None)
            else None
        )
        if layout is None:
            return super()._deserialize(target_obj, data)  # type: ignore[no-untyped-call]
        values: dict[str, Any] = {}
        try:
            for attr, key, kind, _ in layout:
                if key is None:
                    continue  # additional properties: below
                raw = data.get(key)
                if raw is None or type(raw) is _PLAIN.get(kind):
                    values[attr] = raw
                else:
                    values[attr] = self.deserialize_data(raw, kind)  # type: ignore[no-untyped-call]
        except (AttributeError, TypeError, KeyError) as error:
            raise DeserializationError(
                f"Unable to deserialize to object: {cls.__name__}"
            ) from error
        extra = self._build_additional_properties(cls._attribute_map, data)
        return self._instantiate_model(cls, values, extra)  # type: ignore[no-untyped-call]

    def _build_additional_properties(self, attribute_map: dict[str, Any], data: Any) -> Any:
        if not isinstance(data, dict) or not self.additional_properties_detection:
            return super()._build_additional_properties(attribute_map, data)  # type: ignore[no-untyped-call]
        extra = attribute_map.get("additional_properties")
        if extra is not None and extra.get("key") != "":
            return None  # a model with a real "additionalProperties" attribute
        known = self._known.get(id(attribute_map))
        if known is None or known[0] is not attribute_map:
            keys = frozenset(
                _decode_attribute_map_key(_FLATTEN.split(desc["key"])[0])  # type: ignore[no-untyped-call]
                for desc in attribute_map.values()
                if desc["key"] != ""
            )
            known = self._known[id(attribute_map)] = (attribute_map, keys)
        return {key: data[key] for key in data.keys() - known[1]}


_READER = _Reader(SCHEMA_CLASSES)
_WRITER = Serializer(SCHEMA_CLASSES)  # type: ignore[no-untyped-call]


_PLAIN: dict[str, type] = {"str": str, "bool": bool, "int": int, "float": float}
# Per model class: (attribute, JSON key or None for additional properties, type, map entry) of
# what msrest serializes, or None when a key is flattened ("a.b"), which is left to msrest.
_LAYOUTS: dict[type, tuple[tuple[str, str | None, str, dict[str, Any]], ...] | None] = {}


def _layout(cls: type) -> tuple[tuple[str, str | None, str, dict[str, Any]], ...] | None:
    if cls not in _LAYOUTS:
        rows: list[tuple[str, str | None, str, dict[str, Any]]] = []
        flat = True
        validation: dict[str, Any] = getattr(cls, "_validation", {})
        for attr, desc in cls._attribute_map.items():  # type: ignore[attr-defined]
            key: str = desc["key"]
            if attr == "additional_properties" and key == "":
                rows.append((attr, None, "", desc))
            elif not validation.get(attr, {}).get("readonly", False):
                flat = flat and "." not in key and "\\" not in key
                rows.append((attr, key, desc["type"], desc))
        _LAYOUTS[cls] = tuple(rows) if flat else None
    return _LAYOUTS[cls]


def fast_serialize(serializer: Serializer, value: Model) -> dict[str, Any] | None:
    """msrest's `Serializer._serialize(value)` (JSON, readonly attributes left out), doing itself
    what msrest does value by value for the common cases: a `str`, `bool`, `int` or `float`
    attribute holding exactly that type is taken as it is, a model (or a list of models) is
    serialized the same way; any other attribute goes to msrest's `serialize_data`, as msrest's
    own loop sends it. None for a model with a flattened key or an XML model (msrest's job)."""
    layout = _layout(type(value))
    if layout is None or value.is_xml_model():  # type: ignore[no-untyped-call]
        return None
    classes = serializer.dependencies
    out: dict[str, Any] = {}
    for attr, key, kind, desc in layout:
        item = getattr(value, attr)
        if key is None:
            if item is not None:
                out.update(item)
            continue
        if item is None:
            continue
        new: Any
        if type(item) is _PLAIN.get(kind):
            new = item
        elif kind in classes and isinstance(item, Model):
            new = _model_or_msrest(serializer, item, kind, desc)
        elif (
            kind.startswith("[")
            and kind[1:-1] in classes
            and type(item) is list
            and all(one is None or isinstance(one, Model) for one in item)
        ):
            new = [
                None if one is None else _model_or_msrest(serializer, one, kind[1:-1], desc)
                for one in item
            ]
        else:
            try:
                new = serializer.serialize_data(  # type: ignore[no-untyped-call]
                    item, kind, serialization_ctxt=desc, is_xml=False
                )
            except ValueError as error:
                if isinstance(error, SerializationError):
                    raise
                continue
        if key not in out:
            out[key] = new
    return out


def _model_or_msrest(serializer: Serializer, item: Model, kind: str, desc: dict[str, Any]) -> Any:
    found = fast_serialize(serializer, item)
    if found is None:
        found = serializer.serialize_data(  # type: ignore[no-untyped-call]
            item, kind, serialization_ctxt=desc, is_xml=False
        )
    return found


def read_model(model: str, data: Any) -> Any:
    """`<model>().deserialize(data)` (a dict parsed from JSON) with the process's deserializer."""
    return _READER(model, data)


def write_model(value: Model) -> Any:
    """`value.serialize()` (readonly attributes left out) with the process's serializer."""
    found = fast_serialize(_WRITER, value)
    if found is None:
        found = _WRITER.serialize_data(value, type(value).__name__)  # type: ignore[no-untyped-call]
    return found


def _copy_model(model: Model, memo: dict[int, Any], shared: str | None = None) -> Any:
    """`copy.deepcopy(model)`, with the attribute named `shared` not copied and the unset ones
    (None: most of an Activity's fifty) passed over instead of each going through deepcopy."""
    copied = copy.copy(model)
    for name, value in vars(model).items():
        if value is not None and name != shared:
            setattr(copied, name, copy.deepcopy(value, memo))
    return copied


class ReplyActivity(Activity):  # type: ignore[misc]
    """An outgoing Activity that `TurnContext.send_activities`' deep copy copies cheaply.

    Serialized exactly as an Activity (same attribute map); the copy is a deep copy, except that
    a `CardAttachment`'s content is shared."""

    def __deepcopy__(self, memo: dict[int, Any]) -> ReplyActivity:
        copied: ReplyActivity = _copy_model(self, memo)
        return copied


class CardAttachment(Attachment):  # type: ignore[misc]
    """An Attachment whose `content` (an Adaptive Card, a file card) deep copies as itself.

    `TurnContext.send_activities` deep-copies every outgoing activity before sending it; a card
    of a few hundred values made that copy cost about as much as answering the question. The
    cards are rendered for one reply and never changed afterwards, so the copy shares the content
    and copies the rest. Serialized exactly as an Attachment (same attribute map, a plain dict as
    content).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> CardAttachment:
        copied: CardAttachment = _copy_model(self, memo, shared="content")
        return copied


def _models_throughout(value: Model, classes: dict[str, type]) -> bool:
    """Whether every attribute of `value` typed as one of `classes` holds a model (in a list or
    dict where the type says so), all the way down. Then the deserialization pass of msrest's
    `Serializer.body` (meant for dicts given in place of models) leaves `value` as it is."""
    for attr, desc in value._attribute_map.items():
        item = getattr(value, attr, None)
        kind: str = desc["type"]
        if item is None or kind.strip("[]{}") not in classes:
            continue
        if kind.startswith("["):
            if not isinstance(item, list):
                return False
            items = item
        elif kind.startswith("{"):
            if not isinstance(item, dict):
                return False
            items = list(item.values())
        else:
            items = [item]
        for one in items:
            if not isinstance(one, Model) or not _models_throughout(one, classes):
                return False
    return True


class _CardSerializer(Serializer):
    """msrest's Serializer, except that an Activity's attachment `content` dicts go out as they are.

    msrest validates and copies a generic object value by value (`serialize_object`, with an
    `eval` per boolean): for an Adaptive Card a few hundred calls, about 0.3 ms per reply, the
    largest single cost of a Teams answer. The cards come from `render_cards` as JSON-ready dicts
    (str, int, bool, None, lists and dicts), for which that walk returns an equal copy; the rest of
    the Activity still goes through msrest, without its client-side validation pass, which checks
    nothing here: no model of botbuilder's schema declares a constraint (`_validation` is empty),
    and the conversions it tries are done again by the serialization itself. When the Activity is
    made of models throughout (`_models_throughout`: what `adapters.teams` builds), `body`'s
    deserialization pass, which turns dicts given in place of models into models, is skipped too.
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
            if isinstance(data, Model) and _models_throughout(data, self.dependencies):
                # What `body` does after its deserialization pass, which would change nothing.
                kwargs.setdefault("is_xml", False)
                serialized = fast_serialize(self, data) if not kwargs.get("keep_readonly") else None
                if serialized is None:
                    serialized = self.serialize_data(data, data_type, **kwargs)  # type: ignore[no-untyped-call]
            else:
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
        owner: ReusingAuthentication,
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
