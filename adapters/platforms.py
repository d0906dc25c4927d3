"""Which chat platforms the settings turn on, decided without importing their SDKs (slack_bolt,
botbuilder): the server imports an adapter only when this says it is on."""

from __future__ import annotations

from bot.settings import Settings


def slack_mode(settings: Settings) -> str | None:
    """ "socket", "http", or None when Slack is not configured (or configured incompletely)."""
    if not settings.slack_bot_token:
        return None
    if settings.slack_app_token:
        return "socket"
    return "http" if settings.slack_signing_secret else None


def teams_enabled(settings: Settings) -> bool:
    """Teams is served when an app id is configured or HANDLEDARBOT_TEAMS=true (unauthenticated)."""
    return bool(settings.microsoft_app_id) or settings.teams_enabled
