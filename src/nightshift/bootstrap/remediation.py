"""Where approved actions run: the simulated world, the cluster, and Git for the
objects Git declares (docs/gitops.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from nightshift.services.escalations import EscalationService
from nightshift.services.remediation_port import ChangeHistory, RemediationJob, Remediator
from nightshift.settings import Settings
from nightshift.sources.config import SourceKind, SourcesFile

if TYPE_CHECKING:
    from nightshift.k8s.client import KubeApi

log = logging.getLogger(__name__)


def make_remediator(
    settings: Settings,
    sources: SourcesFile,
    escalations: EscalationService | None = None,
    history: ChangeHistory | None = None,
) -> Remediator:
    """Approved actions run on the world the evidence came from: the simulated world
    for scenarios; the cluster, as the agent's phase ServiceAccount, when one is
    configured (``NIGHTSHIFT_REMEDIATOR``, or ``auto`` with a declared kubernetes source)."""
    from nightshift.runtime.remediation.routed import RoutedRemediator
    from nightshift.runtime.remediation.simulated import SimulatedRemediator

    by_kind: dict[SourceKind, Remediator] = {SourceKind.SIMULATED: SimulatedRemediator()}
    declared = any(src.kind is SourceKind.KUBERNETES for src in sources.sources)
    wanted = settings.remediator
    if wanted == "kubernetes" or (wanted == "auto" and declared):
        from nightshift.k8s.client import KubeApi, load_access
        from nightshift.runtime.remediation.kubernetes import KubernetesRemediator

        try:
            access = load_access(settings.k8s_kubeconfig or None, settings.k8s_context or None)
        except Exception as exc:
            why = (
                f"the control plane has no cluster access for remediation ({exc}); set "
                "NIGHTSHIFT_K8S_KUBECONFIG or run it in the cluster"
            )
            if wanted == "kubernetes":
                raise RuntimeError(why) from exc
            # auto: investigations still read the cluster; approved actions are refused
            # with a reason until the control plane can act there.
            log.warning("%s; cluster remediation is off", why)
            return RoutedRemediator(by_kind)
        admin = KubeApi(access)
        cluster: Remediator = KubernetesRemediator(
            admin, settings.k8s_namespace, lambda job: (job.agent, job.trust_phase), history
        )
        if settings.gitops_repo is not None:
            cluster = _gitops(settings, settings.gitops_repo, cluster, admin, escalations, history)
        by_kind[SourceKind.KUBERNETES] = cluster
    return RoutedRemediator(by_kind)


def _gitops(
    settings: Settings,
    repo: Path,
    cluster: Remediator,
    admin: KubeApi,
    escalations: EscalationService | None,
    history: ChangeHistory | None,
) -> Remediator:
    """Agents' changes to objects Git declares are committed too (docs/gitops.md); a
    live change Git could not record escalates: Git no longer describes production."""
    from nightshift.gitops.controllers import synced_paths
    from nightshift.gitops.modes import Mode, ModeTable
    from nightshift.gitops.record import GitRecorder
    from nightshift.gitops.working_copy import WorkingCopy
    from nightshift.runtime.remediation.gitops import GitOpsRemediator
    from nightshift.runtime.remediation.live_read import cluster_lister, live_reader

    modes = ModeTable(settings.environment, {k: Mode(v) for k, v in settings.gitops_modes.items()})

    def diverged(job: RemediationJob, why: str) -> None:
        if escalations is not None:
            escalations.open_for(
                job.investigation_id, kind="gitops_divergence", summary=why,
                proposal_id=job.proposal_id or None,
            )  # fmt: skip

    lister = cluster_lister(admin)
    recorder = GitRecorder(WorkingCopy(repo), lambda: synced_paths(lister))
    return GitOpsRemediator(cluster, recorder, modes, live_reader(admin), diverged, history)
