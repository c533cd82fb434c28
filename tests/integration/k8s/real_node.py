"""One real node beside the KWOK nodes of the test control plane (cluster.py).

kubelet (built from the control plane's own Kubernetes module by
``scripts/kubelet-test-env``) + containerd and runc (Debian packages) + the
Debian CNI plugins (a bridge network). Everything lives under the test's work
directory: containerd's root, state and socket, the kubelet's root and pod logs,
the CNI configuration and its IP allocations. Outside it are only paths the
daemons hard-code: /var/lib/kubelet/device-plugins, /run/containerd/{runc,s}
(the shims' defaults), the ``kubepods`` cgroups, and the bridge (deleted at the
end). No registry is reachable, so the
images (the pause sandbox and Nightshift's own OCI archive) are imported into
containerd before the kubelet starts, and pods must not pull.

What this machine needs, and why, is in docs/kubernetes.md ("One real node").
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from nightshift.k8s.client import KubeApi, KubeError, resource_path
from tests.integration.k8s.cluster import (
    K8S_VERSION,
    REPO,
    ControlPlane,
    _cert,
    _key,
    _name,
    _node_ready,
    _write_key,
    free_port,
)

NODE = "real-node"
NODE_LABEL = ("nightshift.io/test-node", "real")
IMAGE = "nightshift.local/nightshift"
CNI_DIRS = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))
BRIDGE = "nsrealnode0"
POD_SUBNET = "10.213.0.0/24"


class RealNodeError(RuntimeError):
    pass


def kubelet_binaries() -> Path:
    """The bin dir holding kubelet (and ../images/pause.oci.tar); builds them when missing."""
    out = subprocess.run(
        [str(REPO / "scripts/kubelet-test-env")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "K8S_VERSION": K8S_VERSION},
    )
    if out.returncode != 0:
        raise RealNodeError(f"scripts/kubelet-test-env failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def host_ip() -> str:
    """The address other hosts (and pods, through the bridge) reach this one at.

    The kubelet refuses a loopback node IP, and a pod's 127.0.0.1 is its own.
    Connecting a UDP socket sends nothing; it only picks the source address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))
        except OSError as exc:
            raise RealNodeError(f"no routable address on this host: {exc}") from exc
        ip = str(s.getsockname()[0])
    if ip.startswith("127."):
        raise RealNodeError("this host has only a loopback address")
    return ip


def missing_requirements() -> list[str]:
    missing = [t for t in ("containerd", "ctr", "runc") if not shutil.which(t)]
    if not any((d / "bridge").exists() for d in CNI_DIRS):
        missing.append("containernetworking-plugins")
    if os.geteuid() != 0:
        missing.append("root (the kubelet and containerd manage mounts and cgroups)")
    return missing


@dataclass
class RealNode:
    workdir: Path
    plane: ControlPlane
    bin_dir: Path
    ip: str = field(default_factory=host_ip)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started_in: dict[str, float] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.workdir / "containerd" / "containerd.sock"

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start(self, image_archive: Path) -> RealNode:
        missing = missing_requirements()
        if missing:
            raise RealNodeError(f"missing {', '.join(missing)} (scripts/setup-dev installs them)")
        self._start_containerd()
        self.import_image(self.bin_dir.parent / "images/pause.oci.tar", "registry.k8s.io/pause")
        self.import_image(image_archive, IMAGE)
        self._start_kubelet()
        return self

    def ctr(self, *args: str) -> str:
        out = subprocess.run(
            ["ctr", "--address", str(self.socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if out.returncode != 0:
            raise RealNodeError(f"ctr {' '.join(args)} failed: {out.stderr[-2000:]}")
        return out.stdout

    def import_image(self, archive: Path, name: str) -> None:
        """An OCI archive's tags become ``name:<tag>`` in the kubelet's image store."""
        self.ctr("images", "import", "--base-name", name, str(archive))

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        self.procs[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=self.workdir,
        )  # fmt: skip

    def _wait(self, name: str, ready: Callable[[], bool], timeout: float) -> None:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RealNodeError(f"{name} exited ({proc.returncode}):\n{self.log(name)}")
            with contextlib.suppress(Exception):
                if ready():
                    self.started_in[name] = round(time.monotonic() - start, 2)
                    return
            time.sleep(0.1)
        raise RealNodeError(f"{name} not ready after {timeout}s:\n{self.log(name)}")

    def _start_containerd(self) -> None:
        d = self.workdir / "containerd"
        cni = self.workdir / "cni"
        (cni / "net.d").mkdir(parents=True, exist_ok=True)
        bin_dir = next(str(p) for p in CNI_DIRS if (p / "bridge").exists())
        (cni / "net.d/10-nightshift-test.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "1.0.0",
                    "name": "nightshift-test",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": BRIDGE,
                            "isGateway": True,
                            # Pods reach this host's address through the bridge; nothing
                            # leaves the machine, so no masquerading (and no iptables).
                            "ipMasq": False,
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": POD_SUBNET}]],
                                "routes": [{"dst": "0.0.0.0/0"}],
                                "dataDir": str(cni / "ipam"),
                            },
                        },
                        {"type": "loopback"},
                    ],
                }
            )
        )
        d.mkdir(parents=True, exist_ok=True)
        config = d / "config.toml"
        config.write_text(
            f"""version = 2
root = "{d / "root"}"
state = "{d / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.socket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # This machine's root lacks CAP_SYS_RESOURCE: a pod may not get an oom_score_adj
  # below containerd's own (runc's init otherwise dies writing it: "can't get final
  # child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{bin_dir}"
    conf_dir = "{cni / "net.d"}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
"""
        )
        self._spawn("containerd", ["containerd", "--config", str(config)])
        self._wait("containerd", self.socket.exists, 30)

    def _start_kubelet(self) -> None:
        d, cp = self.workdir, self.plane.workdir
        ca_key = serialization.load_pem_private_key((cp / "ca.key").read_bytes(), None)
        assert isinstance(ca_key, rsa.RSAPrivateKey)
        ca = x509.load_pem_x509_certificate((cp / "ca.crt").read_bytes())
        # The Node authorizer knows a kubelet by this identity (no TLS bootstrap).
        key = _key()
        cert = _cert(_name(f"system:node:{NODE}", "system:nodes"), key, ca.subject, ca_key,
                     client=True)  # fmt: skip
        (d / "node.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(d / "node.key", key)
        (d / "node.kubeconfig").write_text(
            f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{self.plane.server}", certificate-authority: "{cp / "ca.crt"}"}}
users:
- name: node
  user: {{client-certificate: "{d / "node.crt"}", client-key: "{d / "node.key"}"}}
contexts:
- name: test
  context: {{cluster: test, user: node}}
current-context: test
"""
        )
        (d / "kubelet.yaml").write_text(
            f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The hosts are cgroup v1 (hybrid) with no systemd as init, and have no swap policy.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://{self.socket}
address: {self.ip}
port: {free_port()}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: {free_port()}
# The API server reaches the kubelet (pod logs) with the admin client certificate.
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: false}}
  x509: {{clientCAFile: {cp / "ca.crt"}}}
authorization: {{mode: AlwaysAllow}}
podLogsDir: {d / "pod-logs"}
resolvConf: /etc/resolv.conf
# No image garbage collection or disk eviction on a shared CI disk.
imageGCHighThresholdPercent: 100
evictionHard: {{}}
"""
        )
        self._spawn(
            "kubelet",
            [
                str(self.bin_dir / "kubelet"),
                f"--config={d / 'kubelet.yaml'}",
                f"--kubeconfig={d / 'node.kubeconfig'}",
                f"--root-dir={d / 'kubelet'}",
                f"--cert-dir={d / 'kubelet-pki'}",
                f"--hostname-override={NODE}",
                f"--node-ip={self.ip}",
                f"--node-labels={NODE_LABEL[0]}={NODE_LABEL[1]}",
            ],
        )
        api = self.plane.admin()
        self._wait("kubelet", lambda: _node_ready(api, NODE), 90)

    def stop(self) -> None:
        """Pods first (the kubelet tears their sandboxes down), then the daemons, then
        whatever a killed daemon leaves: its shims, mounts and the bridge."""
        api = self.plane.admin()
        if self.procs.get("kubelet") and self.procs["kubelet"].poll() is None:
            with contextlib.suppress(KubeError):
                for pod in _pods_on_node(api):
                    meta = pod["metadata"]
                    with contextlib.suppress(KubeError):
                        api.delete(resource_path("v1", "pods", meta["namespace"], meta["name"]))
                deadline = time.monotonic() + 30
                while _pods_on_node(api) and time.monotonic() < deadline:
                    time.sleep(0.2)
        for name in ("kubelet", "containerd"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._kill_shims()
        self._unmount()
        subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)
        for log in self._logs:
            log.close()

    def _kill_shims(self) -> None:
        """The runc shims containerd started for this node (they outlive it by design)."""
        marker = str(self.socket).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"containerd-shim" in cmdline and marker in cmdline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(entry.name), signal.SIGKILL)

    def _unmount(self) -> None:
        root = str(self.workdir)
        mounts = [
            line.split()[1]
            for line in Path("/proc/self/mounts").read_text().splitlines()
            if line.split()[1].startswith(root)
        ]
        for target in reversed(mounts):
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)


def _pods_on_node(api: KubeApi) -> list[dict[str, Any]]:
    items = api.get("/api/v1/pods", {"fieldSelector": f"spec.nodeName={NODE}"}).get("items", [])
    return list(items)


@contextlib.contextmanager
def running_real_node(
    workdir: Path, plane: ControlPlane, image_archive: Path
) -> Iterator[RealNode]:
    workdir.mkdir(parents=True, exist_ok=True)
    node = RealNode(workdir, plane, kubelet_binaries())
    try:
        node.start(image_archive)
        yield node
    finally:
        node.stop()
