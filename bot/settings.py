"""All configuration, read from the environment and an optional `.env` file in one place.

Nothing else in the project touches `os.environ`: build a `Settings` with `load_settings()` at the
entry point and pass what each part needs to it.

A value that cannot be used (`HANDLEDARBOT_PORT=abc`, `HANDLEDARBOT_WEB=ja`,
`HANDLEDARBOT_TIMEZONE=Stockholm`) raises `SettingsError`, whose `problems` are one line each,
naming the variable and what to set instead. `setting_warnings` names the variables that look
meant for the bot but are not read by it (unknown `HANDLEDARBOT_*` names, near-misses of known
names such as `DATABSE_URL`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from rapidfuzz import fuzz, process

PREFIX = "HANDLEDARBOT_"
# How alike (rapidfuzz `ratio`, 0-100) a variable's name must be to a known one to be warned
# about as a likely typo: DATABSE_URL~DATABASE_URL is 96, SLACK_SIGNIN_SECRET~...SIGNING... 97.
NEAR_MISS_SCORE = 88
NEAR_MISS_MIN_LENGTH = 6

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
    # The deployment's own region (a scope id of knowledge/sources.yaml, e.g. `stockholm`):
    # answers lead with its guidance and say plainly when it has none. A user can say their own.
    region: str | None = Field(None, validation_alias=_env("HANDLEDARBOT_REGION"))
    # An IANA time zone name (e.g. Europe/Stockholm): reminders' meeting times are in it.
    timezone: str = Field("Europe/Stockholm", validation_alias=_env("HANDLEDARBOT_TIMEZONE"))

    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    sqlite_path: Path = Field(
        Path("handledarbot.sqlite3"), validation_alias=_env("HANDLEDARBOT_SQLITE_PATH")
    )

    host: str = Field("127.0.0.1", validation_alias=_env("HANDLEDARBOT_HOST"))
    port: int = Field(3978, ge=0, le=65535, validation_alias=_env("PORT", "HANDLEDARBOT_PORT"))
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
    # Built engines, keyed by the knowledge files' hash (empty: no cache).
    cache_dir: Path | None = Field(
        Path.home() / ".cache" / "handledarbot", validation_alias=_env("HANDLEDARBOT_CACHE_DIR")
    )
    log_format: Literal["text", "json"] = Field(
        "text", validation_alias=_env("HANDLEDARBOT_LOG_FORMAT")
    )
    log_level: str = Field("INFO", validation_alias=_env("HANDLEDARBOT_LOG_LEVEL"))
    # aiohttp's access log: off (default: not on the hot path), sampled (every
    # ACCESS_LOG_SAMPLE-th request and every 5xx), or all.
    access_log: Literal["off", "sampled", "all"] = Field(
        "off", validation_alias=_env("HANDLEDARBOT_ACCESS_LOG")
    )
    # `serve` runs this many processes on one port (SO_REUSEPORT); see adapters/workers.py.
    workers: int = Field(1, ge=1, le=64, validation_alias=_env("HANDLEDARBOT_WORKERS"))
    # When set, GET /metrics needs "Authorization: Bearer <token>".
    metrics_token: str | None = Field(None, validation_alias=_env("HANDLEDARBOT_METRICS_TOKEN"))

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _no_cache(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "is not a time zone name: use an IANA name such as Europe/Stockholm"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "is not a PostgreSQL URL: use postgresql://USER:PASSWORD@HOST:5432/DATABASE, "
                "or unset it to use the SQLite file"
            )
        return value or None

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError("must be one of " + ", ".join(LOG_LEVELS))
        return value.upper()


# Never echoed in a message: they may hold a password or a token.
SECRET_FIELDS = frozenset({
    "database_url", "slack_bot_token", "slack_signing_secret", "slack_app_token",
    "microsoft_app_password", "metrics_token",
})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """Settings that cannot be used; `problems` are one line each, naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the settings; `env_file=None` ignores any `.env` (tests use that).

    Raises `SettingsError` (one line per unusable value) instead of pydantic's report.
    """
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as error:
        given = _given(env_file)
        raise SettingsError([_problem(e, given) for e in error.errors()]) from None


def variable_names() -> dict[str, str]:
    """Every environment variable a setting is read from, upper case, to its field name."""
    names: dict[str, str] = {}
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update({str(c).upper(): field_name for c in alias.choices})
        elif isinstance(alias, str):
            names[alias.upper()] = field_name
    return names


def setting_warnings(
    env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None
) -> list[str]:
    """One line per variable that looks meant for the bot but is not read by it.

    Unknown `HANDLEDARBOT_*` names, and names within `NEAR_MISS_SCORE` of a known name
    (`DATABSE_URL`), in the environment (`environ`, default `os.environ`) or the `.env` file.
    """
    known = variable_names()
    places: list[tuple[str, Mapping[str, Any]]] = [
        ("in the environment", os.environ if environ is None else environ)
    ]
    if env_file is not None and Path(env_file).is_file():
        places.append((f"in {env_file}", dotenv_values(env_file)))
    warnings: list[str] = []
    for where, variables in places:
        for name in sorted(variables):
            upper = name.upper()
            if upper in known:
                continue
            match = process.extractOne(
                upper, list(known), scorer=fuzz.ratio, score_cutoff=NEAR_MISS_SCORE
            )
            close = match[0] if match and len(upper) >= NEAR_MISS_MIN_LENGTH else None
            if close is not None:
                warnings.append(
                    f"{name} ({where}) is not a Handledarbot setting and is ignored: "
                    f"did you mean {close}?"
                )
            elif upper.startswith(PREFIX):
                warnings.append(
                    f"{name} ({where}) is not a Handledarbot setting and is ignored "
                    "(see docs/deploy.md for the settings)."
                )
    return warnings


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach: localhost, 127.0.0.0/8, ::1."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_EXPECTED = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not a yes/no value: use true or false",
    "greater_than_equal": "is too small: use at least {ge}",
    "greater_than": "is too small: use more than {gt}",
    "less_than_equal": "is too large: use at most {le}",
    "literal_error": "must be {expected}",
}


def _given(env_file: str | Path | None) -> dict[str, str]:
    """How each variable is named in an error: as in the environment, which wins over the
    `.env` file, else as in the file ("HANDLEDARBOT_PORT (in .env)")."""
    given: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        given.update({k.upper(): f"{k} (in {env_file})" for k in dotenv_values(env_file)})
    given.update({k.upper(): k for k in os.environ})
    return given


def _problem(error: Any, given: Mapping[str, str]) -> str:
    """One line for one pydantic error: the variable, its value, what is wrong, what to do."""
    loc = str(error["loc"][0]) if error.get("loc") else "?"
    field_name = variable_names().get(loc.upper(), loc)
    info = Settings.model_fields.get(field_name)
    names = [loc.upper()]
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        names = [str(c).upper() for c in info.validation_alias.choices]
    name = next((given[n] for n in names if n in given), names[0])
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "value_error":
        what = str(context.get("error", error.get("msg", "")))
    else:
        what = _EXPECTED.get(kind, str(error.get("msg", "is not valid"))).format(**context)
    default = "" if info is None or info.default in (None, "") else f" (default {info.default})"
    value = "" if field_name in SECRET_FIELDS else f"={error.get('input')!r}"
    return f"{name}{value} {what}; fix it or unset it{default}."
