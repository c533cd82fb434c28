"""A ``DemotionGit`` for tests: keeps what it was asked to commit, or refuses."""

from __future__ import annotations

from nightshift.services.ports import AppliedDemotion


class FakeDemotionGit:
    def __init__(self, refuse: str = "", *, keeps_phases: bool = True) -> None:
        self.requests: list[AppliedDemotion] = []
        self.refuse = refuse  # non-empty: every commit fails with this reason
        self.keeps_phases = keeps_phases  # False: a repository without phase values files

    def record_demotion(self, demotion: AppliedDemotion) -> str:
        self.requests.append(demotion)
        if self.refuse:
            raise RuntimeError(self.refuse)
        if not self.keeps_phases:
            return ""
        return f"commit fake{len(self.requests)} on branch main: Demote {demotion.agent}"
