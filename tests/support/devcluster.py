"""`scripts/dev-cluster`: a real local cluster with a broken shop, for the README tour.

Starts the test control plane (etcd, kube-apiserver, controller-manager, scheduler,
KWOK with two nodes), stages two real problems (a crash loop after a ConfigMap
change; a Service whose selector matches no pod), installs the demo agent's
governance objects and mints its phase ServiceAccount token, then writes a sources
file and the token for `nightshift secrets set`. Runs until interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agents import Boundaries, Principal, register_agent
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.k8s.names import service_account_name
from tests.integration.k8s.cluster import ControlPlaneError, running_control_plane
from tests.support import shop

AGENTS_NS = "nightshift-agents"


def agent_token(
    admin: KubeApi,
    agent: str = "triage",
    phase: TrustPhase = TrustPhase.ASSIST,
    actions: frozenset[str] = frozenset(),
) -> str:
    """Install the agent's ServiceAccount and RBAC (reads, plus the writes ``actions``
    need from limited-remediation on); mint a token for it."""
    owner = Principal("demo-owner", "Demo owner", PrincipalKind.HUMAN, contact="demo@example.org")
    identity = register_agent(
        agent, owner, AuthorityClass.SUPERVISED, phase=phase,
        boundaries=Boundaries(
            namespaces=frozenset({"*"}), domains=frozenset(Domain), action_types=actions
        ),
    )  # fmt: skip
    cfg = RenderConfig(agents_namespace=AGENTS_NS)
    results = apply_objects(admin, render_all([identity], load_action_catalog(), cfg))
    failed = [str(r) for r in results if r.error]
    if failed:
        raise ControlPlaneError("could not install the agent's objects: " + "; ".join(failed))
    minted = admin.create(
        resource_path("v1", "serviceaccounts", AGENTS_NS, service_account_name(agent, phase.value),
                      "token"),
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
         "spec": {"expirationSeconds": 86400}},
    )  # fmt: skip
    return str(minted["status"]["token"])


def sources_yaml(server: str, ca_file: Path) -> str:
    return f"""version: 1
sources:
  - name: dev-cluster
    kind: kubernetes
    domain: kubernetes
    url: {server}
    settings: {{ca_file: "{ca_file}"}}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/dev-cluster", description=__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="where to keep its files")
    args = parser.parse_args(argv)
    workdir: Path = args.dir or Path(tempfile.mkdtemp(prefix="nightshift-dev-cluster-"))
    (workdir / "k8s").mkdir(parents=True, exist_ok=True)
    with running_control_plane(workdir / "k8s", nodes=2) as cp:
        admin = cp.admin()
        staged = [shop.stage_config_crash_loop(admin), shop.stage_selector_mismatch(admin)]
        token_file = workdir / "agent-token.json"
        token_file.write_text(json.dumps({"token": agent_token(admin)}))
        token_file.chmod(0o600)
        sources = workdir / "sources.yaml"
        sources.write_text(sources_yaml(cp.server, cp.workdir / "ca.crt"))
        print(f"cluster up: {cp.server} (admin kubeconfig: {cp.kubeconfig})")
        for case in staged:
            print(f"staged in namespace {case.namespace}: {case.question!r}")
        print("\nin another shell:")
        print(f"  nightshift secrets set kubernetes --from-file {token_file}")
        print(f"  NIGHTSHIFT_SOURCES_FILE={sources} nightshift up")
        for case in staged:
            print(f'  nightshift investigate --title "{case.question}" '
                  f"--namespace {case.namespace} --follow")  # fmt: skip
        print("\nCtrl-C stops the cluster.", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
