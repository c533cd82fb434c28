"""A real Kubernetes control plane on 127.0.0.1 for tests and the benchmark.

etcd 3.6 + kube-apiserver (RBAC and Node authorization, client-certificate
users, service-account signing keys, the flags controller-runtime's envtest
uses, its watch cache on as in production) + kube-controller-manager (the real
Job, garbage-collector and TTL controllers) + kube-scheduler + KWOK (fake
nodes; drives pods through their lifecycle by the stages in kwok-stages.yaml).
Binaries come from ``scripts/k8s-test-env`` and ``scripts/etcd-test-env``,
which build them on first use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from nightshift.k8s.client import ClusterAccess, KubeApi, KubeError, resource_path

REPO = Path(__file__).resolve().parents[3]
STAGES = Path(__file__).with_name("kwok-stages.yaml")
K8S_VERSION = os.environ.get("K8S_VERSION", "1.36.3")
ETCD_VERSION = os.environ.get("ETCD_VERSION", "v3.6.16")
SERVICE_CIDR = "10.0.0.0/24"
# Pods here serve fixed logs through KWOK's kubelet endpoint.
LOGS_NAMESPACES = ("shop", "nightshift-agents")


class ControlPlaneError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binaries(build: bool = True) -> Path:
    """The cached bin dir; runs scripts/k8s-test-env (a long first build) when missing."""
    cache = Path(os.environ.get("NIGHTSHIFT_K8S_CACHE", Path.home() / ".cache/nightshift/k8s"))
    bin_dir = cache / K8S_VERSION / "bin"
    needed = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
    if all((bin_dir / b).exists() for b in needed):
        return bin_dir
    if not build:
        raise ControlPlaneError(f"Kubernetes binaries missing in {bin_dir}")
    out = subprocess.run(
        [str(REPO / "scripts/k8s-test-env")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "K8S_VERSION": K8S_VERSION},
    )
    if out.returncode != 0:
        raise ControlPlaneError(f"scripts/k8s-test-env failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def etcd_binary(build: bool = True) -> Path:
    """The etcd server: NIGHTSHIFT_TEST_ETCD (scripts/test exports it), else the cached build,
    else scripts/etcd-test-env builds it (about a minute). Never an etcd found on PATH: the
    watch cache needs 3.6, and an older one would pass for it until watches stall."""
    named = os.environ.get("NIGHTSHIFT_TEST_ETCD")
    if named:
        if not os.access(named, os.X_OK):
            raise ControlPlaneError(f"NIGHTSHIFT_TEST_ETCD={named} is not an executable")
        return Path(named)
    cache = Path(os.environ.get("NIGHTSHIFT_ETCD_CACHE", Path.home() / ".cache/nightshift/etcd"))
    cached = cache / ETCD_VERSION / "bin/etcd"
    if cached.exists():
        return cached
    if not build:
        raise ControlPlaneError(f"etcd {ETCD_VERSION} not built in {cached}")
    out = subprocess.run(
        [str(REPO / "scripts/etcd-test-env")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ETCD_VERSION": ETCD_VERSION},
    )
    if out.returncode != 0:
        raise ControlPlaneError(f"scripts/etcd-test-env failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


# -- certificates ----------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )


def _cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
    client: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not ca:
        usage = (
            x509.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.ExtendedKeyUsageOID.SERVER_AUTH
        )
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def make_pki(d: Path) -> None:
    ca_key = _key()
    ca_name = _name("nightshift-test-ca")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    (d / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_key(d / "ca.key", ca_key)
    server_key = _key()
    sans: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.DNSName("kubernetes.default.svc"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
    ]
    server = _cert(_name("kube-apiserver"), server_key, ca_name, ca_key, sans=sans)
    (d / "apiserver.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(d / "apiserver.key", server_key)
    admin_key = _key()
    admin = _cert(_name("admin", "system:masters"), admin_key, ca_name, ca_key, client=True)
    (d / "admin.crt").write_bytes(admin.public_bytes(serialization.Encoding.PEM))
    _write_key(d / "admin.key", admin_key)
    sa_key = _key()
    _write_key(d / "sa.key", sa_key)
    (d / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


# -- processes -------------------------------------------------------------------------


@dataclass
class ControlPlane:
    workdir: Path
    bin_dir: Path
    port: int = 0
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started_in: dict[str, float] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    def access(self) -> ClusterAccess:
        d = self.workdir
        return ClusterAccess(
            self.server, str(d / "ca.crt"), str(d / "admin.crt"), str(d / "admin.key")
        )

    def admin(self) -> KubeApi:
        return KubeApi(self.access())

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        self.procs[name] = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait(self, name: str, ready: Callable[[], bool], timeout: float) -> None:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise ControlPlaneError(f"{name} exited ({proc.returncode}):\n{self.log(name)}")
            with contextlib.suppress(Exception):
                if ready():
                    self.started_in[name] = round(time.monotonic() - start, 2)
                    return
            time.sleep(0.1)
        raise ControlPlaneError(f"{name} not ready after {timeout}s:\n{self.log(name)}")

    def start(self) -> ControlPlane:
        d, b = self.workdir, self.bin_dir
        make_pki(d)
        etcd_port, peer_port = free_port(), free_port()
        self._spawn(
            "etcd",
            [
                str(etcd_binary()),
                "--data-dir",
                str(d / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd_port}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd_port}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer_port}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer_port}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
                "--quota-backend-bytes",
                str(4 * 1024**3),
            ],
        )
        self._wait("etcd", lambda: _tcp_open(etcd_port), 30)
        self.port = free_port()
        self._spawn(
            "kube-apiserver",
            [
                str(b / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                f"--secure-port={self.port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--tls-cert-file={d / 'apiserver.crt'}",
                f"--tls-private-key-file={d / 'apiserver.key'}",
                f"--client-ca-file={d / 'ca.crt'}",
                "--authorization-mode=Node,RBAC",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={d / 'sa.pub'}",
                f"--service-account-signing-key-file={d / 'sa.key'}",
                "--allow-privileged=true",
                "--disable-admission-plugins=DefaultStorageClass",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                "--event-ttl=1h",
                f"--cert-dir={d / 'certs'}",
                # Pod logs are proxied to KWOK's kubelet endpoint on 127.0.0.1.
                "--kubelet-preferred-address-types=InternalIP",
                f"--kubelet-client-certificate={d / 'admin.crt'}",
                f"--kubelet-client-key={d / 'admin.key'}",
            ],
        )
        api = self.admin()
        self._wait("kube-apiserver", lambda: api.get_text("/readyz") == "ok", 90)
        self._write_kubeconfig()
        kc = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                str(b / "kube-controller-manager"),
                f"--kubeconfig={kc}",
                f"--service-account-private-key-file={d / 'sa.key'}",
                f"--root-ca-file={d / 'ca.crt'}",
                "--leader-elect=false",
                "--secure-port=0",
                "--use-service-account-credentials=false",
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
                "--concurrent-job-syncs=20",
                "--concurrent-gc-syncs=20",
                "--concurrent-ttl-after-finished-syncs=10",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(b / "kube-scheduler"),
                f"--kubeconfig={kc}",
                "--leader-elect=false",
                "--secure-port=0",
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
            ],
        )
        kubelet_port = free_port()
        self._spawn(
            "kwok",
            [
                str(b / "kwok"),
                f"--kubeconfig={kc}",
                f"--config={self._kwok_config()}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                # Renew each fake node's Lease, as a kubelet does: without a heartbeat the node
                # lifecycle controller marks the nodes NotReady 50 s into the run, and KWOK's
                # re-initialization then wipes their addresses (pod logs fail with "no
                # preferred addresses").
                "--node-lease-duration-seconds=40",
                "--cidr=10.64.0.1/16",
                "--node-ip=127.0.0.1",
                f"--node-port={kubelet_port}",
                f"--server-address=127.0.0.1:{kubelet_port}",
                f"--tls-cert-file={d / 'apiserver.crt'}",
                f"--tls-private-key-file={d / 'apiserver.key'}",
            ],
        )
        for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
            self._wait(name, lambda: True, 1)
        self._wait("kube-controller-manager", lambda: _default_sa_exists(api), 60)
        return self

    def add_nodes(self, count: int) -> list[str]:
        api = self.admin()
        names = []
        for i in range(count):
            name = f"kwok-node-{i}"
            body = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {
                        "kwok.x-k8s.io/node": "fake",
                        "node.alpha.kubernetes.io/ttl": "0",
                    },
                    "labels": {"type": "kwok", "kubernetes.io/hostname": name},
                },
            }
            try:
                api.create("/api/v1/nodes", body)
            except KubeError as exc:
                if exc.status != 409:
                    raise
            names.append(name)
        for name in names:
            self._wait("kwok", lambda n=name: _node_ready(api, n), 60)
        return names

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for log in self._logs:
            log.close()

    def apiserver_rss_mb(self) -> float:
        status = Path(f"/proc/{self.procs['kube-apiserver'].pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _kwok_config(self) -> Path:
        """The stages plus ClusterLogs: every pod in LOGS_NAMESPACES 'logs' these files."""
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        (logs / "current.log").write_text(
            "2026-11-22T02:00:00.000000000Z stdout F starting checkout\n"
            "2026-11-22T02:00:01.000000000Z stderr F ERROR connection pool exhausted\n"
        )
        (logs / "previous.log").write_text(
            "2026-11-22T01:59:00.000000000Z stderr F panic: out of memory\n"
        )
        config = self.workdir / "kwok.yaml"
        config.write_text(
            STAGES.read_text()
            + f"""---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: test-logs
spec:
  selector:
    matchNamespaces: [{", ".join(LOGS_NAMESPACES)}]
  logs:
  - logsFile: {logs / "current.log"}
    previousLogsFile: {logs / "previous.log"}
"""
        )
        return config

    def _write_kubeconfig(self) -> None:
        d = self.workdir
        self.kubeconfig.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{self.server}", certificate-authority: "{d / "ca.crt"}"}}
users:
- name: admin
  user: {{client-certificate: "{d / "admin.crt"}", client-key: "{d / "admin.key"}"}}
contexts:
- name: test
  context: {{cluster: test, user: admin}}
current-context: test
"""
        )


def _tcp_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _default_sa_exists(api: KubeApi) -> bool:
    api.get(resource_path("v1", "serviceaccounts", "default", "default"))
    return True


def _node_ready(api: KubeApi, name: str) -> bool:
    node = api.get(resource_path("v1", "nodes", None, name))
    conds = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions") or []}
    return conds.get("Ready") == "True"


@contextlib.contextmanager
def running_control_plane(workdir: Path, nodes: int = 2) -> Iterator[ControlPlane]:
    cp = ControlPlane(workdir, binaries())
    try:
        cp.start()
        cp.add_nodes(nodes)
        yield cp
    finally:
        cp.stop()
