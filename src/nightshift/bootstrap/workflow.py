"""The operator workflow (docs/workflow.md): escalations and their notifiers, the
phase service the gates read, proposals, approvals, execution, verdicts and shadow
reviews."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from nightshift.bootstrap.remediation import make_remediator
from nightshift.domain.actions import ActionCatalog
from nightshift.services.approvals import ApprovalService
from nightshift.services.audit import AuditService
from nightshift.services.changes import ChangeService
from nightshift.services.escalations import EscalationService
from nightshift.services.evidence import EvidenceService
from nightshift.services.execution import ExecutionService
from nightshift.services.kill_switch import KillSwitchService
from nightshift.services.phases import PhaseService
from nightshift.services.proposals import ProposalService, WorkflowPolicy
from nightshift.services.remediation_port import Remediator
from nightshift.services.reviews import ReviewService
from nightshift.services.verdicts import VerdictService
from nightshift.settings import Settings
from nightshift.sources.config import SourcesFile
from nightshift.store.database import Database

log = logging.getLogger(__name__)


def make_escalations(settings: Settings, db: Database, audit: AuditService) -> EscalationService:
    """Escalations, told to the on-call webhook when one is configured."""
    from nightshift.notifications.protocol import Notifier
    from nightshift.notifications.webhook import WebhookNotifier

    s = settings
    notifiers: list[Notifier] = []
    if s.notify_webhook_url:
        notifiers.append(
            WebhookNotifier(
                s.notify_webhook_url, timeout=s.notify_timeout_seconds, retries=s.notify_retries
            )
        )
    return EscalationService(
        db, audit, notifiers, oncall=s.oncall_contact, background=s.notify_async
    )


def make_phases(
    settings: Settings,
    db: Database,
    audit: AuditService,
    catalog: ActionCatalog,
    evidence: EvidenceService,
    escalations: EscalationService,
) -> PhaseService:
    """Trust phases, their gates read from ``evidence``; with a GitOps working copy,
    phase changes are committed there too."""
    s = settings
    if s.gitops_repo is None:
        return PhaseService(db, audit, evidence, escalations=escalations)
    from nightshift.gitops.vault_policy import layout_of
    from nightshift.runtime.demotion_git import GitDemotionRecorder
    from nightshift.runtime.promotion_git import GitPhaseProposals

    return PhaseService(
        db,
        audit,
        evidence,
        escalations=escalations,
        # An automatic demotion applies live at once and is then committed to Git, so
        # the next sync does not restore the permissions it took away.
        git=GitDemotionRecorder(
            s.gitops_repo, s.environment, catalog, s.gitops_values_dir, layout_of(s)
        ),
        # The console's promote button then commits on a review branch (no live change).
        proposals_git=GitPhaseProposals(
            s.gitops_repo, s.environment, catalog, s.gitops_values_dir, layout_of(s)
        ),
    )


@dataclass(frozen=True)
class Workflow:
    proposals: ProposalService
    approvals: ApprovalService
    execution: ExecutionService
    verdicts: VerdictService
    reviews: ReviewService


def make_workflow(
    settings: Settings,
    db: Database,
    audit: AuditService,
    catalog: ActionCatalog,
    sources: SourcesFile,
    escalations: EscalationService,
    kill_switch: KillSwitchService,
) -> Workflow:
    s = settings
    proposals = ProposalService(
        db,
        audit,
        escalations,
        catalog,
        WorkflowPolicy(timedelta(seconds=s.approval_ttl_seconds), s.approval_rate_per_hour),
        kill_switch=kill_switch.kill_switch,
    )
    # revert-change reads what a change replaced from the change feed.
    execution = ExecutionService(
        proposals, _fault_injected(s, make_remediator(s, sources, escalations, ChangeService(db)))
    )
    # The two need each other: an execution claims and settles its proposal through
    # the proposal service, and an approval starts the execution. The narrower side,
    # this one callback, is given once the execution exists.
    proposals.on_approved = execution.run
    return Workflow(
        proposals=proposals,
        approvals=ApprovalService(proposals),
        execution=execution,
        verdicts=VerdictService(db, audit),
        reviews=ReviewService(db, audit),
    )


def _fault_injected(settings: Settings, remediator: Remediator) -> Remediator:
    if not settings.test_crash_at:
        return remediator
    from nightshift.runtime.remediation.crash_point import CrashingRemediator

    log.warning(
        "NIGHTSHIFT_TEST_CRASH_AT=%s: this control plane will kill itself mid-execution "
        "(fault injection for tests)",
        settings.test_crash_at,
    )
    return CrashingRemediator(remediator, settings.test_crash_at)
