"""Delivering a `Reply` to Slack: the Web API client, `chat.postMessage` plus file uploads, and
`SlackSender`, the `bot.ports.Sender` that reminders use to reach an address stored earlier.

An address is JSON `{"channel": ..., "thread_ts": ...}` made by `address()`; only this module and
`adapters.slack` read it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.render_slack import render_reply
from bot.messages import Reply
from bot.ports import DeliveryError
from bot.settings import Settings

log = logging.getLogger("handledarbot.slack")
SDK_LOGGER = "handledarbot.slack.sdk"

# Error codes that no retry can fix (Slack's Web API reference, chat.postMessage and
# files.getUploadURLExternal "Errors", and the common auth errors): the reminder is paused with the
# code as its reason. `ratelimited`, `internal_error`, `fatal_error`, `service_unavailable`,
# `request_timeout` and unknown codes stay retryable.
PERMANENT_ERRORS = frozenset(
    {
        # the place is gone or closed to the bot
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "team_not_found",
        # the bot's token or installation no longer works
        "account_inactive",
        "token_revoked",
        "token_expired",
        "invalid_auth",
        "not_authed",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
        "team_access_not_granted",
        "org_login_required",
        "enterprise_is_restricted",
        "two_factor_setup_required",
        "app_missing_action_url",
        # the message itself can never be posted as it is
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_attachments",
        "no_text",
    }
)


def sdk_logger() -> logging.Logger:
    """The logger of the Web API clients (`handledarbot.slack.sdk`), with a level of its own.

    slack_sdk tests the logger's own `level` (`logger.level <= DEBUG`, not `isEnabledFor`) before
    building its debug text, so a logger left at NOTSET (0) made every `chat.postMessage` format
    its whole payload into a message that was then dropped (about 70 µs of the ~1 ms a Slack
    request costs the server in `bench/bench_http.py`). The logger takes the level in force for
    `handledarbot.slack` when the client is built (logging is configured before that); setting
    `handledarbot.slack.sdk` to DEBUG beforehand still shows the SDK's request traces.

    Not for bolt's `AsyncApp(logger=...)`: bolt copies that logger's level into the logger named
    after the app (`handledarbot`, the parent of all of ours) on every request.
    """
    logger = logging.getLogger(SDK_LOGGER)
    if logger.level == logging.NOTSET:
        logger.setLevel(log.getEffectiveLevel())
    return logger


def build_client(settings: Settings, *, retry_rate_limits: bool = True) -> AsyncWebClient:
    """A Web API client for the bot token, at `SLACK_API_BASE_URL` when that is set."""
    return configure_client(
        AsyncWebClient(token=settings.slack_bot_token, logger=sdk_logger()),
        base_url=settings.slack_api_base_url,
        retry_rate_limits=retry_rate_limits,
    )


def configure_client(
    client: AsyncWebClient, *, base_url: str | None, retry_rate_limits: bool
) -> AsyncWebClient:
    """Point `client` at `base_url`; with `retry_rate_limits`, a 429 is waited out twice."""
    if base_url:
        client.base_url = base_url.rstrip("/") + "/"
    if retry_rate_limits:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


async def post_reply(
    client: AsyncWebClient,
    channel: str,
    thread: str | None,
    reply: Reply,
    *,
    conversation_id: str | None = None,
) -> None:
    """chat.postMessage the rendered reply, then upload its attachments to the same place."""
    rendered = render_reply(reply, conversation_id=conversation_id)
    # The JSON `client.chat_postMessage(channel=..., text=..., blocks=..., thread_ts=...,
    # unfurl_links=False, unfurl_media=False)` sends, in its order, through the client's generic
    # `api_call`: chat_postMessage's own preparation (each block checked against six SDK model
    # classes, None values removed, the missing-text warning) has nothing to do for these
    # plain-dict blocks and a text that is always there.
    message: dict[str, Any] = {"channel": channel, "text": rendered.text, "blocks": rendered.blocks}
    if thread is not None:
        message["thread_ts"] = thread
    message["unfurl_links"] = False
    message["unfurl_media"] = False
    await client.api_call("chat.postMessage", json=message)
    for attachment in reply.attachments:
        await client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            content=attachment.data,
            filename=attachment.filename,
            title=attachment.filename,
        )


class SlackSender:
    """`bot.ports.Sender` for Slack: delivers a reply to an address this module made."""

    def __init__(self, *, client: AsyncWebClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSender:
        """A sender whose 429s surface as `DeliveryError.retry_after`, not as waits here."""
        return cls(client=build_client(settings, retry_rate_limits=False))

    async def send(self, address: str, reply: Reply) -> None:
        channel, thread = parse_address(address)
        try:
            await post_reply(self.client, channel, thread, reply)
        except SlackApiError as error:
            raise delivery_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"Slack unreachable: {error!r}", permanent=False) from error


def delivery_error(error: SlackApiError) -> DeliveryError:
    code = str(error.response.get("error", "unknown_error"))
    retry_after: float | None = None
    if error.response.status_code == 429:
        header = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after"
        )
        retry_after = float(header) if header is not None else 1.0
    return DeliveryError(
        f"Slack refused the message: {code}",
        permanent=code in PERMANENT_ERRORS,
        retry_after=retry_after,
    )


def address(channel: str, thread: str | None) -> str:
    return json.dumps({"channel": channel, "thread_ts": thread})


def parse_address(raw: str) -> tuple[str, str | None]:
    """Channel and thread of an address; a malformed one can never be delivered."""
    try:
        data = json.loads(raw)
        channel, thread = data["channel"], data.get("thread_ts")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise DeliveryError(f"not a Slack address: {raw!r}", permanent=True) from error
    if not isinstance(channel, str) or not channel or not isinstance(thread, str | None):
        raise DeliveryError(f"not a Slack address: {raw!r}", permanent=True)
    return channel, thread
