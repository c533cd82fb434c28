"""Ports the services need from the outside, as Protocols (adapters live elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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


class QueueListener(Protocol):
    """Told (after commit) that a submission entered the queue, or that held or
    recovered work re-entered it: the dispatcher wakes for it. Worker event
    batches are not told: they never free a slot or queue work, and waking the
    dispatcher for each one cost a claim transaction per batch (about a tenth of
    the control plane's CPU per investigation)."""

    def investigation_queued(self, investigation_id: str) -> None: ...


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

    def warm(self) -> None:
        """Describe every scenario now, before the first submission needs one."""
        ...


@dataclass(frozen=True, slots=True)
class AgentRecords:
    """Everything recorded about an agent's work that gates and demotion read."""

    incidents: tuple[IncidentRecord, ...] = ()
    remediations: tuple[RemediationRecord, ...] = ()
    escalations: tuple[EscalationRecord, ...] = ()
    out_of_scope_actions: tuple[datetime, ...] = ()


class EvidenceSource(Protocol):
    def records(self, agent: str, since: datetime | None = None) -> AgentRecords:
        """The agent's records; with ``since``, at least those at or after it."""
        ...


class NoEvidence:
    """Until verdicts and outcomes are recorded, there is nothing to count."""

    def records(self, agent: str, since: datetime | None = None) -> AgentRecords:
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


class PhaseProposalGit(Protocol):
    """Writes an authorized phase change into the GitOps repository as one commit on a
    new review branch, and changes nothing live: the merged pull request is the change.
    Raises ``Conflict`` with the reason when Git cannot take it (dirty copy, Git
    declaring no phase or another one for the agent)."""

    @property
    def environment(self) -> str: ...

    def declared_phase(self, agent: str) -> str:
        """The phase Git declares ``agent`` at in this environment (checks the copy is clean)."""
        ...

    def write_proposal(self, proposal: Mapping[str, Any], reason: str) -> str:
        """Commits ``proposal`` (the phase-proposals answer) on a new review branch;
        returns the branch."""
        ...

    def review(self, branch: str) -> str | None:
        """What a reviewer needs to open the pull request of ``branch``, read from Git
        (its commit, message, files and the push to make); None for a branch that is
        not a phase-change branch of this repository."""
        ...
