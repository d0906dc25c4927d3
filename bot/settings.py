"""All configuration, read from the environment and an optional `.env` file in one place.

Nothing else in the project touches `os.environ`: build a `Settings` with `load_settings()` at the
entry point and pass what each part needs to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Deployment settings. Field docs name the environment variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    knowledge_dir: Path = Field(
        DEFAULT_KNOWLEDGE_DIR, validation_alias=_env("HANDLEDARBOT_KNOWLEDGE_DIR")
    )
    contact_text_sv: str | None = Field(
        None, validation_alias=_env("HANDLEDARBOT_CONTACT_TEXT_SV", "HANDLEDARBOT_CONTACT_TEXT")
    )
    contact_text_en: str | None = Field(None, validation_alias=_env("HANDLEDARBOT_CONTACT_TEXT_EN"))
    timezone: str = Field("Europe/Stockholm", validation_alias=_env("HANDLEDARBOT_TIMEZONE"))

    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    sqlite_path: Path = Field(
        Path("handledarbot.sqlite3"), validation_alias=_env("HANDLEDARBOT_SQLITE_PATH")
    )

    host: str = Field("127.0.0.1", validation_alias=_env("HANDLEDARBOT_HOST"))
    port: int = Field(3978, validation_alias=_env("PORT", "HANDLEDARBOT_PORT"))
    # The server's public origin (https://host[:port]) for download links Teams users open
    # outside personal chat; unset, a reply in a turn uses the origin its request came to.
    public_url: str | None = Field(None, validation_alias=_env("HANDLEDARBOT_PUBLIC_URL"))

    slack_bot_token: str | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_base_url: str | None = Field(None, validation_alias=_env("SLACK_API_BASE_URL"))

    microsoft_app_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_ID"))
    microsoft_app_password: str | None = Field(
        None, validation_alias=_env("MICROSOFT_APP_PASSWORD")
    )
    microsoft_app_tenant_id: str | None = Field(
        None, validation_alias=_env("MICROSOFT_APP_TENANT_ID")
    )
    microsoft_app_type: str = Field("MultiTenant", validation_alias=_env("MICROSOFT_APP_TYPE"))
    teams_enabled: bool = Field(False, validation_alias=_env("HANDLEDARBOT_TEAMS"))
    # The web chat page: None = on exactly when the server listens on a local address.
    web_enabled: bool | None = Field(None, validation_alias=_env("HANDLEDARBOT_WEB"))
    web_coordinator: bool = Field(False, validation_alias=_env("HANDLEDARBOT_WEB_COORDINATOR"))

    # Coordinators allowed the admin chat commands: "platform:user_id" items separated by commas,
    # e.g. "slack:T1:U1,teams:29:abc,console:*" (`*` = everyone on that platform).
    admins: str = Field("", validation_alias=_env("HANDLEDARBOT_ADMINS"))
    unanswered_retention_days: int = Field(
        90, ge=1, validation_alias=_env("HANDLEDARBOT_UNANSWERED_RETENTION_DAYS")
    )
    rate_limit_messages: int = Field(20, ge=1, validation_alias=_env("HANDLEDARBOT_RATE_LIMIT"))
    rate_limit_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("HANDLEDARBOT_RATE_LIMIT_SECONDS")
    )
    max_message_length: int = Field(
        2000, ge=1, validation_alias=_env("HANDLEDARBOT_MAX_MESSAGE_LENGTH")
    )
    watch_knowledge: bool = Field(True, validation_alias=_env("HANDLEDARBOT_WATCH_KNOWLEDGE"))
    log_format: Literal["text", "json"] = Field(
        "text", validation_alias=_env("HANDLEDARBOT_LOG_FORMAT")
    )
    log_level: str = Field("INFO", validation_alias=_env("HANDLEDARBOT_LOG_LEVEL"))
    # When set, GET /metrics needs "Authorization: Bearer <token>".
    metrics_token: str | None = Field(None, validation_alias=_env("HANDLEDARBOT_METRICS_TOKEN"))


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the settings; `env_file=None` ignores any `.env` (tests use that)."""
    return Settings(_env_file=env_file)  # type: ignore[call-arg]
