"""The typed settings object, read once from the environment and `.env`.

Every knob has a safe default except the Discord token, which only the bot itself needs: `scout scan`
works on a fresh machine with nothing set, because OpenRouter's catalogue is public.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
MIN_POLL_INTERVAL_SECONDS = 5


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and fits on one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = None
    openrouter_api_key: SecretStr | None = None
    openrouter_base_url: str = DEFAULT_BASE_URL
    database_path: Path = Path("model_scout.db")
    poll_interval_seconds: float = Field(60.0, ge=MIN_POLL_INTERVAL_SECONDS)
    announce_channel_id: int | None = None
    dev_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    log_level: str = "INFO"

    probe_max_requests: int = Field(12, ge=1, le=100)
    probe_concurrency: int = Field(12, ge=1, le=64)
    probe_requests_per_minute: float = Field(20.0, gt=0)
    probe_timeout_seconds: float = Field(60.0, gt=0)
    probe_max_tokens: int = Field(4000, ge=1)
    calibration_models: str = ""
    calibration_models_per_vendor: int = Field(2, ge=1, le=10)
    calibration_request_budget: int = Field(300, ge=0, le=100_000)
    probe_retry_base_seconds: float = Field(120.0, ge=1, le=86_400)
    probe_retry_max_attempts: int = Field(6, ge=1, le=100)

    @field_validator("openrouter_base_url", "discord_api_base", "discord_gateway_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be an http(s):// or ws(s):// URL")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def calibration_model_ids(self) -> list[str]:
        return [part.strip() for part in self.calibration_models.split(",") if part.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's multi-line report into one line a person can act on."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{variable}: {first['msg']}") from None
