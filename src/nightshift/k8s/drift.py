"""RBAC drift: what the API server lets each agent do vs what the registry declares.

Two views, because either alone misses something. The *objects* view
compares our Roles/ClusterRoles with their rendered rules and finds foreign
bindings that name an agent's ServiceAccount. The *effective* view asks the
API server itself (SelfSubjectRulesReview as the impersonated ServiceAccount,
per namespace in its boundaries) and flags every verb it grants beyond the
declaration -- however it was granted. ``fix`` re-applies the rendered objects
(server-side apply with force takes our fields back) and removes the agent
from foreign bindings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import ALL_NAMESPACES, AgentIdentity
from nightshift.k8s.apply import apply_objects, object_path
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.k8s.jobs import MANAGED_BY
from nightshift.k8s.manifests import RenderConfig, render_agent, role_name
from nightshift.k8s.names import service_account_name
from nightshift.k8s.permissions import declared_grants

_RBAC = "rbac.authorization.k8s.io/v1"
# Granted to every authenticated identity by Kubernetes' own defaults; not drift.
_BASELINE_GROUPS = frozenset({"authorization.k8s.io", "authentication.k8s.io"})


@dataclass(frozen=True, slots=True)
class Finding:
    agent: str
    kind: str  # widened | narrowed | foreign-binding | missing | modified
    where: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.agent} {self.where}: {self.detail}"


@dataclass
class DriftReport:
    findings: list[Finding] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    @property
    def widened(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in ("widened", "foreign-binding")]

    def counts_by_kind(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))


class _GaugeChild(Protocol):
    def set(self, value: float) -> None: ...


class LabelledGauge(Protocol):
    def labels(self, *values: str, **kw: str) -> _GaugeChild: ...


def export_metric(report: DriftReport, gauge: LabelledGauge) -> None:
    """Feed ``nightshift_rbac_drift_findings{kind}`` (observability.metrics)."""
    counts = report.counts_by_kind()
    for kind in ("widened", "narrowed", "foreign-binding", "missing", "modified"):
        gauge.labels(kind=kind).set(counts.get(kind, 0))


def check_drift(
    admin: KubeApi,
    identities: Iterable[AgentIdentity],
    catalog: ActionCatalog,
    cfg: RenderConfig,
    *,
    fix: bool = False,
) -> DriftReport:
    report = DriftReport()
    for identity in sorted(identities, key=lambda a: a.name):
        before = len(report.findings)
        _check_objects(admin, identity, catalog, cfg, report)
        _check_effective(admin, identity, catalog, cfg, report)
        if fix and len(report.findings) > before:
            _fix(admin, identity, catalog, cfg, report)
    return report


def _check_objects(
    admin: KubeApi,
    identity: AgentIdentity,
    catalog: ActionCatalog,
    cfg: RenderConfig,
    report: DriftReport,
) -> None:
    for want in render_agent(identity, catalog, cfg):
        where = f"{want['kind']}/{want['metadata']['name']}"
        if want["metadata"].get("namespace"):
            where += f" -n {want['metadata']['namespace']}"
        try:
            live = admin.get(object_path(want))
        except KubeError as exc:
            if exc.status != 404:
                raise
            report.findings.append(Finding(identity.name, "missing", where, "not found"))
            continue
        if want["kind"] in ("Role", "ClusterRole"):
            extra = _grants(live.get("rules") or []) - _grants(want["rules"])
            lost = _grants(want["rules"]) - _grants(live.get("rules") or [])
            if extra:
                report.findings.append(
                    Finding(identity.name, "widened", where, "adds " + _fmt(extra))
                )
            if lost:
                report.findings.append(
                    Finding(identity.name, "narrowed", where, "lacks " + _fmt(lost))
                )
        elif want["kind"] in ("RoleBinding", "ClusterRoleBinding") and (
            live.get("subjects") != want["subjects"] or live.get("roleRef") != want["roleRef"]
        ):
            report.findings.append(
                Finding(identity.name, "modified", where, "subjects or roleRef changed")
            )
    for binding, where in _foreign_bindings(admin, identity, cfg):
        ref = binding["roleRef"]
        report.findings.append(
            Finding(identity.name, "foreign-binding", where, f"binds {ref['kind']}/{ref['name']}")
        )


def _check_effective(
    admin: KubeApi,
    identity: AgentIdentity,
    catalog: ActionCatalog,
    cfg: RenderConfig,
    report: DriftReport,
) -> None:
    sa = service_account_name(identity.name, identity.phase.value)
    as_agent = admin.impersonate_service_account(cfg.agents_namespace, sa)
    # A namespace's rules review also lists what ClusterRoleBindings grant (nodes included).
    declared = declared_grants(identity, catalog, cluster_scoped=False) | declared_grants(
        identity, catalog, cluster_scoped=True
    )
    for ns in _namespaces(identity, cfg):
        review = as_agent.create(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview",
                "spec": {"namespace": ns},
            },
        )
        effective: set[tuple[str, str, str]] = set()
        for rule in review.get("status", {}).get("resourceRules") or []:
            if rule.get("resourceNames"):
                continue  # narrowed to named objects; reported by the objects view
            effective |= _grants([rule])
        extra = {g for g in effective if g[0] not in _BASELINE_GROUPS and not _covered(g, declared)}
        if extra:
            report.findings.append(
                Finding(identity.name, "widened", f"effective -n {ns}", "can " + _fmt(extra))
            )


def _fix(
    admin: KubeApi,
    identity: AgentIdentity,
    catalog: ActionCatalog,
    cfg: RenderConfig,
    report: DriftReport,
) -> None:
    for result in apply_objects(admin, render_agent(identity, catalog, cfg), stop_on_error=False):
        if result.changed or result.error:
            report.fixed.append(f"re-applied {result}")
    sa = service_account_name(identity.name, identity.phase.value)
    for binding, where in _foreign_bindings(admin, identity, cfg):
        keep = [s for s in binding.get("subjects") or [] if not _is_agent(s, sa, cfg)]
        meta = binding["metadata"]
        path = resource_path(
            _RBAC,
            "rolebindings" if meta.get("namespace") else "clusterrolebindings",
            meta.get("namespace"),
            meta["name"],
        )
        if keep:
            admin.merge_patch(path, {"subjects": keep})
            report.fixed.append(f"removed {sa} from {where}")
        else:
            admin.delete(path)
            report.fixed.append(f"deleted {where} (it bound only {sa})")


def _foreign_bindings(
    admin: KubeApi, identity: AgentIdentity, cfg: RenderConfig
) -> list[tuple[dict[str, Any], str]]:
    """Bindings naming the agent's ServiceAccount that Nightshift did not render."""
    sa = service_account_name(identity.name, identity.phase.value)
    ours = role_name(identity)
    found = []
    listings = [(resource_path(_RBAC, "rolebindings", ns), ns) for ns in _namespaces(identity, cfg)]
    listings.append((resource_path(_RBAC, "clusterrolebindings"), ""))
    for path, ns in listings:
        for binding in admin.get(path).get("items", []):
            meta = binding["metadata"]
            managed = (meta.get("labels") or {}).get(MANAGED_BY) == "nightshift"
            if managed and meta["name"] == ours:
                continue
            if any(_is_agent(s, sa, cfg) for s in binding.get("subjects") or []):
                kind = "RoleBinding" if ns else "ClusterRoleBinding"
                found.append((binding, f"{kind}/{meta['name']}" + (f" -n {ns}" if ns else "")))
    return found


def _namespaces(identity: AgentIdentity, cfg: RenderConfig) -> list[str]:
    spaces = set(identity.boundaries.namespaces) - {ALL_NAMESPACES}
    spaces.add(cfg.agents_namespace)
    return sorted(spaces)


def _is_agent(subject: dict[str, Any], sa: str, cfg: RenderConfig) -> bool:
    return (
        subject.get("kind") == "ServiceAccount"
        and subject.get("name") == sa
        and subject.get("namespace") == cfg.agents_namespace
    )


def _grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for rule in rules:
        for group in rule.get("apiGroups") or [""]:
            for resource in rule.get("resources") or []:
                for verb in rule.get("verbs") or []:
                    out.add((group, resource, verb))
    return out


def _covered(grant: tuple[str, str, str], declared: set[tuple[str, str, str]]) -> bool:
    # A wildcard in the effective rules is wider than any declaration: never covered.
    return grant in declared


def _fmt(grants: set[tuple[str, str, str]]) -> str:
    return ", ".join(f"{v} {r}" + (f".{g}" if g else "") for g, r, v in sorted(grants))
