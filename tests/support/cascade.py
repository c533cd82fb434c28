"""The design's 2 AM incident, staged on real components.

A small shop on the real test control plane (frontend -> checkout -> risk-scoring,
checkout -> PgBouncer -> PostgreSQL). At T0 firewall automation tightens the
NetworkPolicy `checkout-egress` and checkout loses its egress to risk-scoring; the
same change is posted to Nightshift's change feed. Checkout then waits on
risk-scoring while holding its database transactions open, so PgBouncer queues
clients and PostgreSQL runs out of connections.

`Symptoms` keeps the test exporter's metrics (and the real PostgreSQL load) in step
with the policy's state, as the real system would behave: revert the policy and
the symptoms clear.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from nightshift.k8s.client import KubeApi, resource_path
from tests.support import shop
from tests.support.exporter import Exporter

NS = "shop"
POLICY = "checkout-egress"
JSON = dict[str, Any]
SERVICES = {"frontend": 8080, "checkout": 8080, "risk-scoring": 9555, "pgbouncer": 6432}


def _egress_to(app: str, port: int) -> JSON:
    return {"to": [{"podSelector": {"matchLabels": {"app": app}}}],
            "ports": [{"protocol": "TCP", "port": port}]}  # fmt: skip


DNS_EGRESS: JSON = {"to": [{"namespaceSelector": {}}],
                    "ports": [{"protocol": "UDP", "port": 53}]}  # fmt: skip
HEALTHY_EGRESS = [_egress_to("risk-scoring", 9555), _egress_to("pgbouncer", 6432), DNS_EGRESS]


def policy(egress: list[JSON]) -> JSON:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": POLICY, "namespace": NS,
                     "labels": {"app.kubernetes.io/managed-by": "firewall-automation"}},
        "spec": {"podSelector": {"matchLabels": {"app": "checkout"}},
                 "policyTypes": ["Egress"], "egress": egress},
    }  # fmt: skip


def stage_shop(api: KubeApi) -> None:
    shop.ensure_namespace(api, NS)
    for app, port in SERVICES.items():
        deploy = shop.deployment(app, NS, {"app": app}, port=port)
        shop.post(api, resource_path("apps/v1", "deployments", NS), deploy, "helm")
        ports = [{"name": "tcp", "port": port, "targetPort": port}]
        service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": app},
                   "spec": {"selector": {"app": app}, "ports": ports}}  # fmt: skip
        shop.post(api, resource_path("v1", "services", NS), service, "helm")
    shop.post(
        api,
        resource_path("networking.k8s.io/v1", "networkpolicies", NS),
        policy(copy.deepcopy(HEALTHY_EGRESS)),
        "firewall-automation",
    )
    for app in SERVICES:
        shop.wait_pods(api, NS, f"app={app}", 2)


def apply_firewall_change(api: KubeApi) -> JSON:
    """T0: the egress rule to risk-scoring is dropped. Returns the policy as it was."""
    path = resource_path("networking.k8s.io/v1", "networkpolicies", NS, POLICY)
    before = api.get(path)
    tightened = [_egress_to("pgbouncer", 6432), DNS_EGRESS]
    shop.patch(api, path, {"spec": {"egress": tightened}}, "firewall-automation")
    return before


def risk_scoring_reachable(api: KubeApi) -> bool:
    """What the data plane would do: may checkout's pods reach risk-scoring:9555?"""
    spec = api.get(resource_path("networking.k8s.io/v1", "networkpolicies", NS, POLICY))["spec"]
    for rule in spec.get("egress") or []:
        apps = {
            p.get("podSelector", {}).get("matchLabels", {}).get("app") for p in rule.get("to") or []
        }
        ports = {p.get("port") for p in rule.get("ports") or []}
        if "risk-scoring" in apps and 9555 in ports:
            return True
    return False


class Symptoms:
    """Follows the NetworkPolicy: broken egress -> checkout latency and timeouts,
    PgBouncer waiters, PostgreSQL at max_connections (``on_break`` / ``on_heal``
    also drive the real database load)."""

    def __init__(
        self,
        api: KubeApi,
        exporter: Exporter,
        max_connections: int,
        on_break: Callable[[], None],
        on_heal: Callable[[], None],
    ) -> None:
        self._api = api
        self._exporter = exporter
        self._max = max_connections
        self._on_break = on_break
        self._on_heal = on_heal
        self._stop = threading.Event()
        self.broken: bool | None = None
        self._thread = threading.Thread(target=self._run, name="symptoms", daemon=True)

    def start(self) -> Symptoms:
        self._apply(broken=False)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            broken = not risk_scoring_reachable(self._api)
            if broken != self.broken:
                self._apply(broken)

    def _apply(self, broken: bool) -> None:
        e = self._exporter
        if broken:
            self._on_break()
            e.checkout(latency_seconds=9.5, requests_per_second=40, timeouts=35)
            e.pgbouncer("shop", waiting=48, active=2, max_wait_seconds=27.0)
            e.postgres("shop", {"active": 2, "idle in transaction": self._max - 5}, self._max)
        else:
            self._on_heal()
            e.checkout(latency_seconds=0.08, requests_per_second=40, timeouts=0)
            e.pgbouncer("shop", waiting=0, active=2, max_wait_seconds=0.0)
            e.postgres("shop", {"active": 2, "idle": 3}, self._max)
        self.broken = broken


RULES = """
groups:
- name: shop
  rules:
  - alert: CheckoutLatencyHigh
    expr: >-
      histogram_quantile(0.99, sum by (le, namespace, service)
      (rate(http_request_duration_seconds_bucket{service="checkout"}[10s]))) > 2
    labels: {severity: critical, domain: application, namespace: shop, service: checkout}
    annotations: {summary: "checkout p99 latency above 2 s"}
  - alert: CheckoutUpstreamTimeouts
    expr: sum by (namespace, service) (rate(checkout_upstream_timeouts_total[10s])) > 0
    labels: {severity: critical, domain: application, namespace: shop, service: checkout}
    annotations: {summary: "checkout calls to its upstreams time out"}
  - alert: PgBouncerClientsWaiting
    expr: sum by (database) (pgbouncer_pools_client_waiting_connections) > 10
    labels: {severity: warning, domain: database, namespace: shop, service: pgbouncer}
    annotations: {summary: "clients queue for a server connection in pgbouncer"}
  - alert: PostgresConnectionsExhausted
    expr: sum(pg_stat_activity_count) >= max(pg_settings_max_connections) - 5
    labels: {severity: critical, domain: database, namespace: shop, service: postgres}
    annotations: {summary: "PostgreSQL is at max_connections"}
"""
