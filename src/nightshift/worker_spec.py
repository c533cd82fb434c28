"""The worker contract: what the control plane tells a worker to investigate.

One pydantic model, written by the control plane when it admits an
investigation (stored as the investigation's spec), served by
``GET .../worker/spec`` and read by the worker; nothing on either side reads
raw dict keys. It names the evidence sources the agent may read (already cut to
its boundaries) but never a credential: those come from the secret broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nightshift.domain.vocabulary import Domain, Tier, TrustPhase
from nightshift.sources.config import SourceConfig, SourceKind


class WorkerSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str = Field(default="", max_length=4096)
    tier: Tier = Tier.SINGLE_DOMAIN
    namespace: str | None = None
    domains: tuple[Domain, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    alert: dict[str, str] = Field(default_factory=dict)
    deadline_seconds: int | None = Field(default=None, ge=1)
    chain_header: str | None = None
    # What started it, when not a person: e.g. {"kind": "alerts", "group_id": ...}.
    origin: dict[str, str] = Field(default_factory=dict)
    # The reasoning-depth bound the control plane learned from recent successful runs.
    max_cycles: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, raw: Any) -> Any:
        """Specs stored before sources existed said ``title`` and ``scenario``."""
        if not isinstance(raw, Mapping):
            return raw
        data = dict(raw)
        if "title" in data:
            data.setdefault("question", data.pop("title") or "")
        scenario = data.pop("scenario", None)
        if scenario and not data.get("sources"):
            data["sources"] = [simulated_source(str(scenario)).model_dump()]
        return data

    @property
    def scenario(self) -> str | None:
        """The simulated scenario this spec reads, if its source is the simulated world."""
        for source in self.sources:
            if source.kind is SourceKind.SIMULATED:
                value = source.setting("scenario")
                return str(value) if value else None
        return None


class WorkerBriefing(BaseModel):
    """``GET /v1/investigations/{id}/worker/spec``: the spec plus who is asking."""

    model_config = ConfigDict(frozen=True)

    id: str
    agent: str
    trust_phase: TrustPhase
    chain_id: str
    spec: WorkerSpec
    identity: dict[str, Any]  # the agent's identity and boundaries, for the policy wrapper
    llm: dict[str, Any] | None = None  # the agent's model configuration, if it has one


def simulated_source(scenario: str) -> SourceConfig:
    """The simulated world for ``scenario``: it answers every tool of every domain."""
    return SourceConfig(
        name="simulated",
        kind=SourceKind.SIMULATED,
        domain=Domain.APPLICATION,
        settings={"scenario": scenario},
        timeout_seconds=30,
        max_answer_chars=200_000,
    )
