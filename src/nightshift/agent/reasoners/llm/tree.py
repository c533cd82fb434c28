"""The session's mirror of the loop's hypothesis board, for the compact prompt.

The loop owns the real board; the session only needs each hypothesis' latest
confidence, the evidence ids on each side, who rated it last (model or
analyzers) and the analyzers' own view, to render one line per hypothesis.
"""

from __future__ import annotations

from nightshift.agent.reasoners.llm.prompt import TreeLine, safe_name
from nightshift.agent.reasoners.protocol import HypothesisUpdate
from nightshift.domain.diagnosis import EvidenceStance, ResourceRef

Key = tuple[ResourceRef, str]
REJECT_BELOW = 0.05  # the loop's rejection line


class HypothesisTree:
    """A mirror of the loop's board, enough to render the compact tree."""

    def __init__(self) -> None:
        self.ids: dict[Key, str] = {}
        self.conf: dict[Key, float] = {}
        self.sup: dict[Key, list[str]] = {}
        self.ref: dict[Key, list[str]] = {}
        self.by_model: set[Key] = set()
        self.analyzers: dict[Key, float] = {}

    def apply(self, update: HypothesisUpdate, eid: str | None, by_model: bool) -> None:
        key = (update.resource, update.fault)
        self.ids.setdefault(key, f"h{len(self.ids) + 1}")
        self.conf[key] = min(max(update.confidence, 0.0), 1.0)
        if eid is not None:
            side = self.ref if update.stance is EvidenceStance.REFUTES else self.sup
            if eid not in side.setdefault(key, []):
                side[key].append(eid)
        if by_model:
            self.by_model.add(key)
        else:
            self.analyzers[key] = self.conf[key]

    def top(self) -> float:
        return max(self.conf.values(), default=0.0)

    def lines(self) -> list[TreeLine]:
        return [
            TreeLine(
                self.ids[k],
                safe_name(str(k[0])),
                k[1],
                c,
                tuple(self.sup.get(k, ())),
                tuple(self.ref.get(k, ())),
                k in self.by_model,
                self.analyzers.get(k) if k in self.by_model else None,
            )
            for k, c in self.conf.items()
            if c >= REJECT_BELOW
        ]
