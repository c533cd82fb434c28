"""Observability glue: lifecycle hooks feed the counters and spans; a collector
reads the database's state at scrape time.

- ``prepare_launch`` (called by the dispatch queue, services/dispatch_queue.py,
  for each unit it claims, in the claiming transaction): counts the start,
  observes the admission wait, writes the adaptive reasoning-depth bound into
  the spec, opens the investigation's span and returns the environment that
  carries it.
- ``observe`` (event observer, in the appending transaction): tool calls,
  policy decisions, breakers, model calls, cycles; sets the investigation's
  category from the top root cause of its result.
- ``investigation_ended`` (termination listener): completed / failed by
  reason, duration, ends the span.
- ``worker_exited`` (executor exit): CPU and cost attribution.
- ``scrape``: refreshes watermark counters (approval decisions, phase
  changes) and renders the registry; ``StateCollector`` adds the gauges.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nightshift.domain.vocabulary import Tier
from nightshift.observability.costs import compute_cost
from nightshift.observability.metrics import Metrics, domain_label, tier_label
from nightshift.observability.tracing import Tracing
from nightshift.services.costs import CostService
from nightshift.services.depth import DepthService
from nightshift.services.gate_view import GateView
from nightshift.services.state_gauges import state_families
from nightshift.store.database import Database
from nightshift.store.tables import (
    ActionProposalRow,
    AgentRow,
    InvestigationRow,
    PhaseChangeRow,
    as_utc,
)

log = logging.getLogger(__name__)
_CATEGORY_MAX = 64


class Telemetry:
    def __init__(
        self,
        db: Database,
        *,
        metrics: Metrics,
        tracing: Tracing,
        depth: DepthService,
        costs: CostService,
        adaptive_depth: bool = True,
        gates: GateView | None = None,
    ) -> None:
        self._db = self.db = db
        self.metrics = metrics
        self.tracing = tracing
        self.depth = depth
        self.costs = costs
        self.gates = gates  # the phase gates' gauges; none without a phase service
        self._adaptive = adaptive_depth
        self._agents: dict[str, str] = {}
        self._scrape_lock = threading.Lock()
        started = datetime.now(UTC)
        self._approvals_mark = started
        self._phases_mark = 0
        self._phases_primed = False
        metrics.registry.register(StateCollector(self))

    # -- dispatcher hook ----------------------------------------------------------

    def prepare_launch(self, s: Session, row: InvestigationRow) -> Mapping[str, str]:
        try:
            return self._prepare_launch(s, row)
        except Exception:  # observability never blocks a dispatch
            log.exception("could not prepare telemetry for %s", row.id)
            return {}

    def _prepare_launch(self, s: Session, row: InvestigationRow) -> Mapping[str, str]:
        agent = self._agent_name(s, row.agent_id)
        tier = Tier(row.tier)
        self.metrics.started.labels(
            self.metrics.agent_label(agent), tier.value, domain_label(row.spec.get("domains"))
        ).inc()
        self.metrics.admission_wait.labels(tier.value).observe(
            max(0.0, (datetime.now(UTC) - as_utc(row.created_at)).total_seconds())
        )
        if self._adaptive and "max_cycles" not in row.spec:
            bound = self.depth.bound(tier, s)
            row.spec = {**row.spec, "max_cycles": bound.limit}
        return self.tracing.investigation_started(
            row.id,
            agent=agent,
            tier=tier.value,
            chain_id=row.chain_id,
            parent_id=row.parent_id,
            phase=row.trust_phase,
        )

    # -- event observer -------------------------------------------------------------

    def observe(
        self, s: Session, row: InvestigationRow, events: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        for kind, data in events:
            self.metrics.record_event(row.tier, kind, data)
            if kind == "result":
                causes = data.get("root_causes") or []
                top = causes[0] if causes and isinstance(causes[0], Mapping) else {}
                category = str(top.get("category") or "")
                if category:
                    row.category = category[:_CATEGORY_MAX]

    # -- termination listener --------------------------------------------------------

    def investigation_ended(self, investigation_id: str, status: str, reason: str) -> None:
        self.tracing.investigation_ended(investigation_id, status, reason)
        try:
            with self._db.read() as s:
                row = s.get(InvestigationRow, investigation_id)
                if row is None:
                    return
                agent = self._agent_name(s, row.agent_id)
                began = row.started_at or row.dispatched_at
                self.metrics.record_finished(
                    agent, row.tier, domain_label(row.spec.get("domains")), status, reason
                )
                if began is not None and row.finished_at is not None:
                    seconds = (as_utc(row.finished_at) - as_utc(began)).total_seconds()
                    self.metrics.duration.labels(tier_label(row.tier)).observe(max(0.0, seconds))
        except Exception:  # metrics must never break a termination
            log.exception("could not record the end of %s", investigation_id)

    # -- executor exit -------------------------------------------------------------

    def worker_exited(self, investigation_id: str, resources: Mapping[str, Any]) -> None:
        try:
            cost = self.costs.investigation(investigation_id)
        except Exception:
            log.exception("could not price %s", investigation_id)
            return
        tier = tier_label(cost.tier)
        # The row may not hold the resources yet (they are recorded after this
        # callback); price compute from the exit report itself.
        parts = {"llm": cost.cost.llm, "compute": compute_cost(resources, self.costs.prices),
                 "tooling": cost.cost.tooling, "storage": cost.cost.storage}  # fmt: skip
        for component, usd in parts.items():
            if usd:
                self.metrics.cost.labels(tier, component).inc(usd)
        self.metrics.investigation_cost.labels(tier).observe(sum(parts.values()))
        self.metrics.worker_cpu.labels(tier).inc(float(resources.get("cpu_seconds") or 0.0))

    # -- scrape ------------------------------------------------------------------------

    def scrape(self) -> bytes:
        with self._scrape_lock:
            try:
                self._refresh_watermarks()
            except Exception:
                log.exception("could not refresh watermark metrics")
            return generate_latest(self.metrics.registry)

    def _refresh_watermarks(self) -> None:
        with self._db.read() as s:
            decided = s.execute(
                select(
                    ActionProposalRow.created_at,
                    ActionProposalRow.decided_at,
                    ActionProposalRow.status,
                )
                .where(
                    ActionProposalRow.decided_at > self._approvals_mark,
                    ActionProposalRow.decided_by.is_not(None),
                )
                .order_by(ActionProposalRow.decided_at)
            ).all()
            for created, at, status in decided:
                if at is None:
                    continue
                wait = (as_utc(at) - as_utc(created)).total_seconds()
                self.metrics.approval_latency.observe(max(0.0, wait))
                # Approved requests move on (executing, executed, rolled back...).
                decision = "rejected" if status == "rejected" else "approved"
                self.metrics.approval_decisions.labels(decision).inc()
                self._approvals_mark = as_utc(at)
            if not self._phases_primed:  # count only changes made while we run
                self._phases_mark = s.scalar(select(func.max(PhaseChangeRow.id))) or 0
                self._phases_primed = True
                return
            changes = s.execute(
                select(
                    PhaseChangeRow.id, PhaseChangeRow.kind, PhaseChangeRow.to_phase, AgentRow.name
                )
                .join(AgentRow, AgentRow.id == PhaseChangeRow.agent_id)
                .where(PhaseChangeRow.id > self._phases_mark)
                .order_by(PhaseChangeRow.id)
            ).all()
            for change_id, kind, to_phase, agent in changes:
                self.metrics.phase_changes.labels(
                    self.metrics.agent_label(agent), kind, to_phase
                ).inc()
                self._phases_mark = change_id

    def prime(self) -> None:
        """Start the watermarks at the current state (call once at start-up)."""
        with self._scrape_lock:
            try:
                self._refresh_watermarks()
            except Exception:
                log.exception("could not read the phase history; counting from the first scrape")

    def _agent_name(self, s: Session, agent_id: str) -> str:
        name = self._agents.get(agent_id)
        if name is None:
            name = s.scalar(select(AgentRow.name).where(AgentRow.id == agent_id)) or "unknown"
            self._agents[agent_id] = name
        return name


class StateCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._t = telemetry

    def describe(self) -> Iterator[Any]:
        return iter(())  # collected lazily: no database reads at registration

    def collect(self) -> Iterator[Any]:
        try:
            yield from _state_families(self._t)
        except Exception:
            log.exception("could not read state gauges")


def _state_families(t: Telemetry) -> Iterator[Any]:
    return state_families(t.db, t.depth, t.gates, t.metrics.agent_label)
