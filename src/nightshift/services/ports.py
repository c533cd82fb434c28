"""Ports the services need from the outside, as Protocols (adapters live elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from nightshift.domain.vocabulary import Domain, Tier
from nightshift.governance.evidence import EscalationRecord, IncidentRecord, RemediationRecord


class EventNotifier(Protocol):
    """Wakes followers of an investigation's event stream (in-process or a broker)."""

    def publish(self, investigation_id: str) -> None: ...


class TerminationListener(Protocol):
    """Told (after commit) that an investigation reached a terminal state.

    The runtime stops the worker unit; the secret broker revokes leases.
    """

    def investigation_ended(self, investigation_id: str, status: str, reason: str) -> None: ...


class EventStream(EventNotifier, Protocol):
    """Publish and wait: what an SSE follower needs (in-process bus or a broker)."""

    async def wait(self, investigation_id: str, timeout: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class ScenarioBrief:
    """What a submission inherits from a simulated scenario it names."""

    name: str
    question: str
    tier: Tier
    domains: tuple[Domain, ...]
    alert: Mapping[str, str]


class ScenarioCatalog(Protocol):
    def describe(self, name: str) -> ScenarioBrief | None: ...


@dataclass(frozen=True, slots=True)
class AgentRecords:
    """Everything recorded about an agent's work that gates and demotion read."""

    incidents: tuple[IncidentRecord, ...] = ()
    remediations: tuple[RemediationRecord, ...] = ()
    escalations: tuple[EscalationRecord, ...] = ()
    out_of_scope_actions: tuple[datetime, ...] = ()


class EvidenceSource(Protocol):
    def records(self, agent: str) -> AgentRecords: ...


class NoEvidence:
    """Until verdicts and outcomes are recorded, there is nothing to count."""

    def records(self, agent: str) -> AgentRecords:
        return AgentRecords()


@dataclass(frozen=True, slots=True)
class AppliedDemotion:
    """An automatic demotion the control plane has already applied live and committed."""

    agent: str
    from_phase: str
    to_phase: str
    reason: str  # the findings that demoted it
    audit_seq: int  # the audit record of the live demotion


class DemotionGit(Protocol):
    """Makes the GitOps repository declare a demotion already applied live, so Git and
    the cluster agree again. Returns a line saying what was committed ("" when the
    repository does not keep phases); raises with the reason when Git cannot take it
    (the live demotion stands either way)."""

    def record_demotion(self, demotion: AppliedDemotion) -> str: ...
