"""The sources file: which real systems a deployment reads, and how to reach them.

Configuration, so pydantic (like settings). One entry per source::

    version: 1
    sources:
      - name: prod-prometheus
        kind: prometheus
        domain: application
        url: http://prometheus.monitoring:9090
        credential: default        # the broker's credential source in that domain
        timeout_seconds: 10
        settings: {}               # kind-specific, validated by the kind's factory

The same model travels to the worker inside its spec, so nothing there is read
from raw dict keys. Credentials never appear here: only the name of the broker
source that holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nightshift.domain.safe_yaml import safe_load
from nightshift.domain.vocabulary import Domain

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
DEFAULT_MAX_ANSWER_CHARS = 16_000


class SourcesError(ValueError):
    """The sources file is missing, unreadable or invalid (the message says where)."""


class SourceKind(StrEnum):
    KUBERNETES = "kubernetes"
    PROMETHEUS = "prometheus"
    LOKI = "loki"
    VICTORIALOGS = "victorialogs"
    ALERTMANAGER = "alertmanager"
    POSTGRESQL = "postgresql"
    PGBOUNCER = "pgbouncer"
    NETWORK = "network"  # network_check and dns_lookup from the worker itself
    CHANGES = "changes"  # Nightshift's own change feed and received alerts
    MCP = "mcp"
    SIMULATED = "simulated"


class SourceConfig(BaseModel):
    """One declared source. ``settings`` is checked by the kind's factory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    kind: SourceKind
    domain: Domain
    url: str = ""
    credential: str = Field(default="default", pattern=NAME_PATTERN)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_answer_chars: int = Field(default=DEFAULT_MAX_ANSWER_CHARS, ge=256, le=1_000_000)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://", "postgresql://", "unix:")):
            raise ValueError("url must start with http://, https://, postgresql:// or unix:")
        return value

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


class SourcesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(default=1, ge=1, le=1)
    sources: tuple[SourceConfig, ...] = ()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is declared twice")
            seen.add(source.name)
        return value

    def allowed(self, domains: Sequence[Domain]) -> tuple[SourceConfig, ...]:
        """The sources an agent whose boundaries grant ``domains`` may read."""
        granted = set(domains)
        return tuple(s for s in self.sources if s.domain in granted)


def parse_sources(text: str, origin: str = "<sources>") -> SourcesFile:
    try:
        raw = safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SourcesError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SourcesError(f"{origin}: expected a mapping with 'version' and 'sources'")
    try:
        return SourcesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SourcesError(f"{origin}: {problems}") from None


def load_sources_file(path: Path) -> SourcesFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"cannot read the sources file {path}: {exc.strerror}") from None
    return parse_sources(text, str(path))
