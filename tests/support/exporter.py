"""A tiny Prometheus exporter whose values a test sets while it runs.

It serves ``/metrics`` in the Prometheus text format (0.0.4) on 127.0.0.1 and a
free port. Everything is in memory behind one lock, so a test thread can change
values while Prometheus scrapes. Counters can be given a rate instead of a value
(``rate``): their value then grows with the wall clock, which is what a real
``container_cpu_usage_seconds_total`` does and what ``rate()`` needs to see.

Beyond the generic setters there are shapes the incident tests use: cAdvisor
container series, node_exporter CPU and memory, a checkout service's request
latency histogram and timeouts, PgBouncer waiters and PostgreSQL connections,
named as the common exporters name them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Labels = tuple[tuple[str, str], ...]
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _key(labels: Mapping[str, str] | None) -> Labels:
    return tuple(sorted((labels or {}).items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels_text(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


@dataclass
class _Sample:
    value: float
    per_second: float = 0.0  # counters given a rate grow from ``since``
    since: float = 0.0

    def now(self, at: float) -> float:
        return self.value + self.per_second * max(0.0, at - self.since)


@dataclass
class _Family:
    kind: str  # gauge | counter | histogram
    help: str
    samples: dict[Labels, _Sample] = field(default_factory=dict)
    buckets: tuple[float, ...] = ()
    histograms: dict[Labels, list[float]] = field(default_factory=dict)  # counts + [sum, count]


class Exporter:
    """Start with ``start()`` (or as a context manager); ``target`` is host:port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.scrapes = 0

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> Exporter:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet under pytest
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Exporter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "exporter not started"
        return int(self._server.server_address[1])

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- generic setters -------------------------------------------------------------

    def _family(self, name: str, kind: str, help: str) -> _Family:
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = _Family(kind, help or name.replace("_", " "))
        elif family.kind != kind:
            raise ValueError(f"{name} is a {family.kind}, not a {kind}")
        return family

    def gauge(
        self, name: str, labels: Mapping[str, str] | None, value: float, help: str = ""
    ) -> None:
        with self._lock:
            self._family(name, "gauge", help).samples[_key(labels)] = _Sample(value)

    def counter(
        self, name: str, labels: Mapping[str, str] | None, value: float, help: str = ""
    ) -> None:
        """Set a counter's value (and stop any rate it had)."""
        with self._lock:
            self._family(name, "counter", help).samples[_key(labels)] = _Sample(value)

    def inc(self, name: str, labels: Mapping[str, str] | None, by: float = 1.0) -> None:
        with self._lock:
            family = self._family(name, "counter", "")
            sample = family.samples.setdefault(_key(labels), _Sample(0.0))
            sample.value += by

    def rate(
        self, name: str, labels: Mapping[str, str] | None, per_second: float, help: str = ""
    ) -> None:
        """Make a counter grow by ``per_second`` from now on, continuing from its value."""
        at = time.time()
        with self._lock:
            family = self._family(name, "counter", help)
            old = family.samples.get(_key(labels))
            start = old.now(at) if old else 0.0
            family.samples[_key(labels)] = _Sample(start, per_second, at)

    def observe(
        self,
        name: str,
        labels: Mapping[str, str] | None,
        value: float,
        times: int = 1,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        help: str = "",
    ) -> None:
        """Record ``times`` observations of ``value`` in a histogram."""
        with self._lock:
            family = self._family(name, "histogram", help)
            if not family.buckets:
                family.buckets = tuple(sorted(buckets))
            counts = family.histograms.setdefault(_key(labels), [0.0] * (len(family.buckets) + 2))
            for i, bound in enumerate(family.buckets):
                if value <= bound:
                    counts[i] += times
            counts[-2] += value * times
            counts[-1] += times

    def remove(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Drop one series (or the whole metric when ``labels`` is None)."""
        with self._lock:
            if labels is None:
                self._families.pop(name, None)
                return
            family = self._families.get(name)
            if family is not None:
                family.samples.pop(_key(labels), None)
                family.histograms.pop(_key(labels), None)

    # -- the shapes of real exporters ----------------------------------------------------

    def container(
        self,
        namespace: str,
        pod: str,
        container: str,
        cpu_cores: float,
        memory_bytes: float,
        node: str = "node-1",
    ) -> None:
        """cAdvisor (kubelet) series of one container using ``cpu_cores`` and ``memory_bytes``."""
        labels = {"namespace": namespace, "pod": pod, "container": container, "node": node}
        self.rate("container_cpu_usage_seconds_total", labels, cpu_cores)
        self.gauge("container_memory_working_set_bytes", labels, memory_bytes)

    def node(
        self, instance: str, cpus: int, busy_cores: float, mem_total: float, mem_available: float
    ) -> None:
        """node_exporter's CPU-time counters and memory gauges of one host.

        ``instance`` is exposed as a label, so the scrape must honour labels
        (tests.support.prometheus does) for several hosts to share one exporter."""
        busy = busy_cores / cpus
        for cpu in range(cpus):
            for mode, share in (("user", busy), ("idle", 1.0 - busy)):
                labels = {"instance": instance, "cpu": str(cpu), "mode": mode}
                self.rate("node_cpu_seconds_total", labels, share)
        self.gauge("node_memory_MemTotal_bytes", {"instance": instance}, mem_total)
        self.gauge("node_memory_MemAvailable_bytes", {"instance": instance}, mem_available)

    def checkout(self, latency_seconds: float, requests_per_second: float, timeouts: int) -> None:
        """The checkout service: a second's worth of requests at ``latency_seconds``."""
        labels = {"namespace": "shop", "service": "checkout", "route": "/api/checkout"}
        self.observe(
            "http_request_duration_seconds", labels, latency_seconds, int(requests_per_second)
        )
        self.rate("http_requests_total", {**labels, "code": "200"}, requests_per_second)
        if timeouts:
            self.inc("checkout_upstream_timeouts_total", labels, timeouts)

    def pgbouncer(self, database: str, waiting: int, active: int, max_wait_seconds: float) -> None:
        """pgbouncer_exporter's pool gauges."""
        labels = {"database": database, "user": "app"}
        self.gauge("pgbouncer_pools_client_waiting_connections", labels, waiting)
        self.gauge("pgbouncer_pools_client_active_connections", labels, active)
        self.gauge("pgbouncer_pools_client_maxwait_seconds", labels, max_wait_seconds)

    def postgres(self, datname: str, by_state: Mapping[str, int], max_connections: int) -> None:
        """postgres_exporter's connection counts by state and max_connections."""
        for state, count in by_state.items():
            self.gauge("pg_stat_activity_count", {"datname": datname, "state": state}, count)
        self.gauge("pg_settings_max_connections", {"server": "postgres:5432"}, max_connections)

    # -- exposition ----------------------------------------------------------------------

    def render(self) -> str:
        at = time.time()
        with self._lock:
            self.scrapes += 1
            return "".join(self._lines(at))

    def _lines(self, at: float) -> Iterator[str]:
        for name in sorted(self._families):
            family = self._families[name]
            yield f"# HELP {name} {family.help}\n# TYPE {name} {family.kind}\n"
            for labels, sample in sorted(family.samples.items()):
                yield f"{name}{_labels_text(labels)} {_number(sample.now(at))}\n"
            for labels, counts in sorted(family.histograms.items()):
                for bound, count in zip(family.buckets, counts, strict=False):
                    le = (*labels, ("le", _number(bound)))
                    yield f"{name}_bucket{_labels_text(tuple(sorted(le)))} {_number(count)}\n"
                inf = tuple(sorted((*labels, ("le", "+Inf"))))
                yield f"{name}_bucket{_labels_text(inf)} {_number(counts[-1])}\n"
                yield f"{name}_sum{_labels_text(labels)} {_number(counts[-2])}\n"
                yield f"{name}_count{_labels_text(labels)} {_number(counts[-1])}\n"


# Alerting rules over the shapes above, as a platform team would write them for
# the 2 AM cascade (checkout slow because PgBouncer's pool waits on a PostgreSQL
# that is out of connections). Windows are short because tests scrape every second.
CASCADE_RULES = """
groups:
  - name: cascade
    rules:
      - alert: CheckoutLatencyHigh
        expr: >
          histogram_quantile(0.99, sum by (le, namespace, service)
          (rate(http_request_duration_seconds_bucket{service="checkout"}[30s]))) > 1
        labels: {severity: warning}
        annotations:
          description: "checkout p99 latency {{ $value }}s (over 1s)"
      - alert: CheckoutUpstreamTimeouts
        expr: increase(checkout_upstream_timeouts_total[1m]) > 0
        labels: {severity: warning}
        annotations:
          description: "checkout timed out {{ $value }} times calling its upstream"
      - alert: PgBouncerClientsWaiting
        expr: pgbouncer_pools_client_waiting_connections > 10
        labels: {severity: critical, domain: database, namespace: db, service: pgbouncer}
        annotations:
          description: "{{ $labels.database }} pool: {{ $value }} clients waiting for a server"
      - alert: PostgresConnectionsNearMax
        expr: sum(pg_stat_activity_count) / max(pg_settings_max_connections) > 0.9
        labels: {severity: critical, domain: database, namespace: db, service: postgres}
        annotations:
          description: "remaining connection slots nearly gone ({{ $value }} of the maximum)"
"""
