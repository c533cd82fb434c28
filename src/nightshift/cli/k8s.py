"""``nightshift k8s render|apply|drift``: governance compiled to Kubernetes objects.

Agent identities come from the control plane's database (the registry), or
from a YAML/JSON file of identities (``--agents``) for GitOps pipelines that
render without database access.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from nightshift.cli.client import fail
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.agents import AgentIdentity, Boundaries, Principal
from nightshift.domain.safe_yaml import safe_load
from nightshift.domain.vocabulary import PrincipalKind, TrustPhase

out = Console(stderr=True)
k8s_app = typer.Typer(
    help="Governance as native Kubernetes objects (RBAC, admission policies).",
    no_args_is_help=True,
)

AgentsOpt = Annotated[
    Path | None,
    typer.Option("--agents", help="YAML/JSON list of agent identities instead of the database"),
]
NamespaceOpt = Annotated[
    str, typer.Option("--namespace", help="namespace the agent workers run in")
]
KubeconfigOpt = Annotated[
    str | None, typer.Option("--kubeconfig", help="kubeconfig (default: in-cluster, then ~/.kube)")
]
ContextOpt = Annotated[str | None, typer.Option("--context", help="kubeconfig context")]


def register(app: typer.Typer) -> None:
    app.add_typer(k8s_app, name="k8s")


def _identities(agents_file: Path | None) -> list[AgentIdentity]:
    if agents_file is not None:
        try:
            raw: Any = safe_load(agents_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            fail(f"cannot read {agents_file}: {exc}", code=2)
        items = raw.get("agents", []) if isinstance(raw, dict) else raw
        try:
            return [identity_from(item) for item in items or []]
        except (KeyError, TypeError, ValueError) as exc:
            fail(f"invalid agent identity in {agents_file}: {exc}", code=2)
    from nightshift.cli.admin import _container

    return [
        AgentIdentity(
            name=v.name,
            owner=Principal(
                v.owner,
                v.owner,
                PrincipalKind.HUMAN,
                contact=v.owner_contact,
                active=v.owner_active,
            ),
            authority_class=v.authority_class,
            phase=v.trust_phase,
            boundaries=Boundaries.from_dict(v.boundaries),
        )
        for v in _container().agents.list()
    ]


def _objects(agents_file: Path | None, namespace: str) -> list[dict[str, Any]]:
    from nightshift.k8s.manifests import RenderConfig, render_all

    return render_all(
        _identities(agents_file), load_action_catalog(), RenderConfig(agents_namespace=namespace)
    )


def _render_values(
    agents: Path | None, namespace: str, environment: str | None, phase: TrustPhase | None
) -> None:
    from nightshift.k8s.helm_values import agents_values, phase_values
    from nightshift.k8s.manifests import RenderConfig

    cfg = RenderConfig(agents_namespace=namespace)
    identities = _identities(agents)
    if phase is None:
        doc = agents_values(identities, load_action_catalog(), cfg)
    else:
        try:
            doc = phase_values(environment or "dev", phase, identities, load_action_catalog(), cfg)
        except ValueError as exc:
            fail(str(exc), code=2)
    sys.stdout.write(yaml.safe_dump(doc, sort_keys=False))


def _api(kubeconfig: str | None, context: str | None) -> Any:
    from nightshift.k8s.client import KubeApi, load_access

    try:
        return KubeApi(load_access(kubeconfig, context))
    except Exception as exc:
        fail(f"cannot load Kubernetes credentials: {exc}", code=2)


@k8s_app.command("render")
def render(
    agents: AgentsOpt = None,
    namespace: NamespaceOpt = "nightshift-agents",
    output: Annotated[str, typer.Option("-o", "--output", help="yaml | json")] = "yaml",
    values: Annotated[
        bool,
        typer.Option(
            "--values", help="print a Helm values fragment the chart emits verbatim", metavar=""
        ),
    ] = False,
    environment: Annotated[
        str | None,
        typer.Option(help="with --values and --phase: a whole reviewed values file"),
    ] = None,
    phase: Annotated[
        TrustPhase | None, typer.Option(help="with --values: every agent at this phase")
    ] = None,
) -> None:
    """Print ServiceAccounts, RBAC, NetworkPolicies and admission policies for every agent."""
    if values:
        _render_values(agents, namespace, environment, phase)
        return
    objects = _objects(agents, namespace)
    if output == "json":
        sys.stdout.write(
            json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2) + "\n"
        )
        return
    sys.stdout.write(yaml.safe_dump_all(objects, sort_keys=False))


@k8s_app.command("apply")
def apply(
    agents: AgentsOpt = None,
    namespace: NamespaceOpt = "nightshift-agents",
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="server-side dry run", metavar="")
    ] = False,
) -> None:
    """Server-side apply (field manager `nightshift`) of everything `render` prints."""
    from nightshift.k8s.apply import apply_objects

    results = apply_objects(_api(kubeconfig, context), _objects(agents, namespace), dry_run=dry_run)
    for r in results:
        typer.echo(str(r))
    if any(r.error for r in results):
        raise typer.Exit(1)


@k8s_app.command("drift")
def drift(
    agents: AgentsOpt = None,
    namespace: NamespaceOpt = "nightshift-agents",
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    fix: Annotated[bool, typer.Option("--fix", help="revert what was widened", metavar="")] = False,
    git: Annotated[
        Path | None,
        typer.Option(
            "--git",
            help="also compare the objects this GitOps working copy declares with the cluster, "
            "naming who changed each field",
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            help="with --git: the environment whose values-<env>-<phase>.yaml declare each "
            "agent's phase (default: NIGHTSHIFT_ENVIRONMENT)",
        ),
    ] = None,
    values_dir: Annotated[
        Path | None,
        typer.Option(help="with --git: where those values files live, relative to it (found)"),
    ] = None,
) -> None:
    """Compare live RBAC and effective permissions with the registry (and, with --git,
    the cluster with Git: declared objects, and the phase each agent is declared at);
    exit 1 on drift."""
    from nightshift.k8s.drift import check_drift
    from nightshift.k8s.manifests import RenderConfig

    api = _api(kubeconfig, context)
    report = check_drift(
        api,
        _identities(agents),
        load_action_catalog(),
        RenderConfig(agents_namespace=namespace),
        fix=fix,
    )
    for finding in report.findings:
        typer.echo(str(finding))
    for line in report.fixed:
        typer.echo(f"fixed: {line}")
    git_found = 0
    if git is not None:
        git_found = _git_drift(api, git, registry=agents is None)
        git_found += _phase_drift(api, git, namespace, env, values_dir)
    if not report.findings and not git_found:
        typer.echo("no drift")
        return
    if git_found or not fix:
        raise typer.Exit(1)


def _git_drift(api: Any, repo: Path, *, registry: bool) -> int:
    """Print every difference between Git and the cluster with its author; how many.
    With the registry (no --agents file), Nightshift's changes name their investigation."""
    from nightshift.gitops.controllers import synced_paths
    from nightshift.gitops.drift import git_drift
    from nightshift.gitops.working_copy import GitOpsRefused, WorkingCopy
    from nightshift.k8s.apply import KINDS
    from nightshift.k8s.client import KubeError, resource_path
    from nightshift.runtime.remediation.live_read import cluster_lister

    def live(key: Any) -> Any:
        plural, namespaced = KINDS.get(key.kind, ("", True))
        if not plural:
            return None
        version = f"{key.group}/v1" if key.group else "v1"
        try:
            return api.get(resource_path(version, plural, key.namespace if namespaced else None,
                                         key.name))  # fmt: skip
        except KubeError:
            return None

    synced = synced_paths(cluster_lister(api))
    lookup = _investigations() if registry else None
    try:
        found = git_drift(WorkingCopy(repo), live, lookup, synced=synced)
    except GitOpsRefused as exc:
        fail(f"cannot read {repo}: {exc}", code=2)
    for item in found:
        typer.echo(str(item))
    escalate = [d for d in found if d.needs_escalation]
    if escalate:
        typer.echo(
            f"{len(escalate)} change(s) by Nightshift are not in Git: commit them or undo "
            "them (docs/gitops.md)"
        )
    return len(found)


def _phase_drift(
    api: Any, repo: Path, namespace: str, env: str | None, values_dir: Path | None
) -> int:
    """Print every agent live at another phase than the values files declare; how many.
    A repository keeping no phase files for the environment declares no phases."""
    from nightshift.gitops.drift import phase_drift
    from nightshift.gitops.promotion import declared_phases, declares_phases, find_values_dir
    from nightshift.gitops.working_copy import GitOpsRefused
    from nightshift.k8s.live_phases import live_phases
    from nightshift.k8s.names import label_value
    from nightshift.settings import Settings

    environment = env or Settings().environment
    try:
        root = repo.resolve()
        directory = root / values_dir if values_dir else find_values_dir(root, environment)
        if not declares_phases(directory, environment):
            if values_dir is not None:
                fail(f"no values-{environment}-<phase>.yaml in {values_dir}", code=2)
            return 0
        declared = declared_phases(directory, environment)
    except GitOpsRefused as exc:
        fail(f"cannot read the phases {repo} declares: {exc}", code=2)
    # The cluster knows agents by their label (the name, made a valid label value).
    by_label = {label_value(agent): phase for agent, phase in declared.items()}
    found = phase_drift(by_label, live_phases(api, namespace), environment)
    for item in found:
        typer.echo(str(item))
    return len(found)


def _investigations() -> Any:
    """Executed proposals of the local control plane's database, newest first."""
    from nightshift.cli.admin import _container
    from nightshift.gitops.attribution import investigation_lookup
    from nightshift.services.changes import ChangeService
    from nightshift.services.concealment import UNCONCEALED

    container = _container()
    try:
        executed = container.proposals.list(UNCONCEALED, status="executed", limit=500)
        # built at once, while the database is open
        return investigation_lookup(executed, ChangeService(container.db).get)
    finally:
        container.close()
