"""Thumbs up / down on answers, over real HTTP on Slack and Teams, end up in the journal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.render_slack import RATE_BLOCK_ID
from adapters.server import create_app
from bot.answering.engine import Engine
from bot.service import Service
from bot.settings import load_settings
from tests.fakes.connector import FakeConnector
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlackApi
from tests.test_safety import Recorder
from tests.test_slack import BOT_TOKEN, DM, SECRET, ST_QUESTION, USER, SlackServer, answers_st, dm
from tests.test_teams import Server, Spy, activity


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def slack(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, recorder: Recorder
) -> AsyncIterator[SlackServer]:
    api = await FakeSlackApi().start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_BASE_URL", api.base_url)
    service = Service(engine=engine, journal=recorder)
    runner = web.AppRunner(create_app(settings=load_settings(env_file=None), service=service))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as http:
        yield SlackServer(f"http://127.0.0.1:{runner.addresses[0][1]}", http, api, service)
    await runner.cleanup()
    await api.close()


def rating_click(blocks: list[dict[str, Any]], vote: str) -> dict[str, str]:
    block = next(b for b in blocks if b.get("block_id") == RATE_BLOCK_ID)
    button = next(e for e in block["elements"] if e["action_id"] == f"rate_{vote}")
    ts = "1700005000.000001"
    payload = {
        "type": "block_actions",
        "user": {"id": USER, "team_id": TEAM_ID},
        "api_app_id": "A0HANDLED",
        "token": "legacy",
        "team": {"id": TEAM_ID, "domain": "handled"},
        "container": {"type": "message", "message_ts": ts, "channel_id": DM, "is_ephemeral": False},
        "channel": {"id": DM, "name": "directmessage"},
        "response_url": "http://127.0.0.1:1/unused",
        "trigger_id": "1.2.5",
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": RATE_BLOCK_ID,
                     "text": button["text"], "value": button["value"], "action_ts": "1700005001.1"}],
        "message": {"type": "message", "ts": ts, "user": BOT_USER_ID, "text": "…", "blocks": blocks},
    }  # fmt: skip
    return {"payload": json.dumps(payload)}


async def test_slack_thumbs_down_is_recorded_and_the_buttons_give_way(
    slack: SlackServer, recorder: Recorder
) -> None:
    await slack.event(dm(ST_QUESTION))
    answer = await slack.api.wait_for("chat.postMessage", answers_st)
    blocks = answer.params["blocks"]
    assert any(b.get("block_id") == RATE_BLOCK_ID for b in blocks)
    assert (await slack.form(rating_click(blocks, "down"))).status == 200
    update = await slack.api.wait_for("chat.update", lambda c: True)
    updated = json.dumps(update.params["blocks"], ensure_ascii=False)
    assert "Tack för ditt omdöme" in updated and RATE_BLOCK_ID not in updated
    assert "Källa" in updated  # the answer itself stays
    assert recorder.noted == ["role-st-supervisor"]


async def test_slack_help_and_clarifications_have_no_rating(slack: SlackServer) -> None:
    await slack.event(dm("hjälp"))
    call = await slack.api.wait_for("chat.postMessage", lambda c: True)
    assert RATE_BLOCK_ID not in json.dumps(call.params["blocks"])


@pytest.fixture
async def teams(engine: Engine, recorder: Recorder) -> AsyncIterator[Server]:
    settings = load_settings(env_file=None).model_copy(update={"teams_enabled": True})
    spy = Spy(Service(engine=engine, journal=recorder))
    fake = await FakeConnector.start()
    app = create_app(settings=settings, service=spy)  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as http:
        yield Server(f"http://127.0.0.1:{runner.addresses[0][1]}", http, fake, spy, app)
    await runner.cleanup()
    await fake.close()


async def test_teams_thumbs_up_is_recorded_and_thanked(teams: Server, recorder: Recorder) -> None:
    posted = await teams.ask(activity(teams.fake, "Vilken utbildning behöver en ST-handledare?"))
    [card] = posted.cards()
    rating_set = card["body"][-1]
    assert rating_set["type"] == "ActionSet"
    up = rating_set["actions"][0]
    assert up["data"]["choice"] == "rate:up:role-st-supervisor:sv"
    thanked = await teams.ask(activity(teams.fake, None, value=up["data"], id="rate-1"))
    assert "Tack för ditt omdöme" in json.dumps(thanked.cards(), ensure_ascii=False)
    assert recorder.noted == ["role-st-supervisor"]
