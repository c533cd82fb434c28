"""The gateway's metrics, on its own registry (served at ``/metrics`` over HTTP)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from nightshift.observability.metrics import Bounded

_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self._agent = Bounded()  # agent names are registered, but keep the label bounded
        self.calls = Counter(
            "nightshift_gateway_calls",
            "tools/call requests through the gateway by outcome "
            "(allow, deny, proposed, error) and reason code.",
            ["agent", "outcome", "reason"],
            registry=r,
        )
        self.refusals = Counter(
            "nightshift_gateway_refusals",
            "Requests refused before any tool was judged (token, owner, suspension, "
            "review hold, kill switch).",
            ["reason"],
            registry=r,
        )
        self.latency = Histogram(
            "nightshift_gateway_call_seconds",
            "Time of an allowed call through the gateway, and of its upstream part.",
            ["part"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def call(self, agent: str, outcome: str, reason: str) -> None:
        self.calls.labels(self._agent(agent), outcome, reason).inc()

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def observe(self, total_seconds: float, upstream_seconds: float) -> None:
        self.latency.labels("total").observe(total_seconds)
        self.latency.labels("upstream").observe(upstream_seconds)
