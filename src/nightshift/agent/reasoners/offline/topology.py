"""Topology awareness: what exists, what depends on what, what looks unhealthy.

Built only from tool text, so it works on replayed kubectl sessions. Names are
mined conservatively (kebab-case tokens, ``host:port`` pairs, URLs); an
upstream symptom (timeouts, refused connections) is linked to the downstream
dependency it names so the planner can ask about that dependency next.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from nightshift.domain.diagnosis import ResourceRef

# Kubernetes generates name suffixes from a vowel-free alphabet (SafeEncodeString),
# which tells "web-7d9f8b6c5d-x2x4z" (a pod) from "java-api-checker" (a name).
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_POD_HASH = re.compile(rf"^(?P<base>.+?)-(?P<rs>{_SAFE}{{6,10}})-(?P<pod>{_SAFE}{{5}})$")
_JOB_POD = re.compile(rf"^(?P<base>.+?)-(?P<pod>{_SAFE}{{5}})$")
_STS_POD = re.compile(r"^(?P<base>.+?)-(?P<ord>\d{1,3})$")
_NAME = re.compile(r"(?<![\w./-])([a-z0-9]+(?:-[a-z0-9]+)+)(?![\w/-])")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HOSTPORT = re.compile(r"(?<![\w.-])([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*):(\d{2,5})\b(?![.\d])")
_URL = re.compile(r"https?://([a-zA-Z0-9.-]+)(?::(\d+))?")
_LOOKUP = re.compile(
    r"(?:lookup|resolve host|translate host name|host)\s+\"?([a-zA-Z0-9][\w.-]+)\"?", re.I
)
_DB_HINT = re.compile(
    r"postgres|mysql|maria|mongo|redis|\bdb\b|-db\b|^db-|database|sql|cassandra", re.I
)
_NOISE = {"http", "https", "tcp", "udp", "localhost", "ago", "kube-system", "default"}
# Words that precede a colon in log lines without being hosts ("remote address:1.2.3.4").
_NOT_HOSTS = {
    "address",
    "remote",
    "local",
    "peer",
    "host",
    "port",
    "source",
    "destination",
    "upstream",
    "downstream",
    "time",
    "line",
    "error",
    "warn",
    "info",
    "debug",
    "id",
    "connection",
    "client",
    "server",
    "status",
    "code",
    "attempt",
    "retry",
}
HEALTHY = {"Running", "Completed", "Succeeded"}


@dataclass(slots=True)
class PodInfo:
    name: str
    namespace: str | None
    ready: str = ""
    status: str = ""
    restarts: int = 0

    @property
    def unhealthy(self) -> bool:
        r = self.ready.split("/")
        not_ready = len(r) == 2 and r[0] != r[1] and self.status == "Running"
        return self.status not in HEALTHY or self.restarts > 0 or not_ready


@dataclass(slots=True)
class Topology:
    pods: dict[str, PodInfo] = field(default_factory=dict)
    namespaces: set[str] = field(default_factory=set)
    names: list[str] = field(default_factory=list)  # names from the question/alerts, in order
    depends: dict[str, set[tuple[str, int | None]]] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)  # name -> kind when known
    hint_ns: str | None = None  # the namespace the request points at
    claims: set[tuple[str, str | None]] = field(default_factory=set)  # PVCs the pods mount
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # pod -> labels
    selectors: dict[tuple[str, str | None], dict[str, str]] = field(default_factory=dict)
    no_endpoints: set[tuple[str, str | None]] = field(default_factory=set)  # services
    ips: dict[str, str] = field(default_factory=dict)  # pod IP -> pod name
    pod_nodes: dict[str, str] = field(default_factory=dict)  # pod -> the node it runs on
    node_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> labels
    service_ips: dict[str, str] = field(default_factory=dict)  # ClusterIP -> Service name
    missing_services: set[tuple[str, str | None]] = field(default_factory=set)  # NotFound
    blocked: dict[str, ResourceRef] = field(default_factory=dict)  # service -> quota refusing it
    # workload -> (port, protocol, name) of its containers; (service, ns) -> its port specs
    container_ports: dict[str, set[tuple[int, str, str]]] = field(default_factory=dict)
    service_ports: dict[tuple[str, str | None], list[tuple[str, str, str]]] = field(
        default_factory=dict
    )
    # (caller, ip, port) a caller failed to reach, by an address no listing named yet
    unresolved: set[tuple[str, str, int]] = field(default_factory=set)
    node_selectors: dict[str, dict[str, str]] = field(default_factory=dict)  # workload -> sel
    stalled: set[tuple[str, str | None]] = field(default_factory=set)  # ReplicaSets to read
    # (client, server) pairs the server side reported (database sessions by application):
    # they explain failures like any dependency, but are not addresses to probe
    clients: set[tuple[str, str]] = field(default_factory=set)

    def add_pod(self, pod: PodInfo) -> None:
        old = self.pods.get(pod.name)
        if old is None or pod.status:
            self.pods[pod.name] = pod
        if pod.namespace:
            self.namespaces.add(pod.namespace)

    def namespace_of(self, name: str) -> str | None:
        pod = self.pods.get(name)
        if pod and pod.namespace:
            return pod.namespace
        if f"ns:{name}" in self.kinds:
            return self.kinds[f"ns:{name}"]
        for p in self.pods.values():
            if workload_name(p.name) == name and p.namespace:
                return p.namespace
        return next(iter(sorted(self.namespaces)), None) if len(self.namespaces) == 1 else None

    def add_dependency(self, source: str, host: str, port: int | None) -> None:
        if host.lower() in _NOISE | _NOT_HOSTS or host.startswith("127.") or host == source:
            return
        self.depends.setdefault(source, set()).add((host, port))

    def dependencies(self) -> list[tuple[str, str, int | None]]:
        # A port may be unknown (None); sort it first instead of comparing None to int.
        pairs = ((s, h, p) for s, deps in self.depends.items() for h, p in deps)
        return sorted(pairs, key=lambda d: (d[0], d[1], -1 if d[2] is None else d[2]))

    def calls(self) -> list[tuple[str, str, int | None]]:
        """Every known caller -> callee edge, for reasoning (not all of them to probe)."""
        known = {(s, h) for s, h, _p in self.dependencies()}
        extra = [(s, h, None) for s, h in sorted(self.clients) if (s, h) not in known]
        return self.dependencies() + extra


def parse_labels(text: str) -> dict[str, str]:
    """``a=b,c=d`` (kubectl's label and selector format) as a dict."""
    pairs = (p.split("=", 1) for p in text.split(",") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs}


@functools.lru_cache(maxsize=4096)  # pure, and asked about the same pods all along
def workload_name(pod: str) -> str:
    for pattern in (_POD_HASH, _JOB_POD, _STS_POD):
        m = pattern.match(pod)
        if m:
            return m.group("base")
    return pod


_RS_HASH = re.compile(rf"^(?P<base>.+?)-{_SAFE}{{6,10}}$")


def replicaset_owner(name: str) -> str | None:
    """The Deployment that owns a ReplicaSet named <deployment>-<pod-template-hash>."""
    m = _RS_HASH.match(name)
    return m.group("base") if m else None


def workload_ref(pod: str, namespace: str | None, controller: str | None = None) -> ResourceRef:
    """The owning workload of a pod (what a human would fix), else the pod."""
    if controller:
        kind, _, name = controller.partition("/")
        if kind == "ReplicaSet":
            m = re.match(r"^(.+)-[a-z0-9]{6,10}$", name)
            return ResourceRef("Deployment", m.group(1) if m else name, namespace)
        return ResourceRef(kind, name, namespace)
    base = workload_name(pod)
    if base == pod:
        return ResourceRef("Pod", pod, namespace)
    kind = "Deployment" if _POD_HASH.match(pod) else "Workload"
    if _STS_POD.match(pod):
        kind = "StatefulSet"
    return ResourceRef(kind, base, namespace)


_IP_PORT = re.compile(r"(?<![\w.])((?:\d{1,3}\.){3}\d{1,3}):(\d{2,5})\b")


def ip_ports_in(text: str) -> list[tuple[str, int]]:
    return [(ip, int(port)) for ip, port in _IP_PORT.findall(text)]


def resolve_ips(topo: Topology, source: str, text: str) -> None:
    """A caller's logs name its dependency by address: a ClusterIP is a Service."""
    for ip, port in ip_ports_in(text):
        svc = topo.service_ips.get(ip)
        if svc:
            topo.add_dependency(source, svc, port)
        elif ip not in topo.ips:
            topo.unresolved.add((source, ip, port))


def names_in(text: str) -> list[str]:
    """Candidate resource names in free text, in order of appearance."""
    seen: list[str] = []
    for m in _NAME.finditer(text):
        token = m.group(1).strip("-")
        if _UUID.match(token):  # record ids (alerts, traces) are not resources
            continue
        if token not in seen and token not in _NOISE and not token[0].isdigit():
            seen.append(token)
    return seen


def hosts_in(text: str) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []
    for m in _HOSTPORT.finditer(text):
        found.append((m.group(1), int(m.group(2))))
    for m in _URL.finditer(text):
        found.append((m.group(1).lower(), int(m.group(2)) if m.group(2) else None))
    for m in _LOOKUP.finditer(text):
        host = m.group(1).rstrip(".").lower()
        if "." in host or "-" in host:
            found.append((host, None))
    return found


def looks_like_database(name: str) -> bool:
    return bool(_DB_HINT.search(name))
