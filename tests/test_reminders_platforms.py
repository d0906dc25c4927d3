"""A supervisor sets a reminder in Slack or Teams and gets it there when the meeting comes.

The whole path over real HTTP: the chat request through bolt or botbuilder, the confirmation,
the reminder stored in a real SQLite file, the scheduler on a controllable clock, and the
delivery through the platform's Sender to the local fake of Slack's Web API or of the connector.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters import server
from adapters.server import create_app
from bot.answering.engine import Engine
from bot.reminders import Reminders, build
from bot.reminders.clock import FakeClock
from bot.service import Service
from bot.settings import Settings, load_settings
from tests.fakes.connector import FakeConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.test_slack import BOT_TOKEN, DM, SECRET, SlackServer, dm
from tests.test_teams import activity

# Sunday 22 November 2026, 12:00 in Stockholm: the next Monday 08:00 is the first meeting.
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
FIRST_MEETING = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
REQUEST = "påminn mig varje måndag kl 8 om handledning med Erik"


async def reminders_for(settings: Settings, engine: Engine, senders: dict[str, Any],
                        clock: FakeClock) -> Reminders:
    knowledge = engine.knowledge
    return await build(settings, topics=knowledge.topics, sources=knowledge.sources,
                       senders=senders, clock=clock)


@pytest.fixture
async def slack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> AsyncIterator[tuple[SlackServer, Reminders, FakeClock]]:
    fake = await FakeSlackApi().start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_BASE_URL", fake.base_url)
    monkeypatch.setenv("HANDLEDARBOT_SQLITE_PATH", str(tmp_path / "reminders.db"))
    settings = load_settings(env_file=None)
    clock = FakeClock(NOW)
    senders: dict[str, Any] = {}
    reminders = await reminders_for(settings, engine, senders, clock)
    service = Service(engine=engine, commands=[reminders.commands])
    app = create_app(settings=settings, service=service)
    senders.update(server.senders(app))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as http:
        yield SlackServer(f"http://127.0.0.1:{runner.addresses[0][1]}", http, fake, service), \
            reminders, clock
    await runner.cleanup()
    await reminders.aclose()
    await fake.close()


async def test_a_reminder_set_in_a_slack_dm_arrives_in_that_dm(
    slack: tuple[SlackServer, Reminders, FakeClock],
) -> None:
    chat, reminders, clock = slack
    await chat.event(dm(REQUEST))
    await chat.api.wait_for("chat.postMessage", lambda c: "Erik" in json.dumps(c.params))
    await chat.event(dm("ja"))
    saved = await chat.api.wait_for(
        "chat.postMessage", lambda c: "Sparat" in json.dumps(c.params, ensure_ascii=False))
    assert saved.params["channel"] == DM

    assert await reminders.scheduler.run_once() == 0  # nothing is due before the meeting
    clock.set(FIRST_MEETING + timedelta(seconds=1))
    assert await reminders.scheduler.run_once() == 1
    delivered = await chat.api.wait_for(
        "chat.postMessage", lambda c: "Att ta upp" in json.dumps(c.params, ensure_ascii=False))
    assert delivered.params["channel"] == DM
    text = json.dumps(delivered.params["blocks"], ensure_ascii=False)
    assert "Erik" in text and "varje möte" in text and "Region Skåne" in text
    clock.advance(timedelta(minutes=5))
    assert await reminders.scheduler.run_once() == 0  # delivered once


@pytest.fixture
async def teams(
    tmp_path: Path, engine: Engine
) -> AsyncIterator[tuple[str, aiohttp.ClientSession, FakeConnector, Reminders, FakeClock]]:
    fake = await FakeConnector.start()
    settings = load_settings(env_file=None).model_copy(update={
        "teams_enabled": True, "sqlite_path": tmp_path / "reminders.db"})
    clock = FakeClock(NOW)
    senders: dict[str, Any] = {}
    reminders = await reminders_for(settings, engine, senders, clock)
    app = create_app(settings=settings,
                     service=Service(engine=engine, commands=[reminders.commands]))
    senders.update(server.senders(app))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as http:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", http, fake, reminders, clock
    await runner.cleanup()
    await reminders.aclose()
    await fake.close()


async def test_a_reminder_set_in_teams_arrives_as_a_proactive_card(
    teams: tuple[str, aiohttp.ClientSession, FakeConnector, Reminders, FakeClock],
) -> None:
    url, http, fake, reminders, clock = teams
    for text in (REQUEST, "ja"):
        before = len(fake.posted)
        async with http.post(f"{url}/api/messages", json=activity(fake, text, id=text)) as r:
            assert r.status in (200, 201)
        await fake.wait_for(lambda posted, n=before: len(posted) > n)
    assert "Sparat" in fake.posted[-1].text

    clock.set(FIRST_MEETING + timedelta(seconds=1))
    assert await reminders.scheduler.run_once() == 1
    posted = await fake.wait_for(lambda p: any("Att ta upp" in x.text for x in p))
    delivered = next(p for p in posted if "Att ta upp" in p.text)
    assert delivered.conversation_id == "a:personal-1"
    assert "Erik" in delivered.text and "varje möte" in delivered.text


async def _export(url: str, http: aiohttp.ClientSession, fake: FakeConnector,
                  **extra: Any) -> list[dict[str, Any]]:
    """Set a reminder and ask for the calendar export; the export reply's attachments."""
    for text in (REQUEST, "ja", "exportera kalender"):
        before = len(fake.posted)
        body = activity(fake, text, id=f"export-{len(fake.posted)}", **extra)
        async with http.post(f"{url}/api/messages", json=body) as r:
            assert r.status in (200, 201)
        await fake.wait_for(lambda posted, n=before: len(posted) > n)
    attachments: list[dict[str, Any]] = fake.posted[-1].body["attachments"]
    assert "data:" not in json.dumps(attachments)  # never a data: URL (supportsFiles rules)
    return attachments


def _consent_invoke(fake: FakeConnector, action: str, context: Any) -> dict[str, Any]:
    """The invoke Teams sends when the user clicks Allow/Decline on a file consent card."""
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
    if action == "accept":
        value["uploadInfo"] = {
            "contentUrl": "https://contoso-my.sharepoint.com/personal/anna/Documents/Applications/handledning.ics",
            "name": "handledning.ics",
            "uploadUrl": f"{fake.url}upload/handledning.ics",
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": "ics",
        }
    return activity(fake, None, type="invoke", name="fileConsent/invoke", value=value,
                    id=f"consent-{action}-{len(fake.posted)}")


async def test_the_calendar_export_in_personal_chat_goes_through_file_consent(
    teams: tuple[str, aiohttp.ClientSession, FakeConnector, Reminders, FakeClock],
) -> None:
    url, http, fake, _, _ = teams
    attachments = await _export(url, http, fake)
    (consent,) = [a for a in attachments
                  if a["contentType"] == "application/vnd.microsoft.teams.card.file.consent"]
    assert consent["name"] == "handledning.ics"
    size = consent["content"]["sizeInBytes"]
    context = consent["content"]["acceptContext"]
    assert size > 0 and len(context["offer"]) >= 40  # unguessable

    before = len(fake.posted)
    async with http.post(f"{url}/api/messages", json=_consent_invoke(fake, "accept", context)) as r:
        assert r.status == 200
    (name, data, headers) = fake.uploads[0]
    assert name == "handledning.ics" and data.startswith(b"BEGIN:VCALENDAR") and len(data) == size
    assert headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    posted = await fake.wait_for(lambda p: len(p) > before)
    (info,) = posted[-1].body["attachments"]
    assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert info["contentUrl"].endswith("/handledning.ics")
    assert info["content"]["uniqueId"] == "1150D938-8870-4044-9F2C-5BBDEBA70C9D"

    # The same consent again (a double click, a replay): no second upload, a clear note.
    before = len(fake.posted)
    async with http.post(f"{url}/api/messages", json=_consent_invoke(fake, "accept", context)) as r:
        assert r.status == 200
    posted = await fake.wait_for(lambda p: len(p) > before)
    assert "gått ut" in posted[-1].body["text"] and len(fake.uploads) == 1


async def test_a_declined_file_consent_uploads_nothing(
    teams: tuple[str, aiohttp.ClientSession, FakeConnector, Reminders, FakeClock],
) -> None:
    url, http, fake, _, _ = teams
    attachments = await _export(url, http, fake)
    consent = next(a for a in attachments if a.get("name") == "handledning.ics")
    before = len(fake.posted)
    invoke = _consent_invoke(fake, "decline", consent["content"]["declineContext"])
    async with http.post(f"{url}/api/messages", json=invoke) as r:
        assert r.status == 200
    posted = await fake.wait_for(lambda p: len(p) > before)
    assert "sparades inte" in posted[-1].body["text"]
    assert fake.uploads == []


async def test_the_calendar_export_in_a_group_chat_is_a_short_lived_link(
    teams: tuple[str, aiohttp.ClientSession, FakeConnector, Reminders, FakeClock],
) -> None:
    url, http, fake, _, _ = teams
    group = {"conversation": {"id": "19:group@thread.v2", "conversationType": "groupChat"}}
    attachments = await _export(url, http, fake, **group)
    links = [action["url"] for a in attachments
             for action in a["content"].get("actions", []) if action["type"] == "Action.OpenUrl"]
    (link,) = [u for u in links if "/teams/files/" in u]
    assert link.startswith(url + "/teams/files/") and len(link.rsplit("/", 1)[1]) >= 40
    async with http.get(link) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"BEGIN:VCALENDAR")
        assert response.headers["Content-Type"].startswith("text/calendar")
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
    async with http.get(link[:-3] + "xyz") as response:  # a guessed token
        assert response.status == 404


def test_file_links_expire() -> None:
    from adapters.teams import FileOffers
    from bot.messages import Attachment

    now = [0.0]
    offers = FileOffers(ttl=3600, clock=lambda: now[0])
    token = offers.offer(Attachment("handledning.ics", "text/calendar", b"BEGIN:VCALENDAR"))
    assert offers.peek(token) is not None
    now[0] = 3601
    assert offers.peek(token) is None


async def test_a_colleague_named_with_at_stays_in_the_slack_reminder(
    slack: tuple[SlackServer, Reminders, FakeClock],
) -> None:
    chat, _, _ = slack
    chat.api.users["U0ANNA"] = {"id": "U0ANNA", "name": "anna",
                                "profile": {"display_name": "Anna Svensson"}}  # fmt: skip
    await chat.event(dm("påminn mig varje måndag kl 8 om handledning med <@U0ANNA>"))
    asked = await chat.api.wait_for(
        "chat.postMessage", lambda c: "Anna Svensson" in json.dumps(c.params, ensure_ascii=False))
    assert "U0ANNA" not in json.dumps(asked.params)


async def test_a_revoked_slack_token_pauses_the_reminder_and_keeps_the_reason(
    slack: tuple[SlackServer, Reminders, FakeClock], tmp_path: Path,
) -> None:
    import sqlite3

    chat, reminders, clock = slack
    await chat.event(dm(REQUEST))
    await chat.api.wait_for("chat.postMessage", lambda c: "Erik" in json.dumps(c.params))
    await chat.event(dm("ja"))
    await chat.api.wait_for(
        "chat.postMessage", lambda c: "Sparat" in json.dumps(c.params, ensure_ascii=False))
    chat.api.fail("chat.postMessage", "token_revoked", times=5)
    clock.set(FIRST_MEETING + timedelta(seconds=1))
    await reminders.scheduler.run_once()
    with sqlite3.connect(tmp_path / "reminders.db") as db:
        rows = db.execute("SELECT status, paused_reason FROM reminders").fetchall()
    assert len(rows) == 1 and rows[0][0] == "paused" and "token_revoked" in rows[0][1]
    assert len([c for c in chat.api.calls_to("chat.postMessage")
                if c.answered == "token_revoked"]) == 1  # tried once, never again
    clock.advance(timedelta(hours=2))
    await reminders.scheduler.run_once()
    assert len([c for c in chat.api.calls_to("chat.postMessage")
                if c.answered == "token_revoked"]) == 1
