"""Settings: read once from the environment (``NIGHTSHIFT_`` prefix) and passed down.

Nothing else in the package reads the environment; tests build a
``Settings(...)`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nightshift.domain.vocabulary import Tier


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("nightshift", appauthor=False))


class TierLimits(BaseModel):
    """Resource limits of one worker unit for a complexity tier."""

    memory_mb: int = Field(ge=64)
    cpu_seconds: int = Field(ge=1)
    deadline_seconds: int = Field(ge=1)


def _default_tier_limits() -> dict[Tier, TierLimits]:
    return {
        Tier.SINGLE_DOMAIN: TierLimits(memory_mb=768, cpu_seconds=120, deadline_seconds=300),
        Tier.MULTI_DOMAIN: TierLimits(memory_mb=1024, cpu_seconds=300, deadline_seconds=900),
    }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NIGHTSHIFT_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""  # empty: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""  # URL workers use to reach the API; empty: http://host:port

    executor: Literal["local"] = "local"
    secrets_backend: Literal["local", "vault"] = "local"
    reasoner: Literal["offline"] = "offline"
    toolset: Literal["simulated"] = "simulated"

    max_running: int = Field(default=8, ge=1, description="global concurrency cap")
    max_running_per_agent: int = Field(default=4, ge=1)
    queue_capacity: int = Field(default=200, ge=1, description="queued investigations")
    retry_after_seconds: int = Field(default=5, ge=1)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    tier_limits: dict[Tier, TierLimits] = Field(default_factory=_default_tier_limits)
    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    log_retention_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'nightshift.db'}"
        if not self.public_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
            self.public_url = f"http://{host}:{self.port}"
        return self

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
