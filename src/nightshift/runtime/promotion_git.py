"""The console's promotion as a Git change (``PhaseProposalGit``).

With ``NIGHTSHIFT_GITOPS_REPO`` set, the promote button does what ``nightshift
promote --branch`` does, on the control plane's own working copy: the control plane
authorizes the change (gates, sign-offs, an audit record), then the same writer
(gitops.promotion) commits the moved values and the agent's Vault policy on a new
branch named after the audit record; the checkout stays where it was and nothing
changes live. The values directory is resolved at each promotion, as for the
automatic demotion (runtime.demotion_git).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nightshift.gitops.promotion import PhaseCommit, PhaseWriter
from nightshift.gitops.working_copy import GitOpsRefused, WorkingCopy
from nightshift.runtime.phase_repo import PhaseRepo
from nightshift.services.errors import Conflict

# what review_branch makes, and all a page may be asked to show (names are DNS labels)
_REVIEW_BRANCH = re.compile(r"nightshift/(?:promote|demote)-[a-z0-9][a-z0-9-]{0,62}-[a-z0-9-]+-\d+")


def review_branch(proposal: Mapping[str, Any]) -> str:
    """One branch per proposal: the audit record's seq keeps a retry from colliding."""
    verb = "promote" if proposal["kind"] == "promotion" else "demote"
    return f"nightshift/{verb}-{proposal['agent']}-{proposal['to']}-{proposal['audit_seq']}"


class GitPhaseProposals(PhaseRepo):
    def _ready_writer(self) -> PhaseWriter:
        return self._writer(self._directory())

    def declared_phase(self, agent: str) -> str:
        try:
            writer = self._ready_writer()
            writer.copy.require_ready()
            return writer.declared_phase(self._environment, agent)
        except GitOpsRefused as exc:
            raise Conflict(f"the GitOps working copy refuses it: {exc}") from exc

    def write_proposal(self, proposal: Mapping[str, Any], reason: str) -> str:
        pc = PhaseCommit.of(proposal, reason)
        try:
            recorded = self._ready_writer().write(pc, review_branch(proposal))
        except GitOpsRefused as exc:
            raise Conflict(
                f"the GitOps working copy refuses it: {exc} "
                f"(audit record {pc.audit_seq} names the proposal)"
            ) from exc
        return recorded.branch

    def review(self, branch: str) -> str | None:
        if not _REVIEW_BRANCH.fullmatch(branch):
            return None
        copy = WorkingCopy(self._repo.resolve())
        ref = f"refs/heads/{branch}"
        if not copy.git("rev-parse", "--verify", "--quiet", ref, check=False).strip():
            return None
        sha = copy.git("rev-parse", ref).strip()
        files = copy.git("show", "--name-only", "--format=", ref).split()
        body = copy.git("log", "-1", "--format=%B", ref).rstrip()
        return "\n".join([
            f"commit {sha} on branch {branch} of {copy.root}",
            f"  changes {', '.join(files)}",
            f"  open a pull request from it, e.g. git push origin {branch}",
            "",
            body,
        ])  # fmt: skip
