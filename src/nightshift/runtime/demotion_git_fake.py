"""A ``DemotionGit`` for tests: keeps what it was asked to commit, or refuses."""

from __future__ import annotations

from nightshift.services.ports import AppliedDemotion


class FakeDemotionGit:
    def __init__(self, refuse: str = "") -> None:
        self.requests: list[AppliedDemotion] = []
        self.refuse = refuse  # non-empty: every commit fails with this reason

    def record_demotion(self, demotion: AppliedDemotion) -> str:
        self.requests.append(demotion)
        if self.refuse:
            raise RuntimeError(self.refuse)
        return f"commit fake{len(self.requests)} on branch main: Demote {demotion.agent}"
