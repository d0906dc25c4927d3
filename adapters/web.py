"""The web chat page: `GET /`, `GET /static/<file>`, `GET /api/welcome`, `POST /api/chat`,
`POST /api/inbox`.

The page is plain HTML, CSS and JavaScript from `adapters/web_static/`, read once when mounted and
served from memory (only those files: no path ever reaches the file system). Nothing is fetched
from another host; the Content-Security-Policy header says so to the browser too.

`POST /api/chat` is a converter like the other adapters: `{"text": ..., "choice": ..., "session":
...}` becomes one `bot.messages.Message` (platform "web"), `Service.handle` answers, and the `Reply`
goes back as JSON (`reply_json`). The session is an opaque random id the server issues on the
first request and the page keeps in localStorage; it keys the conversation (the open clarifying
question). The user id is "local" in local mode (the server bound to 127.0.0.1/localhost, one
person at their own machine) and "web:<session>" otherwise — anyone holding a session id is that
user, so reminders made on a public page are only as private as the browser that made them.

Proactive replies (reminders) go through `WebInbox`, the `bot.ports.Sender` for platform "web"
(`app[WEB_SENDER]`): they wait in memory until the open page fetches them from `/api/inbox`
(it asks every 20 seconds while visible). A reply waiting when the server restarts is lost; the
reminder itself stays in the store and comes again at its next meeting.

Settings (read with getattr until `bot.settings.Settings` has them): `web_enabled`
(HANDLEDARBOT_WEB; default: on when the host is local), `web_coordinator`
(HANDLEDARBOT_WEB_COORDINATOR; each reply then carries the matched entry id and score).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.messages import CourseFact, Lang, Message, Reply
from bot.ports import DeliveryError, MessageHandler
from bot.settings import Settings
from bot.wording import WORDING, course_facts

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "web_static"
STATIC_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY = 64 * 1024  # bytes of one POST /api/chat body
MAX_TEXT = 2000  # characters of one question
MAX_CHOICE = 200  # characters of one option value
MAX_WAITING = 20  # proactive replies kept per user until the page fetches them
MAX_INBOXES = 10_000  # users with waiting replies; the longest-untouched is dropped first
SESSION = re.compile(r"[A-Za-z0-9_-]{16,64}")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


WEB_SENDER: web.AppKey[WebInbox] = web.AppKey("web_sender")


def enabled(settings: Settings) -> bool:
    """HANDLEDARBOT_WEB when set; otherwise on exactly when the server binds a local address."""
    setting: bool | None = getattr(settings, "web_enabled", None)
    return local_mode(settings) if setting is None else setting


def local_mode(settings: Settings) -> bool:
    return settings.host.strip("[]").lower() in LOCAL_HOSTS


def coordinator(settings: Settings) -> bool:
    return bool(getattr(settings, "web_coordinator", False))


def mount(app: web.Application, *, settings: Settings, service: MessageHandler) -> None:
    """Add the page and its JSON endpoints to `app`; the proactive sender is `app[WEB_SENDER]`."""
    inbox = WebInbox()
    chat = WebChat(
        service=service,
        inbox=inbox,
        local=local_mode(settings),
        coordinator=coordinator(settings),
    )
    app[WEB_SENDER] = inbox
    app.router.add_get("/", chat.page)
    app.router.add_get("/static/{name}", chat.static)
    app.router.add_get("/api/welcome", chat.welcome)
    app.router.add_post("/api/chat", chat.chat)
    app.router.add_post("/api/inbox", chat.inbox)


class WebInbox:
    """`bot.ports.Sender` for the page: each user's proactive replies wait here until fetched."""

    def __init__(self, *, per_user: int = MAX_WAITING, users: int = MAX_INBOXES) -> None:
        self._per_user = per_user
        self._users = users
        self._waiting: OrderedDict[str, deque[Reply]] = OrderedDict()

    async def send(self, address: str, reply: Reply) -> None:
        try:
            user = json.loads(address)["user"]
        except (ValueError, KeyError, TypeError) as error:
            raise DeliveryError("not a web address", permanent=True) from error
        if not isinstance(user, str) or not user:
            raise DeliveryError("web address without a user", permanent=True)
        waiting = self._waiting.pop(user, None) or deque(maxlen=self._per_user)
        waiting.append(reply)
        self._waiting[user] = waiting
        while len(self._waiting) > self._users:
            self._waiting.popitem(last=False)

    def take(self, user: str) -> list[Reply]:
        """The replies waiting for `user`, oldest first; they are gone from here afterwards."""
        return list(self._waiting.pop(user, ()))


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


def load_static(directory: Path = STATIC_DIR) -> dict[str, StaticFile]:
    return {
        path.name: StaticFile(path.read_bytes(), STATIC_TYPES[path.suffix])
        for path in sorted(directory.iterdir())
        if path.suffix in STATIC_TYPES
    }


class BadRequest(Exception):
    """A request the endpoint refuses; `message` is shown to the user as it is."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class ChatRequest:
    text: str
    choice: str | None
    session: str


class WebChat:
    """The request handlers, holding the service and the page's files."""

    def __init__(
        self, *, service: MessageHandler, inbox: WebInbox, local: bool, coordinator: bool
    ) -> None:
        self._service = service
        self._inbox = inbox
        self._local = local
        self._coordinator = coordinator
        self._files = load_static()

    async def page(self, request: web.Request) -> web.Response:
        return self._file("index.html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "index.html" or name not in self._files:
            raise web.HTTPNotFound(text="no such file")
        return self._file(name)

    def _file(self, name: str) -> web.Response:
        file = self._files[name]
        return web.Response(
            body=file.body,
            content_type=file.content_type,
            charset="utf-8",
            headers=SECURITY_HEADERS,
        )

    async def welcome(self, request: web.Request) -> web.Response:
        lang: Lang = "en" if request.query.get("lang") == "en" else "sv"
        words = WORDING[lang]
        body = {
            "lang": lang,
            "intro": words.intro,
            "examples_lead": words.examples_lead,
            "examples": list(words.examples),
            "coordinator": self._coordinator,
        }
        return web.json_response(body, headers=SECURITY_HEADERS)

    async def chat(self, request: web.Request) -> web.Response:
        try:
            asked = parse_request(await _read_json(request))
        except BadRequest as error:
            return _error(error.message, error.status)
        try:
            reply = await self._service.handle(self._message(asked))
        except Exception:
            log.exception("web: the service failed on a question")
            return _error(
                "Något gick fel hos boten; försök igen. / Something went wrong; please try again.",
                500,
            )
        body = {"session": asked.session, **reply_json(reply, coordinator=self._coordinator)}
        if self._coordinator and reply.kind in ("knowledge", "clarify", "no_match"):
            # Why this reply: the same lines as `handledarbot explain` (read without the
            # conversation's context, so a follow-up shows how it reads alone).
            explain = getattr(self._service, "engine", None)
            if explain is not None and asked.text:
                body["explain"] = explain.explain_text(asked.text).splitlines()
        return web.json_response(body, dumps=_dumps, headers=SECURITY_HEADERS)

    async def inbox(self, request: web.Request) -> web.Response:
        try:
            body = await _read_json(request)
        except BadRequest as error:
            return _error(error.message, error.status)
        session = body.get("session") if isinstance(body, dict) else None
        if not self._local and not (isinstance(session, str) and SESSION.fullmatch(session)):
            return web.json_response({"replies": []}, headers=SECURITY_HEADERS)
        replies = self._inbox.take(self._user(str(session)))
        rendered = [reply_json(r, coordinator=self._coordinator) for r in replies]
        return web.json_response({"replies": rendered}, dumps=_dumps, headers=SECURITY_HEADERS)

    def _user(self, session: str) -> str:
        return "local" if self._local else f"web:{session}"

    def _message(self, asked: ChatRequest) -> Message:
        user = self._user(asked.session)
        return Message(
            text=asked.text,
            user_id=user,
            conversation_id=f"web:{asked.session}",
            platform="web",
            choice=asked.choice,
            address=json.dumps({"session": asked.session, "user": user}),
        )


async def _read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise BadRequest("Skicka JSON. / Send JSON (Content-Type: application/json).", status=415)
    if (request.content_length or 0) > MAX_BODY:
        raise BadRequest(_too_large(), status=413)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BadRequest(_too_large(), status=413) from None
    if len(raw) > MAX_BODY:
        raise BadRequest(_too_large(), status=413)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("Ogiltig JSON. / The body is not valid JSON.") from None


def _too_large() -> str:
    return (
        f"För stor förfrågan (högst {MAX_BODY} byte). / Request too large (max {MAX_BODY} bytes)."
    )


def parse_request(body: Any) -> ChatRequest:
    """The validated request, or `BadRequest` saying what is wrong, in Swedish and English."""
    if not isinstance(body, dict):
        raise BadRequest('Skicka ett JSON-objekt. / Send a JSON object: {"text": "..."}.')
    text, choice, session = body.get("text", ""), body.get("choice"), body.get("session")
    if not isinstance(text, str):
        raise BadRequest('"text" ska vara en sträng. / "text" must be a string.')
    if choice is not None and (not isinstance(choice, str) or not choice):
        raise BadRequest('"choice" ska vara en sträng. / "choice" must be a non-empty string.')
    if session is not None and not isinstance(session, str):
        raise BadRequest('"session" ska vara en sträng. / "session" must be a string.')
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise BadRequest(
            f"Frågan är för lång (högst {MAX_TEXT} tecken). / "
            f"The question is too long (at most {MAX_TEXT} characters)."
        )
    if choice is not None and len(choice) > MAX_CHOICE:
        raise BadRequest('"choice" är för lång. / "choice" is too long.')
    if not text and choice is None:
        raise BadRequest("Skriv en fråga. / Type a question.")
    if session is None or not SESSION.fullmatch(session):
        session = secrets.token_urlsafe(18)
    return ChatRequest(text=text, choice=choice, session=session)


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def reply_json(reply: Reply, *, coordinator: bool) -> dict[str, Any]:
    """The Reply as the page reads it; labels in the reply's language from `bot.wording`."""
    words = WORDING[reply.lang]
    body: dict[str, Any] = {
        "status": str(reply.status),
        "lang": reply.lang,
        "kind": reply.kind,
        "paragraphs": list(reply.paragraphs),
        "question": reply.question,
        "courses": [_course(course, reply.lang) for course in reply.courses],
        "options": [{"label": o.label, "value": o.value} for o in reply.options],
        "sources": [
            {
                "title": s.title,
                "publisher": s.publisher,
                "scope": s.scope,
                "source_date": s.source_date,
                "reviewed": s.reviewed.isoformat(),
                "url": s.url,
            }
            for s in reply.sources
        ],
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "data": base64.b64encode(a.data).decode("ascii"),
            }
            for a in reply.attachments
        ],
        "labels": {
            "source": words.source,
            "sources": words.sources,
            "scope": words.scope,
            "source_date": words.source_date,
            "reviewed": words.reviewed,
            "link": words.link,
        },
    }
    if coordinator:
        body["entry_id"] = reply.entry_id
        body["score"] = reply.score
    return body


def _course(course: CourseFact, lang: Lang) -> dict[str, Any]:
    return {
        "name": course.name,
        "facts": [
            {"label": label, "value": value} for label, value in course_facts(course, WORDING[lang])
        ],
        "links": list(course.links),
    }
