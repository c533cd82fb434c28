"""Prometheus metrics of the control plane, on a registry of their own.

Conventions: ``nightshift_`` prefix, base units (seconds, bytes, USD),
counters end in ``_total`` (prometheus-client appends it), and every label
has a bounded set of values: statuses, tiers, domains and reasons are enums;
tool names come from the catalog; model names and agent names are capped
(:class:`Bounded`) so a misbehaving worker cannot explode the series count.
Investigation ids are never labels (they are span attributes instead).

Counters are fed by the event observer and termination listener
(``services/telemetry.py``); gauges that mirror database state are read at
scrape time by a collector there.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from nightshift.agent.tools.catalog import BY_NAME
from nightshift.domain.diagnosis import Outcome as LoopOutcome
from nightshift.domain.vocabulary import Domain, Tier
from nightshift.governance.decisions import Outcome, ReasonCode
from nightshift.observability.llm_calls import LlmCall, TokenPrice

# 90 s - 15 min is the real work; the sub-second buckets cover the simulated world.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90, 120, 180, 240, 300, 450,
                    600, 750, 900, 1200, 1800)  # fmt: skip
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
CYCLE_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30)
LLM_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)
COST_BUCKETS = (0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
APPROVAL_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 86400)

OTHER = "other"
_CACHE_MAX = 1024  # raw label values remembered per metric (a worker may send junk)
_TIERS = frozenset(t.value for t in Tier)
_DOMAINS = frozenset(d.value for d in Domain)
_LOOP_OUTCOMES = frozenset(o.value for o in LoopOutcome)
_TOOL_OUTCOMES = frozenset({"ok", "error", "no_data", "timeout", "truncated", "denied"})
_POLICY_OUTCOMES = frozenset(o.value for o in Outcome)
_POLICY_REASONS = frozenset(r.value for r in ReasonCode)
# Policy denials that are breakers (the chain is stopped), by reason code.
_BREAKER_REASONS = frozenset({"chain_cycle", "chain_depth_exceeded", "fan_out_exceeded",
                              "budget_exhausted", "rate_limited"})  # fmt: skip


class Bounded:
    """Caps the distinct values of a label: known values pass, the first
    ``limit`` unknown ones are kept, anything after that becomes ``other``."""

    def __init__(self, known: frozenset[str] = frozenset(), limit: int = 50) -> None:
        self._known = set(known)
        self._extra = 0
        self._limit = limit
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._known:
            return value
        value = value[:64] or "unknown"
        with self._lock:
            if value in self._known:
                return value
            if self._extra >= self._limit:
                return OTHER
            self._extra += 1
            self._known.add(value)
        return value


def tier_label(value: object) -> str:
    return str(value) if str(value) in _TIERS else OTHER


def domain_label(domains: object) -> str:
    """One label for an investigation's domains: the domain, ``multi``, or ``none``."""
    names = [str(d) for d in domains] if isinstance(domains, list | tuple) else []
    if not names:
        return "none"
    if len(set(names)) > 1:
        return "multi"
    return names[0] if names[0] in _DOMAINS else OTHER


# Terminal reasons in free text -> a small enum, checked in order.
_REASON_PATTERNS = (
    ("breaker", "breaker_tripped"),
    ("budget", "budget_exhausted"),
    ("deadline", "deadline"),
    ("out of memory", "out_of_memory"),
    ("cpu-time", "cpu_limit"),
    ("kill switch", "kill_switch"),
    ("lost worker", "lost_worker"),
    ("secret broker", "secret_broker"),
    ("could not start", "start_failed"),
    ("without reporting", "no_result"),
    ("killed by signal", "killed"),
    ("crashed", "crashed"),
    ("worker error", "worker_error"),
    ("cancelled", "cancelled"),
)
_STATUS_REASON = {"succeeded": "diagnosed", "escalated": "escalated", "cancelled": "cancelled",
                  "deadline_exceeded": "deadline", "failed": "other"}  # fmt: skip
REASON_VALUES = frozenset({r for _, r in _REASON_PATTERNS} | set(_STATUS_REASON.values()))


def reason_label(status: str, reason: str) -> str:
    """A bounded reason for a terminal investigation (the full text stays in the row)."""
    text = reason.lower()
    for needle, label in _REASON_PATTERNS:
        if needle in text:
            return label
    return _STATUS_REASON.get(status, OTHER)


class Metrics:
    """Every metric the control plane exports, registered on ``registry``."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        llm_prices: Mapping[str, TokenPrice] | None = None,
    ) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.llm_prices: Mapping[str, TokenPrice] = llm_prices or {}

        def counter(name: str, doc: str, labels: list[str]) -> Counter:
            return Counter(name, doc, labels, registry=r)

        def histogram(
            name: str, doc: str, labels: list[str], buckets: tuple[float, ...]
        ) -> Histogram:
            return Histogram(name, doc, labels, buckets=buckets, registry=r)

        inv = ["agent", "tier", "domain"]
        self.started = counter(
            "nightshift_investigations_started", "Investigations dispatched to a worker unit.", inv
        )
        self.completed = counter(
            "nightshift_investigations_completed",
            "Investigations that ended with a diagnosis (status succeeded or escalated).",
            [*inv, "status", "reason"],
        )
        self.failed = counter(
            "nightshift_investigations_failed",
            "Investigations that ended without a diagnosis (failed, cancelled, deadline).",
            [*inv, "status", "reason"],
        )
        self.duration = histogram(
            "nightshift_investigation_duration_seconds",
            "Run time from dispatch to the terminal state.",
            ["tier"],
            DURATION_BUCKETS,
        )
        self.admission_wait = histogram(
            "nightshift_admission_wait_seconds",
            "Time from submission to dispatch.",
            ["tier"],
            WAIT_BUCKETS,
        )
        self.cycles = histogram(
            "nightshift_investigation_cycles",
            "Hypothesis-evaluation cycles per finished investigation.",
            ["tier", "outcome"],
            CYCLE_BUCKETS,
        )
        self.tool_calls = counter(
            "nightshift_tool_calls", "Tool calls answered, by outcome.", ["tool", "outcome"]
        )
        self.breaker_trips = counter(
            "nightshift_breaker_trips", "Circuit breakers tripped, by kind.", ["kind"]
        )
        self.policy_decisions = counter(
            "nightshift_policy_decisions",
            "Policy decisions on governed tool calls.",
            ["outcome", "reason"],
        )
        self.llm_calls = counter(
            "nightshift_llm_calls", "Model calls, by status.", ["provider", "model", "outcome"]
        )
        self.llm_tokens = counter("nightshift_llm_tokens", "Model tokens.", ["model", "kind"])
        self.llm_latency = histogram(
            "nightshift_llm_call_duration_seconds",
            "Model call latency.",
            ["model"],
            LLM_LATENCY_BUCKETS,
        )
        self.llm_cost = counter("nightshift_llm_cost_usd", "Model spend in USD.", ["model"])
        self.cost = counter(
            "nightshift_cost_usd", "Attributed spend in USD by component.", ["tier", "component"]
        )
        self.investigation_cost = histogram(
            "nightshift_investigation_cost_usd",
            "Total attributed cost per investigation.",
            ["tier"],
            COST_BUCKETS,
        )
        self.worker_cpu = counter(
            "nightshift_worker_cpu_seconds", "CPU time used by worker units.", ["tier"]
        )
        self.approval_decisions = counter(
            "nightshift_approval_decisions", "Approval requests decided by a human.", ["decision"]
        )
        self.approval_latency = histogram(
            "nightshift_approval_decision_seconds",
            "Time from an approval request to its human decision.",
            [],
            APPROVAL_BUCKETS,
        )
        self.phase_changes = counter(
            "nightshift_phase_changes",
            "Trust-phase changes (promoted, demoted) seen while running.",
            ["agent", "kind", "to_phase"],
        )
        self.audit_anchor_failures = counter(
            "nightshift_audit_anchor_failures",
            "Periodic anchors of the audit chain's head that could not be written.",
            ["reason"],  # signer_unavailable (Vault/OpenBao down), sink, refused
        )
        self.rbac_drift = Gauge(
            "nightshift_rbac_drift_findings",
            "RBAC drift findings from the last cluster check.",
            ["kind"],
            registry=r,
        )
        self.agent_label = Bounded(limit=200)
        self.model_label = Bounded(limit=32)
        # Resolved label children by raw values: the per-call path skips labels().
        # Unknown raw values map onto few children; the caches are capped too.
        self._tool_children: dict[tuple[str, str], Any] = {}
        self._policy_children: dict[tuple[str, str], Any] = {}

    # -- fed by the event observer --------------------------------------------

    def record_event(self, tier: str, kind: str, data: Mapping[str, Any]) -> None:
        """Count one worker event; cheap on the hot path (tool answers)."""
        if kind == "tool.answered":
            key = (str(data.get("tool", "")), str(data.get("status", "")))
            child = self._tool_children.get(key)
            if child is None:
                tool = key[0] if key[0] in BY_NAME else OTHER
                outcome = key[1] if key[1] in _TOOL_OUTCOMES else OTHER
                child = self.tool_calls.labels(tool, outcome)
                if len(self._tool_children) < _CACHE_MAX:
                    self._tool_children[key] = child
            child.inc()
        elif kind == "policy.decision":
            decision = data.get("decision") or {}
            outcome = str(decision.get("outcome", ""))
            reason = str(decision.get("reason", ""))
            key = (outcome, reason)
            child = self._policy_children.get(key)
            if child is None:
                child = self.policy_decisions.labels(
                    outcome if outcome in _POLICY_OUTCOMES else OTHER,
                    reason if reason in _POLICY_REASONS else OTHER,
                )
                if len(self._policy_children) < _CACHE_MAX:
                    self._policy_children[key] = child
            child.inc()
            if outcome == "deny" and reason in _BREAKER_REASONS:
                self.breaker_trips.labels(reason).inc()
        elif kind == "breaker.tripped":
            self.breaker_trips.labels("reasoning_depth").inc()
        elif kind == "budget.exhausted":
            self.breaker_trips.labels("budget").inc()
        elif kind == "llm.call":
            self.record_llm_call(LlmCall.from_event(data))
        elif kind == "result":
            outcome = str(data.get("outcome", ""))
            self.cycles.labels(
                tier_label(tier), outcome if outcome in _LOOP_OUTCOMES else OTHER
            ).observe(float(data.get("cycles") or 0))

    def record_llm_call(self, call: LlmCall) -> None:
        model = self.model_label(call.model)
        provider = self.model_label(call.provider)
        self.llm_calls.labels(provider, model, call.status).inc()
        tokens = (("input", call.input_tokens), ("output", call.output_tokens),
                  ("cached", call.cached_tokens))  # fmt: skip
        for kind, count in tokens:
            if count:
                self.llm_tokens.labels(model, kind).inc(count)
        if call.latency_seconds is not None:
            self.llm_latency.labels(model).observe(call.latency_seconds)
        cost = call.priced(self.llm_prices)
        if cost:
            self.llm_cost.labels(model).inc(cost)

    # -- fed by the lifecycle hooks -------------------------------------------

    def record_finished(self, agent: str, tier: str, domain: str, status: str, reason: str) -> None:
        labels = (self.agent_label(agent), tier_label(tier), domain, status,
                  reason_label(status, reason))  # fmt: skip
        target = self.completed if status in ("succeeded", "escalated") else self.failed
        target.labels(*labels).inc()

    def set_rbac_drift(self, findings: Mapping[str, int]) -> None:
        """The Kubernetes drift check reports its findings by kind (replaces the last)."""
        self.rbac_drift.clear()
        for kind, count in findings.items():
            self.rbac_drift.labels(kind[:64]).set(count)
