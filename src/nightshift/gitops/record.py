"""The commit that records an agent's change in Git, and its revert.

The commit message carries the accountability chain Git gives humans: which
investigation, which agent and its accountable owner, who approved, what policy
decided, and the audit record, as trailers (``Key: value`` lines) that tools
and ``git log --grep`` can read. Approval is of the action; the commit is its record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nightshift.gitops.controllers import SyncedPath
from nightshift.gitops.declared import Declaration, ObjectKey, declared_objects
from nightshift.gitops.edit import rewrite
from nightshift.gitops.working_copy import Commit, GitOpsRefused, WorkingCopy

INVESTIGATION_TRAILER = "Nightshift-Investigation"


@dataclass(frozen=True, slots=True)
class CommitContext:
    investigation_id: str
    agent: str
    owner: str
    approver: str
    decision: str  # the policy's decision, e.g. "allow (approved)"
    audit_record: str  # the audit trail's record id (or seq) of the execution
    action: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What was written: the commit, the file, and the text a reviewer opens a PR with."""

    commit: Commit
    file: Path
    review: str


def message(ctx: CommitContext, key: ObjectKey, summary: str) -> str:
    subject = f"{ctx.action} {key} ({ctx.agent}, investigation {ctx.investigation_id[:12]})"
    body = [subject, "", summary]
    if ctx.reason:
        body += ["", ctx.reason]
    body += [
        "",
        f"{INVESTIGATION_TRAILER}: {ctx.investigation_id}",
        f"Nightshift-Agent: {ctx.agent}",
        f"Nightshift-Owner: {ctx.owner}",
        f"Approved-By: {ctx.approver}",
        f"Policy-Decision: {ctx.decision}",
        f"Audit-Record: {ctx.audit_record}",
    ]
    return "\n".join(body) + "\n"


class GitRecorder:
    """Writes agents' changes into the declared objects of one working copy.

    ``synced`` reads, at each action, which directories the cluster's GitOps
    controllers apply (gitops.controllers); without it the whole copy counts."""

    def __init__(
        self, copy: WorkingCopy, synced: Callable[[], Sequence[SyncedPath]] | None = None
    ) -> None:
        self.copy = copy
        self._synced = synced

    def declared(self) -> dict[ObjectKey, Declaration]:
        return declared_objects(self.copy.root, self._synced() if self._synced else ())

    def declares(self, key: ObjectKey) -> bool:
        return key in self.declared()

    def record(
        self,
        ctx: CommitContext,
        key: ObjectKey,
        values: Mapping[tuple[str, ...], Any],
        summary: str,
    ) -> Recorded:
        """Set ``values`` (path -> value) on the object Git declares as ``key``, and commit.

        Raises GitOpsRefused when the working copy is not ready, the object is not
        declared (or twice), a file cannot be parsed, or Git already says so."""
        self.copy.require_ready()
        decl = self.declared().get(key)
        if decl is None:
            raise GitOpsRefused(f"{key} is not declared in {self.copy.root}")
        assignments: Sequence[tuple[Sequence[str], Any]] = list(values.items())
        if not rewrite(decl, assignments):
            raise GitOpsRefused(f"Git already declares this state of {key}: nothing to commit")
        commit = self.copy.commit([decl.file], message(ctx, key, summary))
        path = decl.file.relative_to(self.copy.root)
        diff = self.copy.git("show", "--format=", "--stat", commit.sha).strip()
        review = (
            f"commit {commit.sha} on {self.copy.root}: {commit.subject}\n"
            f"  changes {path} ({diff.splitlines()[-1].strip() if diff else 'no diff'})\n"
            f"  open a pull request from it, e.g. git push origin {commit.sha}:refs/heads/"
            f"nightshift/{ctx.investigation_id[:12]}"
        )
        return Recorded(commit, decl.file, review)

    def revert(self, ctx: CommitContext) -> Commit:
        """Revert the commit(s) that recorded ``ctx.investigation_id``'s change."""
        found = self.copy.commits_with_trailer(INVESTIGATION_TRAILER, ctx.investigation_id)
        if not found:
            raise GitOpsRefused(f"no commit records investigation {ctx.investigation_id}")
        last: Commit | None = None
        for commit in found:  # newest first, as git log lists them
            text = (
                f"Revert {commit.subject}\n\nRolled back: {ctx.reason or 'rollback'}\n\n"
                f"{INVESTIGATION_TRAILER}-Rollback: {ctx.investigation_id}\n"
                f"Approved-By: {ctx.approver}\nAudit-Record: {ctx.audit_record}\n"
            )
            last = self.copy.revert(commit.sha, text)
        assert last is not None
        return last
