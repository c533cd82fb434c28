"""Gauges that mirror the database at scrape time: queue, agents, leases,
approvals pending, gate progress and the reasoning-depth bound in force."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.services.depth import DepthService
from nightshift.services.gate_view import GateView
from nightshift.store.database import Database
from nightshift.store.tables import (
    ActionProposalRow,
    AgentRow,
    CredentialLeaseRow,
    InvestigationRow,
    as_utc,
)

S = InvestigationStatus
PENDING_APPROVAL = "pending_approval"
_WAITING = (S.QUEUED.value, S.HELD.value)
_ACTIVE = (S.DISPATCHED.value, S.RUNNING.value)


def state_families(
    db: Database, depth: DepthService, gates: GateView | None, agent_label: Callable[[str], str]
) -> Iterator[Metric]:
    now = datetime.now(UTC)
    with db.read() as s:
        by_status: dict[str, int] = {
            status: count
            for status, count in s.execute(
                select(InvestigationRow.status, func.count())
                .where(InvestigationRow.status.in_((*_WAITING, *_ACTIVE)))
                .group_by(InvestigationRow.status)
            )
        }
        oldest = s.scalar(
            select(func.min(InvestigationRow.created_at)).where(
                InvestigationRow.status == S.QUEUED.value
            )
        )
        agents = s.execute(
            select(AgentRow.trust_phase, AgentRow.status, func.count()).group_by(
                AgentRow.trust_phase, AgentRow.status
            )
        ).all()
        leases = s.execute(
            select(CredentialLeaseRow.backend, CredentialLeaseRow.kind, func.count())
            .where(CredentialLeaseRow.state == "active")
            .group_by(CredentialLeaseRow.backend, CredentialLeaseRow.kind)
        ).all()
        pending = s.execute(
            select(func.count(), func.min(ActionProposalRow.created_at)).where(
                ActionProposalRow.status == PENDING_APPROVAL
            )
        ).one()
    queue = GaugeMetricFamily(
        "nightshift_queue_depth", "Investigations waiting for dispatch.", labels=["status"]
    )
    for status in _WAITING:
        queue.add_metric([status], by_status.get(status, 0))
    yield queue
    active = GaugeMetricFamily(
        "nightshift_investigations_active", "Investigations holding a unit.", labels=["status"]
    )
    for status in _ACTIVE:
        active.add_metric([status], by_status.get(status, 0))
    yield active
    yield GaugeMetricFamily(
        "nightshift_queue_oldest_age_seconds",
        "Age of the oldest queued investigation (0 when the queue is empty).",
        value=(now - as_utc(oldest)).total_seconds() if oldest else 0.0,
    )
    phases = GaugeMetricFamily(
        "nightshift_agents", "Registered agents by trust phase and status.",
        labels=["phase", "status"],
    )  # fmt: skip
    for phase, status, count in agents:
        phases.add_metric([phase, status], count)
    yield phases
    lease_family = GaugeMetricFamily(
        "nightshift_credential_leases_active", "Credential leases not yet revoked.",
        labels=["backend", "kind"],
    )  # fmt: skip
    for backend, kind, count in leases:
        lease_family.add_metric([backend, kind], count)
    yield lease_family
    count, first = pending
    yield GaugeMetricFamily(
        "nightshift_approvals_pending", "Approval requests awaiting a human.", value=count or 0
    )
    yield GaugeMetricFamily(
        "nightshift_approvals_oldest_pending_age_seconds",
        "Age of the oldest pending approval request (0 when none).",
        value=(now - as_utc(first)).total_seconds() if first else 0.0,
    )
    limit = GaugeMetricFamily(
        "nightshift_reasoning_depth_limit",
        "Cycles before the reasoning-depth breaker trips for newly dispatched work.",
        labels=["tier"],
    )
    p95 = GaugeMetricFamily(
        "nightshift_reasoning_depth_p95_cycles",
        "p95 cycle count of recent successful investigations.",
        labels=["tier"],
    )
    for bound in depth.bounds():
        limit.add_metric([bound.tier.value], bound.limit)
        if bound.p95 is not None:
            p95.add_metric([bound.tier.value], bound.p95)
    yield limit
    yield p95
    if gates is not None:
        yield from _gate_families(gates, agent_label)


def _gate_families(gates: GateView, agent_label: Callable[[str], str]) -> Iterator[Metric]:
    labels = ["agent", "target", "gate"]
    value = GaugeMetricFamily(
        "nightshift_gate_value", "A promotion gate's current value.", labels=labels
    )
    threshold = GaugeMetricFamily(
        "nightshift_gate_threshold", "A promotion gate's threshold.", labels=labels
    )
    passed = GaugeMetricFamily(
        "nightshift_gate_passed", "1 when a promotion gate passes.", labels=labels
    )
    for report in gates.reports():
        target = report.target.value if report.target else ""
        agent = agent_label(report.agent)
        for gate in report.gates:
            key = [agent, target, gate.name]
            if gate.value is not None:
                value.add_metric(key, gate.value)
            threshold.add_metric(key, gate.threshold)
            passed.add_metric(key, 1.0 if gate.passed else 0.0)
    yield value
    yield threshold
    yield passed
