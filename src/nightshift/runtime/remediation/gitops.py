"""Keeping Git authoritative around the cluster remediator (a wrapper).

The cluster remediator changes live state; this wrapper decides, per action and
environment (``gitops.modes``), whether the change happens live, as a commit to
the GitOps working copy, or both, and records which. It never decides *whether*
to act: policy and the approval did that already.

- ``live`` (or an object Git does not declare, or an action that changes no
  declared state): the inner remediator runs; the result says Git was not updated.
- ``git``: the change is committed and nothing runs live; the GitOps controller
  applies it. Only changes whose desired state the job carries can be committed
  blind (a replica count, a recorded "before" state).
- ``live+git``: the inner remediator runs first (the incident comes first); the
  fields the action changed are then read back from the cluster and committed.
  A refused commit (dirty working copy, object declared twice) leaves the live
  fix in place and opens an escalation: Git no longer describes production.

A revert is committed on the object the recorded change touched, with the state the
change feed recorded before it (never state from the proposal's parameters).

Rollback undoes the live change and reverts the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from nightshift.domain.changes import Change
from nightshift.domain.diagnosis import ResourceRef
from nightshift.gitops.declared import ObjectKey
from nightshift.gitops.modes import ACTION_FIELDS, Mode, ModeTable, object_key
from nightshift.gitops.record import INVESTIGATION_TRAILER, CommitContext, GitRecorder
from nightshift.gitops.working_copy import GitOpsRefused
from nightshift.runtime.remediation.revert_kubernetes import find_change, sections
from nightshift.services.remediation_port import (
    ChangeHistory,
    Observation,
    RemediationJob,
    Remediator,
    StepResult,
)

log = logging.getLogger(__name__)

# Reads the live object (as the control plane) Git declares as the key; None if gone.
LiveReader = Callable[[RemediationJob, ObjectKey], Mapping[str, Any] | None]
# Told when Git could not be updated after a live change (opens an escalation).
OnDivergence = Callable[[RemediationJob, str], None]


def _at(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = obj
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


_REVERTS = frozenset({"revert-change", "revert-firewall-rule"})


class GitOpsRemediator:
    def __init__(
        self,
        inner: Remediator,
        recorder: GitRecorder,
        modes: ModeTable,
        read_live: LiveReader,
        on_divergence: OnDivergence | None = None,
        history: ChangeHistory | None = None,
    ) -> None:
        self._history = history
        self._inner = inner
        self._recorder = recorder
        self._modes = modes
        self._read_live = read_live
        self._on_divergence = on_divergence

    def _change(self, job: RemediationJob) -> Change | None:
        """The recorded change a revert undoes (the control plane's record, never the
        proposal's parameters: an agent cannot have arbitrary state committed)."""
        if job.action not in _REVERTS:
            return None
        found = find_change(self._history, job)
        return found if isinstance(found, Change) else None

    def _key(self, job: RemediationJob) -> ObjectKey:
        change = self._change(job)
        if change is not None:  # "Change/FW-3141" is recorded on the object it touched
            t = change.target
            return object_key(ResourceRef(t.kind, t.name, t.namespace or None))
        return object_key(job.target)

    def _fields(self, job: RemediationJob) -> tuple[tuple[str, ...], ...]:
        change = self._change(job)
        if change is not None and change.before is not None:
            return tuple(_paths(sections(change.before)))
        return ACTION_FIELDS[job.action]

    def _blind_values(self, job: RemediationJob) -> dict[tuple[str, ...], Any] | None:
        """The desired state of a ``git``-mode change, known without running it."""
        if job.action == "scale-deployment" and isinstance(job.params.get("replicas"), int):
            return {("spec", "replicas"): job.params["replicas"]}
        change = self._change(job)
        if change is not None and change.before is not None:
            wanted = sections(change.before)
            return {p: _at(wanted, p) for p in _paths(wanted)}
        return None

    def _plan(self, job: RemediationJob) -> tuple[Mode, ObjectKey, str]:
        """The mode that applies, and why a non-live mode fell back to live."""
        mode = self._modes.mode_for(job.action)
        key = self._key(job)
        if mode is Mode.LIVE:
            why = (
                f"{job.action} changes no state Git declares"
                if job.action not in ACTION_FIELDS
                else "mode live"
            )
            return mode, key, why
        try:
            declared = self._recorder.declares(key)
        except GitOpsRefused as exc:
            return mode, key, f"cannot read what Git declares: {exc}"
        if not declared:
            return Mode.LIVE, key, f"Git does not declare {key}"
        return mode, key, ""

    def _context(self, job: RemediationJob, reason: str = "") -> CommitContext:
        return CommitContext(
            investigation_id=job.investigation_id,
            agent=job.agent,
            owner=job.owner,
            approver=job.approved_by or "(automatic by policy)",
            decision=job.decision or "allow",
            audit_record=f"proposal {job.proposal_id}" if job.proposal_id else "-",
            action=job.action,
            reason=reason,
        )

    def dry_run(self, job: RemediationJob) -> StepResult:
        return self._inner.dry_run(job)

    def execute(self, job: RemediationJob) -> StepResult:
        mode, key, why = self._plan(job)
        if mode is Mode.GIT:
            return self._commit_only(job, key)
        done = self._inner.execute(job)
        if mode is Mode.LIVE or why or not done.ok:
            if why and done.ok:
                return _with(done, f"live only: {why}", {"gitops": "live"})
            return done
        return self._commit_after(job, key, done)

    def _commit_only(self, job: RemediationJob, key: ObjectKey) -> StepResult:
        values = self._blind_values(job)
        if values is None:
            return StepResult(
                False,
                f"{job.action} cannot be committed without running it (its result is only "
                "known live); set its mode to live or live+git",
            )
        try:
            rec = self._recorder.record(self._context(job), key, values, _summary(job))
        except GitOpsRefused as exc:
            return StepResult(False, f"not committed: {exc}")
        return StepResult(
            True,
            f"committed {rec.commit.sha[:12]} to Git; nothing changed live until the GitOps "
            "controller syncs it",
            (rec.review,),
            {"gitops": "git", "commit": rec.commit.sha},
        )

    def _commit_after(self, job: RemediationJob, key: ObjectKey, done: StepResult) -> StepResult:
        live = self._read_live(job, key)
        fields = self._fields(job)
        values = {p: _at(live, p) for p in fields} if live is not None else {}
        try:
            if not values or any(v is None for v in values.values()):
                raise GitOpsRefused(f"{key} could not be read back after the change")
            rec = self._recorder.record(self._context(job), key, values, _summary(job))
        except GitOpsRefused as exc:
            why = f"executed live, but Git was not updated: {exc}"
            log.warning("investigation %s: %s", job.investigation_id, why)
            if self._on_divergence is not None:
                self._on_divergence(job, why)
            return _with(done, why, {"gitops": "live", "git_refused": str(exc)})
        return _with(
            done,
            f"and committed {rec.commit.sha[:12]} to Git",
            {"gitops": "live+git", "commit": rec.commit.sha},
            rec.review,
        )

    def symptoms_present(self, job: RemediationJob) -> bool:
        return self._inner.symptoms_present(job)

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        gitops = undo.get("gitops")
        done = StepResult(True, "nothing ran live") if gitops == "git" else None
        if done is None:
            done = self._inner.rollback(job, inverse, undo)
        if gitops not in ("git", "live+git") or not done.ok:
            return done
        try:
            revert = self._recorder.revert(self._context(job, "rollback"))
        except GitOpsRefused as exc:
            why = f"rolled back live, but the commit was not reverted: {exc}"
            if self._on_divergence is not None:
                self._on_divergence(job, why)
            return _with(done, why, {})
        return _with(done, f"and reverted in Git as {revert.sha[:12]}", {})

    def observe(self, job: RemediationJob) -> Observation:
        """After a crash mid-execution: if the live change took effect in live+git, the
        commit it owed is written now (or the divergence escalated), so a crash between
        the live action and the commit leaves Git recording the change all the same."""
        seen = self._inner.observe(job)
        mode, key, why = self._plan(job)
        if seen.effect != "in_effect" or mode is not Mode.LIVE_GIT or why:
            return seen
        if self._recorder.copy.commits_with_trailer(INVESTIGATION_TRAILER, job.investigation_id):
            return seen
        done = self._commit_after(job, key, StepResult(True, seen.detail))
        return Observation(seen.effect, done.message, seen.symptoms_present)


def _paths(wanted: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Top-level sections, and metadata's labels/annotations one level down."""
    out: list[tuple[str, ...]] = []
    for k, v in wanted.items():
        if k == "metadata" and isinstance(v, Mapping):
            out += [("metadata", m) for m in v]
        else:
            out.append((k,))
    return out


def _summary(job: RemediationJob) -> str:
    params = ", ".join(f"{k}={v}" for k, v in job.params.items() if k != "before")
    return f"{job.action} on {job.target}" + (f" ({params})" if params else "")


def _with(
    done: StepResult, note: str, undo: Mapping[str, Any], change: str | None = None
) -> StepResult:
    changes = (*done.changes, change) if change else done.changes
    return StepResult(done.ok, f"{done.message}; {note}", changes, {**done.undo, **undo})
