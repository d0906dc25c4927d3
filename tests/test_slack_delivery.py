"""`post_reply` sends what `chat_postMessage` would send, through the client's `api_call`."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_delivery import post_reply
from bot.messages import Option, Reply, SourceRef, Status


class _Recording(AsyncWebClient):  # type: ignore[misc]
    """Records each call's method and JSON body instead of sending it."""

    def __init__(self) -> None:
        super().__init__(token="xoxb-test")
        self.sent: list[tuple[str, str]] = []

    async def _send(self, http_verb: str, api_url: str, req_args: dict[str, Any]) -> Any:
        self.sent.append((api_url, json.dumps(req_args["json"], ensure_ascii=False)))
        return {"ok": True}


def _reply() -> Reply:
    return Reply(
        status=Status.ANSWER,
        lang="sv",
        paragraphs=("Första stycket med <tecken> & annat.", "Andra"),
        options=(Option(value="o1", label="Ett"), Option(value="o2", label="Två")),
        sources=(
            SourceRef(
                title="Källa",
                publisher="Region Stockholm",
                scope="stockholm",
                reviewed=date(2026, 11, 23),
                url="https://example.org",
            ),
        ),
    )


@pytest.mark.parametrize("thread", [None, "1700000000.000100"])
async def test_post_reply_sends_chat_post_message_json(thread: str | None) -> None:
    from adapters.render_slack import render_reply

    ours, theirs = _Recording(), _Recording()
    await post_reply(ours, "C1", thread, _reply(), conversation_id="T:C1")
    rendered = render_reply(_reply(), conversation_id="T:C1")
    await theirs.chat_postMessage(
        channel="C1",
        thread_ts=thread,
        blocks=rendered.blocks,
        text=rendered.text,
        unfurl_links=False,
        unfurl_media=False,
    )
    assert ours.sent == theirs.sent
    assert ours.sent[0][0].endswith("chat.postMessage")
