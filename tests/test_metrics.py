"""GET /metrics in the Prometheus text format: outcomes, latency, reminders, knowledge base."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from adapters.server import create_app
from bot.answering.engine import Engine
from bot.messages import Message, Reply, Status
from bot.metrics import CountingSender, Metrics
from bot.ports import DeliveryError
from bot.ratelimit import RateLimiter
from bot.safety import Guard
from bot.service import Service
from bot.settings import load_settings

Get = Callable[..., Awaitable[tuple[int, str, str]]]


@pytest.fixture
async def get(engine: Engine) -> AsyncIterator[Callable[..., Awaitable[tuple[int, str, str]]]]:
    runners: list[web.AppRunner] = []
    http = aiohttp.ClientSession()

    async def _get(
        service: Service, metrics: Metrics, token: str | None = None, auth: str = ""
    ) -> tuple[int, str, str]:
        settings = load_settings(env_file=None).model_copy(
            update={"teams_enabled": True, "metrics_token": token}
        )
        runner = web.AppRunner(create_app(settings=settings, service=service, metrics=metrics))
        runners.append(runner)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/metrics"
        async with http.get(url, headers={"Authorization": auth} if auth else {}) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()

    yield _get
    await http.close()
    for runner in runners:
        await runner.cleanup()


def value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert found, f"{series} not in\n{text}"
    return float(found.group(1))


def said(text: str) -> Message:
    return Message(text=text, user_id="U1", conversation_id="U1", platform="slack")


class Flaky:
    def __init__(self, errors: list[Exception | None]) -> None:
        self.errors = errors

    async def send(self, address: str, reply: Reply) -> None:
        error = self.errors.pop(0)
        if error is not None:
            raise error


async def test_metrics_count_outcomes_latency_reminders_and_the_knowledge_base(
    get: Get, engine: Engine
) -> None:
    metrics = Metrics()
    metrics.knowledge_loaded(engine.version, reload=False)
    metrics.knowledge_failed()
    guard = Guard(limiter=RateLimiter(limit=4, window=60))
    service = Service(engine=engine, guard=guard, metrics=metrics)
    for text in (
        "Hur ofta ska ST-handledning ske?",
        "Vad kostar en pizza?",
        "Vilken handledarutbildning ska jag gå?",
        "hej",
        "hej",
    ):
        await service.handle(said(text))  # fmt: skip
    sender = CountingSender(
        Flaky([None, DeliveryError("429", permanent=False), DeliveryError("gone", permanent=True)]),
        metrics,
    )
    for _ in range(3):
        with contextlib.suppress(DeliveryError):
            await sender.send("{}", Reply(status=Status.ANSWER, lang="sv", paragraphs=("x",)))
    status, content_type, text = await get(service, metrics)
    assert (
        status == 200 and content_type.startswith("text/plain") and "version=0.0.4" in content_type
    )
    assert (
        value(text, 'handledarbot_questions_total{outcome="answer"}') == 2
    )  # the question and "hej"
    assert value(text, 'handledarbot_questions_total{outcome="no_match"}') == 1
    assert value(text, 'handledarbot_questions_total{outcome="clarify"}') == 1
    assert value(text, 'handledarbot_questions_total{outcome="rate_limited"}') == 1
    assert value(text, "handledarbot_question_seconds_count") == 5
    assert value(text, 'handledarbot_question_seconds_bucket{le="+Inf"}') == 5
    assert value(text, "handledarbot_reminders_sent_total") == 1
    assert value(text, 'handledarbot_reminders_failed_total{kind="temporary"}') == 1
    assert value(text, 'handledarbot_reminders_failed_total{kind="permanent"}') == 1
    assert value(text, f'handledarbot_knowledge_info{{version="{engine.version}"}}') == 1
    assert value(text, "handledarbot_knowledge_load_errors_total") == 1
    assert "# TYPE handledarbot_question_seconds histogram" in text


async def test_metrics_token_is_required_when_configured(get: Get, engine: Engine) -> None:
    service, metrics = Service(engine=engine), Metrics()
    assert (await get(service, metrics, token="s3cret-token"))[0] == 401
    assert (await get(service, metrics, token="s3cret-token", auth="Bearer wrong"))[0] == 401
    assert (await get(service, metrics, token="s3cret-token", auth="Bearer s3cret-token"))[0] == 200
    for odd in ("Bearer é", "Bearer s3cret-tokén", "Bearer \u00ff\u00fe"):  # non-ASCII: 401, not 500
        assert (await get(service, metrics, token="s3cret-token", auth=odd))[0] == 401
