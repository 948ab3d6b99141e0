"""The typed settings object, read once from the environment and `.env`.

Every knob has a safe default except the Discord token, which only the bot itself needs: `scout scan`
works on a fresh machine with nothing set, because OpenRouter's catalogue is public. Every number has
both bounds and must be finite: `POLL_INTERVAL_SECONDS=inf` would be accepted by a bare float and the
bot would never poll again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
MIN_POLL_INTERVAL_SECONDS = 5
MAX_POLL_INTERVAL_SECONDS = 86_400
# Discord ids are 64-bit snowflakes whose top bit is never set; SQLite stores signed 64-bit integers.
MAX_DISCORD_ID = 2**63 - 1
# Discord allows 2,500 guilds per shard; a thousand shards is far beyond any deployment of this bot.
MAX_SHARD_COUNT = 1000

HTTP_SCHEMES = ("http", "https")
DATABASE_SCHEMES = ("postgresql", "postgres")
WEBSOCKET_SCHEMES = ("ws", "wss")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and fits on one line."""


def checked_url(value: str, schemes: tuple[str, ...]) -> str:
    """A URL a client can use: one of `schemes`, a host, a valid port, no credentials (they would end up in logs)."""
    expected = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parsing the port is the check: a bad one raises ValueError
    except ValueError:
        raise ValueError(f"is not a URL; expected {expected}…") from None
    if parts.scheme not in schemes or not parts.hostname or any(char.isspace() for char in value):
        raise ValueError(f"must be a {expected} URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (user:password@); API keys have their own settings")
    return value.rstrip("/")


def masked_url(url: str) -> str:
    """A database URL fit for a log line or an error: the password, if any, replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unreadable DATABASE_URL>"
    if password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def checked_database_url(value: str) -> str:
    """A PostgreSQL URL asyncpg can use: postgresql://user:password@host[:port]/database. The message never
    repeats the URL, which holds a password."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parsing the port is the check: a bad one raises ValueError
    except ValueError:
        raise ValueError("is not a URL; expected postgresql://user:password@host:port/database") from None
    if parts.scheme not in DATABASE_SCHEMES:
        raise ValueError("must be a postgresql:// URL (unset it to use the SQLite file DATABASE_PATH)")
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError("must name a host: postgresql://user:password@host:port/database")
    if not parts.path.strip("/"):
        raise ValueError("must name a database: postgresql://user:password@host:port/database")
    return value


def shard_id_list(text: str) -> list[int]:
    """SHARD_IDS as numbers: "0,2" -> [0, 2]; ranges "0-3" are spelt out."""
    found: list[int] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"{part!r} is not a shard number or range (e.g. 0,1 or 0-3)")
        found.extend(range(int(first), int(last or first) + 1))
    return sorted(set(found))


def discord_id(value: int) -> int:
    """A Discord id (guild, channel): positive and below 2^63, so it fits the database."""
    if not 0 < value <= MAX_DISCORD_ID:
        raise ValueError("must be a Discord id: a positive number below 2^63")
    return value


def database_file(path: Path) -> Path:
    """The one check of a database path, for the settings, `--database` and the store alike: a directory is
    refused with the file name to use instead (SQLite's own error for it only says "unable to open")."""
    if path.is_dir():
        raise ValueError(f"{path} is a directory; name the database file inside it, e.g. {path / 'scout.db'}")
    return path


class Settings(BaseSettings):
    """Every setting of the bot and the CLI, one typed object, validated as a whole before anything runs."""

    # An empty variable means "the default", as `.env.example` leaves most of them.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True, allow_inf_nan=False
    )

    discord_token: SecretStr | None = None
    openrouter_api_key: SecretStr | None = None
    openrouter_base_url: str = DEFAULT_BASE_URL
    database_path: Path = Path("model_scout.db")
    database_url: SecretStr | None = None
    database_pool_size: int = Field(4, ge=1, le=100)
    poll_interval_seconds: float = Field(60.0, ge=MIN_POLL_INTERVAL_SECONDS, le=MAX_POLL_INTERVAL_SECONDS)
    announce_channel_id: int | None = None
    dev_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    shard_count: int | None = Field(None, ge=1, le=MAX_SHARD_COUNT)
    shard_ids: str = ""
    log_level: str = "INFO"

    probe_max_requests: int = Field(20, ge=1, le=100)
    probe_concurrency: int = Field(20, ge=1, le=64)
    probe_requests_per_minute: float = Field(20.0, ge=0.1, le=10_000)
    probe_timeout_seconds: float = Field(60.0, ge=1, le=3600)
    probe_max_tokens: int = Field(6000, ge=1, le=1_000_000)
    calibration_models: str = ""
    calibration_models_per_vendor: int = Field(5, ge=1, le=10)
    calibration_request_budget: int = Field(1000, ge=0, le=100_000)
    probe_retry_base_seconds: float = Field(120.0, ge=1, le=86_400)
    probe_retry_max_attempts: int = Field(6, ge=1, le=100)
    spend_limit_usd_per_week: float = Field(5.0, ge=0, le=100_000)
    probe_max_usd_per_run: float = Field(0.5, ge=0, le=1_000)
    probe_command_any_model: bool = False
    probe_command_cooldown_seconds: float = Field(600.0, ge=10, le=7 * 86_400)
    repost_deleted_cards: bool = True
    guild_data_retention_days: float = Field(30.0, ge=0, le=3650)

    @field_validator("openrouter_base_url", "discord_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return checked_url(value, HTTP_SCHEMES) if value else None

    @field_validator("discord_gateway_url")
    @classmethod
    def _websocket_url(cls, value: str | None) -> str | None:
        return checked_url(value, WEBSOCKET_SCHEMES) if value else None

    @field_validator("announce_channel_id", "dev_guild_id")
    @classmethod
    def _discord_id(cls, value: int | None) -> int | None:
        return None if value is None else discord_id(value)

    @field_validator("database_path")
    @classmethod
    def _database_file(cls, value: Path) -> Path:
        return database_file(value)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(checked_database_url(value.get_secret_value()))

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids(cls, value: str) -> str:
        shard_id_list(value)
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        shards = shard_id_list(self.shard_ids)
        if shards and self.shard_count is None:
            raise ValueError("SHARD_IDS: needs SHARD_COUNT, the total number of shards all processes share")
        if shards and self.shard_count is not None and shards[-1] >= self.shard_count:
            raise ValueError(f"SHARD_IDS: shard {shards[-1]} does not exist with SHARD_COUNT={self.shard_count}")
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def database(self) -> Path | str:
        """What the store opens: DATABASE_URL (PostgreSQL) when set, else the SQLite file DATABASE_PATH."""
        return self.database_url.get_secret_value() if self.database_url else self.database_path

    @property
    def database_shown(self) -> str:
        """The database for a message: the file, or the URL with its password masked."""
        return masked_url(self.database_url.get_secret_value()) if self.database_url else str(self.database_path)

    @property
    def shards(self) -> list[int] | None:
        """The shards this process runs (SHARD_IDS), or None for all of them."""
        return shard_id_list(self.shard_ids) or None

    @property
    def calibration_model_ids(self) -> list[str]:
        """CALIBRATION_MODELS split on commas, blanks dropped."""
        return [part.strip() for part in self.calibration_models.split(",") if part.strip()]


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's multi-line report into one line a person can act on."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a check across settings names its variables itself
            raise SettingsError(message) from None
        raise SettingsError(f"{variable}: {message}") from None
