"""The real Kueue manager (built by scripts/kueue-test-env) against the test API server.

As Kueue's own envtest-based integration tests do, there is no cluster network: the
manager runs on the host, and the API server reaches its webhooks (admission for Jobs and
Kueue objects, CRD conversion between v1beta1 and v1beta2) at https://127.0.0.1:<port>
with a certificate this harness signs. Kueue's internal certificate management is off
(it would mint certificates for an in-cluster Service name the host cannot resolve).

Why a chroot: with internal certificates off, the manager reads its metrics and visibility
server certificates from fixed absolute paths (/etc/kueue/metrics/certs, /visibility). The
binary is static, so it runs in a private root holding just those files, its config and
a self-contained kubeconfig, and nothing is written to the host's /etc.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from nightshift.k8s.client import ClusterAccess, KubeApi, KubeError
from tests.integration.k8s.cluster import (
    REPO,
    ControlPlane,
    ControlPlaneError,
    _cert,
    _key,
    _name,
    _write_key,
    free_port,
)

KUEUE_VERSION = os.environ.get("KUEUE_VERSION", "v0.17.0")
KUEUE_NAMESPACE = "kueue-system"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
_ADMISSION = "/apis/admissionregistration.k8s.io/v1"
# Only the webhooks of the kinds in use: the others' handlers are not served when their
# integration is off, and a Fail policy on them would block those kinds cluster-wide.
_WEBHOOK_PATHS = ("kueue-x-k8s-io", "batch-v1-job")


def kueue_dir(build: bool = True) -> Path:
    """The cached version dir (bin/kueue, crd/, webhook.yaml); builds on first use."""
    cache = Path(os.environ.get("NIGHTSHIFT_KUEUE_CACHE", Path.home() / ".cache/nightshift/kueue"))
    d = cache / KUEUE_VERSION
    if (d / "bin/kueue").exists() and (d / "crd").is_dir() and (d / "webhook.yaml").exists():
        return d
    if not build:
        raise ControlPlaneError(f"Kueue {KUEUE_VERSION} not built in {d}")
    out = subprocess.run(
        [str(REPO / "scripts/kueue-test-env")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUEUE_VERSION": KUEUE_VERSION},
    )
    if out.returncode != 0:
        raise ControlPlaneError(f"scripts/kueue-test-env failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class KueueManager:
    cp: ControlPlane
    version_dir: Path
    root: Path
    webhook_port: int = field(default_factory=free_port)
    visibility_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    _ca_pem: bytes = b""

    @property
    def log_path(self) -> Path:
        return self.root.parent / "kueue.log"

    def log(self) -> str:
        p = self.log_path
        return p.read_text(errors="replace")[-6000:] if p.exists() else ""

    def visibility(self) -> KubeApi:
        """A client for Kueue's visibility API. In a cluster the API server aggregates it;
        here it is reached directly (the same paths), authenticated by the admin's client
        certificate, which the visibility server checks against the API server."""
        a = self.cp.access()
        access = ClusterAccess(
            f"https://127.0.0.1:{self.visibility_port}",
            str(self.root / "ca.crt"),
            a.cert_file,
            a.key_file,
        )
        return KubeApi(access)

    # -- setup ----------------------------------------------------------------------

    def prepare(self) -> KueueManager:
        """Certificates, the private root, CRDs (with the conversion webhook) and namespace."""
        self._make_root()
        api = self.cp.admin()
        _ensure(api, "/api/v1/namespaces", {"metadata": {"name": KUEUE_NAMESPACE}})
        for path in sorted((self.version_dir / "crd").glob("*.yaml")):
            crd = yaml.safe_load(path.read_text())
            if len(crd["spec"]["versions"]) > 1:
                crd["spec"]["conversion"] = {
                    "strategy": "Webhook",
                    "webhook": {
                        "clientConfig": self._client_config("/convert"),
                        "conversionReviewVersions": ["v1"],
                    },
                }
            _ensure(api, CRDS, crd)
        for path in sorted((self.version_dir / "crd").glob("*.yaml")):
            name = yaml.safe_load(path.read_text())["metadata"]["name"]
            _wait(lambda n=name: _established(api, n), 30, f"CRD {name} not established")
        return self

    def start(self) -> KueueManager:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        argv = [
            "/kueue",
            "--config=/config.yaml",
            "--kubeconfig=/kubeconfig",
            f"--visibility-server-port={self.visibility_port}",
        ]
        # chroot needs root; elsewhere a user namespace mapped to root grants it.
        prefix = ["chroot"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user"]
        if os.geteuid() != 0:
            prefix.append("chroot")
        self.proc = subprocess.Popen(
            [*prefix, str(self.root), *argv],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait(self._ready, 90, "Kueue manager not ready", self)
        self._install_webhooks()
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- internals --------------------------------------------------------------------

    def _ready(self) -> bool:
        url = f"http://127.0.0.1:{self.health_port}/readyz"
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)

    def _client_config(self, path: str) -> dict[str, Any]:
        return {
            "url": f"https://127.0.0.1:{self.webhook_port}{path}",
            "caBundle": base64.b64encode(self._ca_pem).decode(),
        }

    def _install_webhooks(self) -> None:
        api = self.cp.admin()
        for doc in yaml.safe_load_all((self.version_dir / "webhook.yaml").read_text()):
            if not doc:
                continue
            hooks = []
            for hook in doc["webhooks"]:
                path = hook["clientConfig"]["service"]["path"]
                if any(p in path for p in _WEBHOOK_PATHS):
                    hook["clientConfig"] = self._client_config(path)
                    hooks.append(hook)
            doc["webhooks"] = hooks
            doc["metadata"] = {"name": f"kueue-{doc['metadata']['name']}"}
            plural = doc["kind"].lower() + "s"
            _ensure(api, f"{_ADMISSION}/{plural}", doc)

    def _make_root(self) -> None:
        r = self.root
        for sub in ("etc/kueue/metrics/certs", "visibility", "certs", "tmp"):
            (r / sub).mkdir(parents=True, exist_ok=True)
        ca_key = _key()
        ca_name = _name("kueue-test-ca")
        ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
        self._ca_pem = _pem(ca)
        (r / "ca.crt").write_bytes(self._ca_pem)
        key = _key()
        sans: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        serving = _pem(_cert(_name("kueue"), key, ca_name, ca_key, sans=sans))
        for sub in ("etc/kueue/metrics/certs", "visibility", "certs"):
            (r / sub / "tls.crt").write_bytes(serving)
            _write_key(r / sub / "tls.key", key)
        binary = self.version_dir / "bin/kueue"
        try:
            os.link(binary, r / "kueue")
        except OSError:  # another filesystem
            shutil.copy2(binary, r / "kueue")
        (r / "kubeconfig").write_text(self._kubeconfig())
        (r / "config.yaml").write_text(yaml.safe_dump(self._config()))

    def _kubeconfig(self) -> str:
        a = self.cp.access()

        def data(path: str | None) -> str:
            return base64.b64encode(Path(path or "").read_bytes()).decode()

        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "test",
                        "cluster": {
                            "server": a.server,
                            "certificate-authority-data": data(a.ca_file),
                        },
                    }
                ],
                "users": [
                    {
                        "name": "admin",
                        "user": {
                            "client-certificate-data": data(a.cert_file),
                            "client-key-data": data(a.key_file),
                        },
                    }
                ],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
                "current-context": "test",
            }
        )

    def _config(self) -> dict[str, Any]:
        return {
            "apiVersion": "config.kueue.x-k8s.io/v1beta2",
            "kind": "Configuration",
            "namespace": KUEUE_NAMESPACE,
            "health": {"healthProbeBindAddress": f"127.0.0.1:{self.health_port}"},
            "metrics": {"bindAddress": f"127.0.0.1:{self.metrics_port}"},
            "webhook": {"host": "127.0.0.1", "port": self.webhook_port, "certDir": "/certs"},
            "leaderElection": {"leaderElect": False},
            "internalCertManagement": {"enable": False},
            "manageJobsWithoutQueueName": False,
            "integrations": {"frameworks": ["batch/job"]},
            "visibilityServer": {"bindAddress": "127.0.0.1", "bindPort": self.visibility_port},
            "clientConnection": {"qps": 100, "burst": 200},
        }


def _ensure(api: KubeApi, collection: str, body: dict[str, Any]) -> None:
    try:
        api.create(collection, body)
    except KubeError as exc:
        if exc.status != 409:
            raise


def _established(api: KubeApi, name: str) -> bool:
    crd = api.get(f"{CRDS}/{name}")
    conds = {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions") or []}
    return conds.get("Established") == "True"


def _wait(check: Any, timeout: float, what: str, mgr: KueueManager | None = None) -> None:
    """Process readiness (a port opening, a CRD established): bounded re-checks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mgr is not None and mgr.proc is not None and mgr.proc.poll() is not None:
            raise ControlPlaneError(f"Kueue exited ({mgr.proc.returncode}):\n{mgr.log()}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise ControlPlaneError(f"{what} after {timeout}s" + (f":\n{mgr.log()}" if mgr else ""))
