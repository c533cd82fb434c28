"""The automatic demotion written into the GitOps repository (``DemotionGit``).

The control plane demotes live first; this then moves the agent between the chart's
values files of ``NIGHTSHIFT_GITOPS_REPO`` with the same writer as ``nightshift
demote`` (gitops.promotion), as one commit directly on the working copy's current
branch: the change is already live, so a review branch would only leave Git
describing a phase the cluster no longer runs. Everything is resolved at each
demotion, not at start-up: a working copy made or fixed later is picked up. A
repository with no phase values files for the environment (one that holds only the
objects agents remediate) does not manage phases, and is left alone.
"""

from __future__ import annotations

from nightshift.gitops.promotion import PhaseCommit, declares_phases
from nightshift.runtime.phase_repo import PhaseRepo
from nightshift.services.ports import AppliedDemotion

ACTOR = "nightshift"  # who asked, in the commit's Requested-By trailer


class GitDemotionRecorder(PhaseRepo):
    def record_demotion(self, demotion: AppliedDemotion) -> str:
        """Raises GitOpsRefused (dirty, diverged, Git declaring another phase...);
        "" when the repository keeps no phases for the environment."""
        directory = self._directory()
        # configured, its files must declare the agent; found, none may mean no phases
        if self._values_dir is None and not declares_phases(directory, self._environment):
            return ""
        writer = self._writer(directory)
        pc = PhaseCommit(
            agent=demotion.agent,
            kind="demotion",
            from_phase=demotion.from_phase,
            to_phase=demotion.to_phase,
            environment=self._environment,
            gates=[],
            signoffs=[],
            actor=ACTOR,
            audit_seq=demotion.audit_seq,
            reason=demotion.reason,
            automatic=True,
        )
        recorded = writer.write(pc)  # no branch: the current one
        return (
            f"commit {recorded.commit.sha} on branch {recorded.branch}: {recorded.commit.subject}"
        )
