"""A supervisor sets a reminder in Slack or Teams and gets it there when the meeting comes.

The whole path over real HTTP: the chat request through bolt or botbuilder, the confirmation,
the reminder stored in a real SQLite file, the scheduler on a controllable clock, and the
delivery through the platform's Sender to the local fake of Slack's Web API or of the connector.
"""

from __future__ import annotations

import base64
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


async def test_the_calendar_export_reaches_teams_as_an_ics_attachment(
    teams: tuple[str, aiohttp.ClientSession, FakeConnector, Reminders, FakeClock],
) -> None:
    url, http, fake, _, _ = teams
    for text in (REQUEST, "ja", "exportera kalender"):
        before = len(fake.posted)
        async with http.post(f"{url}/api/messages", json=activity(fake, text, id=text)) as r:
            assert r.status in (200, 201)
        await fake.wait_for(lambda posted, n=before: len(posted) > n)
    files = [a for a in fake.posted[-1].body["attachments"] if a["contentType"] == "text/calendar"]
    assert [f["name"] for f in files] == ["handledning.ics"]
    data = files[0]["contentUrl"].split(",", 1)[1]
    assert base64.b64decode(data).startswith(b"BEGIN:VCALENDAR")
