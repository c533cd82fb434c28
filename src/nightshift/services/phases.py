"""Trust phases: history, promotion gates with sign-off, and automatic
demotion with the review hold that blocks re-promotion. The rules are the pure
functions in ``nightshift.governance``; this applies and audits them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.agents import (
    AgentConfigError,
    AgentIdentity,
)
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import PrincipalKind, Role, TrustPhase
from nightshift.governance.demotion import (
    Demotion,
    DemotionTrigger,
    ReviewHold,
    ReviewRefusedError,
    check_demotion,
    review_demotion,
)
from nightshift.governance.evidence import PhaseEvidence, tally
from nightshift.governance.gates import (
    PromotionRefusedError,
    PromotionReport,
    SignOff,
    authorize_promotion,
    evaluate_promotion,
)
from nightshift.observability.audit_chain import AuditEntry
from nightshift.services import review_queue
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Conflict, Forbidden, Invalid
from nightshift.services.escalations import EscalationService
from nightshift.services.identities import identity_of, load_agent, principal_of
from nightshift.services.ports import (
    AgentRecords,
    AppliedDemotion,
    DemotionGit,
    EvidenceSource,
    NoEvidence,
    PhaseProposalGit,
)
from nightshift.services.review_queue import ReviewKind
from nightshift.store.database import Database
from nightshift.store.tables import (
    AgentRow,
    PhaseChangeRow,
    SignOffRow,
    UserRow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PhaseChange:
    kind: str
    from_phase: str | None
    to_phase: str
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PhaseProposal:
    """An authorized phase change for a Git commit (``PhaseService.propose``)."""

    agent: str
    kind: str  # "promotion" | "demotion"
    from_phase: str
    to_phase: str
    environment: str
    gates: list[dict[str, Any]]  # each gate's value against its threshold (promotions)
    signoffs: list[dict[str, str]]  # {"name", "role"} of who signed (promotions)
    actor: str  # who asked for it
    audit_seq: int


def _demotion_due(
    agent: AgentRow, identity: AgentIdentity, records: AgentRecords, now: datetime
) -> Demotion | None:
    """The seed demotion rules on an agent's evidence. Evidence a demotion already
    acted on does not demote again (the reconciler runs this every few seconds);
    after a review, the window starts at the review."""
    hold = _hold(agent)
    since = (hold.reviewed_at or hold.demoted_at) if hold else None
    return check_demotion(
        identity,
        now=now,
        incidents=records.incidents,
        remediations=records.remediations,
        out_of_scope_actions=records.out_of_scope_actions,
        since=since,
    )


class PhaseService:
    def __init__(
        self,
        db: Database,
        audit: AuditService,
        evidence: EvidenceSource | None = None,
        *,
        escalations: EscalationService | None = None,
        git: DemotionGit | None = None,
        proposals_git: PhaseProposalGit | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self.evidence: EvidenceSource = evidence or NoEvidence()
        # With a GitOps working copy (bootstrap): an automatic demotion is committed
        # there too, and a commit Git refuses escalates through ``escalations``.
        self.git = git
        # With a GitOps working copy: the console's promotion is a commit on a review
        # branch there (``promote_in_git``), never a live change.
        self.proposals_git = proposals_git
        self.escalations = escalations

    # -- phases -------------------------------------------------------------

    def history(self, agent_name: str) -> list[PhaseChange]:
        with self._db.read() as s:
            agent, _ = load_agent(s, agent_name)
            rows = s.scalars(
                select(PhaseChangeRow)
                .where(PhaseChangeRow.agent_id == agent.id)
                .order_by(PhaseChangeRow.id)
            )
            return [
                PhaseChange(r.kind, r.from_phase, r.to_phase, r.actor, r.reason, r.at) for r in rows
            ]

    def gates(self, agent_name: str, target: TrustPhase | None = None) -> PromotionReport:
        with self._db.read() as s:
            agent, owner = load_agent(s, agent_name)
            identity = identity_of(agent, owner)
            hold = _hold(agent)
            signoffs = self._signoffs(s, agent, target or identity.phase.next())
        evidence = self._phase_evidence(identity, hold)
        return evaluate_promotion(identity, evidence, signoffs, hold=hold, target=target)

    def sign_off(self, agent_name: str, target: TrustPhase, role: Role, caller: Caller) -> None:
        if caller.user_id is None or not caller.has(role) or role not in caller.roles:
            raise Forbidden(f"signing as {role.value} requires holding the {role.value} role")
        if caller.name == agent_name:
            raise Forbidden("an agent cannot sign its own promotion")
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            if TrustPhase(agent.trust_phase).next() is not target:
                raise Invalid(
                    f"{agent_name} is in {agent.trust_phase}; sign-offs are for the next phase"
                    f" ({TrustPhase(agent.trust_phase).next() or 'none'})"
                )
            existing = s.scalar(
                select(SignOffRow).where(
                    SignOffRow.agent_id == agent.id,
                    SignOffRow.target_phase == target.value,
                    SignOffRow.user_id == caller.user_id,
                    SignOffRow.consumed_by == "",
                )
            )
            if existing is not None:
                raise Conflict(
                    f"{caller.name} already signed {agent_name}'s promotion to "
                    f"{target.value}; each role needs a different person"
                )
            s.add(
                SignOffRow(
                    id=new_id(),
                    agent_id=agent.id,
                    target_phase=target.value,
                    user_id=caller.user_id,
                    role=role.value,
                    consumed_by="",
                )
            )
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=f"sign off promotion as {role.value}",
                        request={"agent": agent_name, "target": target.value},
                    )
                ],
            )

    def promote(self, agent_name: str, target: TrustPhase, caller: Caller, reason: str) -> None:
        with self._db.transaction() as s:
            agent, owner = load_agent(s, agent_name, lock=True)
            identity = identity_of(agent, owner)
            hold = _hold(agent)
            signoffs = self._signoffs(s, agent, target)
            evidence = self._phase_evidence(identity, hold)
            try:
                promoted = authorize_promotion(identity, target, evidence, signoffs, hold=hold)
            except (PromotionRefusedError, AgentConfigError) as exc:
                raise Conflict(str(exc)) from exc
            change = self._change(
                s,
                agent,
                "promoted",
                promoted.phase,
                caller.name,
                reason,
                {"evidence": _evidence_dict(evidence)},
            )
            for row in s.scalars(
                select(SignOffRow).where(
                    SignOffRow.agent_id == agent.id,
                    SignOffRow.target_phase == target.value,
                    SignOffRow.consumed_by == "",
                )
            ):
                row.consumed_by = str(change.id)
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or "promotion",
                        decision="promoted",
                        request={
                            "agent": agent_name,
                            "from": identity.phase.value,
                            "to": target.value,
                            "signoffs": [x.principal.id for x in signoffs],
                        },
                    )
                ],
            )

    def propose(
        self,
        agent_name: str,
        target: TrustPhase,
        caller: Caller,
        reason: str,
        environment: str,
        declared: TrustPhase | None = None,
    ) -> PhaseProposal:
        """Authorize a phase change that a Git commit will carry, without applying it.

        A promotion passes the same gates and sign-offs as ``promote`` (refused
        otherwise); a demotion needs none. The phase here stays as it is, nor are
        sign-offs consumed: the reviewed commit is the change. The audit trail
        records the proposal, and its seq goes into the commit message. ``declared``
        (the phase Git declares) lets Git catch up with a demotion already applied
        live (the automatic one): target = current, declared above it."""
        with self._db.transaction() as s:
            agent, owner = load_agent(s, agent_name, lock=True)
            identity = identity_of(agent, owner)
            current = identity.phase
            if target is current and declared is not None and declared.rank > target.rank:
                current = declared  # Git records a demotion the control plane made
            elif target is current:
                raise Invalid(f"{agent_name} is already in {target.value}")
            kind = "promotion" if target.rank > current.rank else "demotion"
            gates: list[dict[str, Any]] = []
            signers: list[dict[str, str]] = []
            if kind == "promotion":
                hold = _hold(agent)
                signoffs = self._signoffs(s, agent, target)
                evidence = self._phase_evidence(identity, hold)
                try:
                    authorize_promotion(identity, target, evidence, signoffs, hold=hold)
                except (PromotionRefusedError, AgentConfigError) as exc:
                    raise Conflict(str(exc)) from exc
                report = evaluate_promotion(identity, evidence, signoffs, hold=hold, target=target)
                gates = [g.to_dict() for g in report.gates]
                signers = [{"name": x.principal.id, "role": x.role.value} for x in signoffs]
            (record,) = self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or kind,
                        decision=f"{kind}-proposed",
                        reason="git",
                        request={
                            "agent": agent_name,
                            "from": current.value,
                            "to": target.value,
                            "environment": environment,
                            "signoffs": [x["name"] for x in signers],
                        },
                    )
                ],
            )
        return PhaseProposal(
            agent_name, kind, current.value, target.value, environment, gates, signers,
            caller.name, record.seq,
        )  # fmt: skip

    def register_change(self, s: Session, agent: AgentRow, actor: str) -> None:
        """Phase history starts at registration."""
        self._change(s, agent, "registered", TrustPhase(agent.trust_phase), actor, "registered")

    def check_demotions(self, now: datetime | None = None) -> list[str]:
        """Apply the seed demotion rules to every agent; returns who was demoted."""
        now = now or datetime.now(UTC)
        demoted = []
        with self._db.read() as s:
            names = list(
                s.scalars(
                    select(AgentRow.name).where(AgentRow.trust_phase != TrustPhase.SHADOW.value)
                )
            )
        for name in names:
            # Judged first without the write lock: this runs every few seconds for
            # every agent, and almost always finds nothing, while an exclusive
            # transaction per agent each pass held off every worker's writes (on
            # SQLite, the whole database's). A demotion found is judged again
            # under the lock, against the agent as it is then. Only the window's
            # records are read: a busy agent's whole history grows without end.
            with self._db.read() as s:
                agent, owner = load_agent(s, name)
            seen = identity_of(agent, owner)
            window = timedelta(days=seen.thresholds.demotion.window_days)
            records = self.evidence.records(name, since=now - window)
            if _demotion_due(agent, seen, records, now) is None:
                continue
            with self._db.transaction() as s:
                agent, owner = load_agent(s, name, lock=True)
                identity = identity_of(agent, owner)
                found = _demotion_due(agent, identity, records, now)
                if found is None:
                    continue
                why = "; ".join(f.message for f in found.findings)
                self._change(
                    s,
                    agent,
                    "demoted",
                    found.to_phase,
                    "nightshift",
                    why,
                    {"findings": [f.trigger.value for f in found.findings]},
                )
                settings = dict(agent.settings or {})
                settings["review_hold"] = _hold_to(found.hold)
                agent.settings = settings
                review_queue.enqueue(
                    s,
                    ReviewKind.DEMOTION_REVIEW,
                    agent_id=agent.id,
                    summary=f"{name} demoted to {found.to_phase.value}: {why}",
                    payload={"findings": [f.trigger.value for f in found.findings]},
                )
                (record,) = self._audit.append_in(
                    s,
                    [
                        _system_entry(
                            intent=why,
                            request={
                                "agent": name,
                                "from": identity.phase.value,
                                "to": found.to_phase.value,
                            },
                            decision="demoted",
                            reason=",".join(f.trigger.value for f in found.findings),
                        )
                    ],
                )
                applied = AppliedDemotion(
                    name, identity.phase.value, found.to_phase.value, why, record.seq
                )
            demoted.append(name)
            # Only now, with the live demotion committed: Git can never undo or hold it.
            self._record_in_git(applied)
        return demoted

    def _record_in_git(self, demotion: AppliedDemotion) -> None:
        """Commit the demotion to the GitOps repository; when Git cannot take it,
        escalate: Git and the cluster disagree until someone reconciles them."""
        if self.git is None:
            return
        try:
            done = self.git.record_demotion(demotion)
        except Exception as exc:  # any failure: the next agents' demotions must still run
            log.warning("automatic demotion of %s not written to Git: %s", demotion.agent, exc)
            self._git_disagrees(demotion, str(exc) or type(exc).__name__)
            return
        if not done:
            return  # Git keeps no phases here: nothing to agree on
        with self._db.transaction() as s:
            self._audit.append_in(s, [_system_entry(
                intent=f"Git records the automatic demotion of {demotion.agent}",
                request={"agent": demotion.agent, "demotion_audit_seq": demotion.audit_seq},
                decision="demotion-committed", reason=done,
            )])  # fmt: skip

    def _git_disagrees(self, demotion: AppliedDemotion, why: str) -> None:
        summary = (
            f"Git and the cluster disagree: {demotion.agent} was demoted live from "
            f"{demotion.from_phase} to {demotion.to_phase} (audit record {demotion.audit_seq}) "
            f"but the GitOps commit was refused: {why}. Until Git declares "
            f"{demotion.to_phase}, the next sync would restore {demotion.from_phase}'s "
            "permissions; fix the working copy and run nightshift demote."
        )
        opened = None
        with self._db.transaction() as s:
            agent, _ = load_agent(s, demotion.agent)
            self._audit.append_in(s, [_system_entry(
                intent=summary,
                request={"agent": demotion.agent, "demotion_audit_seq": demotion.audit_seq},
                decision="demotion-git-refused", reason=why[:500],
            )])  # fmt: skip
            if self.escalations is not None:
                # system: the agent is demoted (maybe to shadow), but this is the
                # control plane's own state, which humans must see in every phase.
                opened = self.escalations.open_in(
                    s, agent, kind="gitops_divergence", summary=summary, system=True,
                    extra={"demotion": asdict(demotion), "git_error": why[:2000]},
                )  # fmt: skip
        if self.escalations is not None:
            self.escalations.deliver([opened])

    def promote_in_git(
        self, agent_name: str, target: TrustPhase, caller: Caller, reason: str
    ) -> str:
        """A promotion as a GitOps commit on a new branch, as ``nightshift promote``
        makes it: Git checked first (a refusal leaves no audit record of a change never
        written), then ``propose`` (gates, sign-offs, the audit record), then the commit.
        The phase here does not change. Returns the review branch; what the reviewer
        needs is read back from Git (``proposals_git.review``)."""
        git = self.proposals_git
        if git is None:
            raise Invalid("no GitOps working copy is configured (NIGHTSHIFT_GITOPS_REPO)")
        declared = TrustPhase(git.declared_phase(agent_name))
        with self._db.read() as s:
            agent, owner = load_agent(s, agent_name)
            current = identity_of(agent, owner).phase
        if declared is not current:  # the writer would refuse after the audit record
            raise Conflict(
                f"Git declares {agent_name} at {declared.value} in {git.environment} but the "
                f"control plane has it at {current.value}; reconcile them before a promotion"
            )
        if target.rank <= declared.rank:
            raise Invalid(
                f"Git declares {agent_name} at {declared.value} in {git.environment}: "
                f"{target.value} is not a promotion"
            )
        p = self.propose(agent_name, target, caller, reason, git.environment, declared)
        return git.write_proposal(
            {"agent": p.agent, "kind": p.kind, "from": p.from_phase, "to": p.to_phase,
             "environment": p.environment, "gates": p.gates, "signoffs": p.signoffs,
             "actor": p.actor, "audit_seq": p.audit_seq},
            reason,
        )  # fmt: skip

    def review_demotion(self, agent_name: str, caller: Caller, note: str) -> None:
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            hold = _hold(agent)
            if hold is None or not hold.blocking:
                raise Conflict(f"{agent_name} has no demotion awaiting review")
            reviewer = s.get(UserRow, caller.user_id) if caller.user_id else None
            if reviewer is None:
                raise Forbidden("only a human user may review a demotion")
            try:
                done = review_demotion(hold, principal_of(reviewer), datetime.now(UTC))
            except ReviewRefusedError as exc:
                raise Forbidden(str(exc)) from exc
            settings = dict(agent.settings or {})
            settings["review_hold"] = _hold_to(done)
            agent.settings = settings
            review_queue.close_open(
                s, ReviewKind.DEMOTION_REVIEW, agent.id, status="done", by=caller.user_id,
                decision=note,
            )  # fmt: skip
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=note or "demotion reviewed",
                        request={"review_demotion": agent_name},
                    )
                ],
            )

    def _phase_evidence(self, identity: AgentIdentity, hold: ReviewHold | None) -> PhaseEvidence:
        records = self.evidence.records(identity.name)
        since = hold.reviewed_at if hold is not None and not hold.blocking else None
        return tally(
            identity.phase,
            records.incidents,
            records.remediations,
            records.escalations,
            since=since,
        )

    def _signoffs(self, s: Session, agent: AgentRow, target: TrustPhase | None) -> list[SignOff]:
        if target is None:
            return []
        rows = s.execute(
            select(SignOffRow, UserRow)
            .join(UserRow, UserRow.id == SignOffRow.user_id)
            .where(
                SignOffRow.agent_id == agent.id,
                SignOffRow.target_phase == target.value,
                SignOffRow.consumed_by == "",
            )
        ).all()
        return [SignOff(principal_of(u), Role(o.role), o.at) for o, u in rows]

    def _change(
        self,
        s: Session,
        agent: AgentRow,
        kind: str,
        to: TrustPhase,
        actor: str,
        reason: str,
        evidence: dict[str, Any] | None = None,
    ) -> PhaseChangeRow:
        row = PhaseChangeRow(
            agent_id=agent.id,
            kind=kind,
            from_phase=agent.trust_phase if kind != "registered" else None,
            to_phase=to.value,
            actor=actor,
            reason=reason,
            evidence=evidence or {},
        )
        agent.trust_phase = to.value
        s.add(row)
        s.flush()
        return row


def _hold(agent: AgentRow) -> ReviewHold | None:
    raw = (agent.settings or {}).get("review_hold")
    if not raw:
        return None
    return ReviewHold(
        agent=agent.name,
        demoted_at=datetime.fromisoformat(raw["demoted_at"]),
        triggers=tuple(DemotionTrigger(t) for t in raw["triggers"]),
        reviewed_by=raw.get("reviewed_by"),
        reviewed_at=datetime.fromisoformat(raw["reviewed_at"]) if raw.get("reviewed_at") else None,
    )


def _hold_to(hold: ReviewHold) -> dict[str, Any]:
    return {
        "demoted_at": hold.demoted_at.isoformat(),
        "triggers": [t.value for t in hold.triggers],
        "reviewed_by": hold.reviewed_by,
        "reviewed_at": hold.reviewed_at.isoformat() if hold.reviewed_at else None,
    }


def _evidence_dict(evidence: PhaseEvidence) -> dict[str, Any]:
    raw = asdict(evidence)
    raw["phase"] = evidence.phase.value
    raw["domains"] = sorted(d.value for d in evidence.domains)
    return raw


_SYSTEM = Caller("nightshift", PrincipalKind.SERVICE, frozenset())


def _system_entry(
    *, intent: str, request: dict[str, Any], decision: str, reason: str
) -> AuditEntry:
    """An entry for a decision the control plane took itself (automatic demotion)."""
    return human_entry(_SYSTEM, intent=intent, request=request, decision=decision, reason=reason)
