"""A belief: one (resource, fault) reading, its confidence and what it rests on.

The small shared vocabulary of the offline reasoner's rules: every rule module
reads and rewrites beliefs, so they live apart from the evaluation that
combines them (beliefs.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from nightshift.domain.diagnosis import ResourceRef

Key = tuple[ResourceRef, str]


@dataclass(frozen=True, slots=True)
class Belief:
    """A (resource, fault) reading: how sure, on which evidence, under which cause."""

    confidence: float
    evidence_ids: tuple[str, ...]
    lines: tuple[str, ...]
    rationale: str
    parent: Key | None = None


def noisy_or(weights: list[float]) -> float:
    """Independent indications combined: the chance that not all of them are wrong."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - max(0.0, min(w, 0.99))
    return 1.0 - miss


def corroboration(b: Belief) -> tuple[int, float]:
    """How well a belief is attested: its independent signals, then its confidence."""
    return (len(b.lines), b.confidence)


def revised(b: Belief, confidence: float, parent: Key | None = None) -> Belief:
    """The belief at another confidence, re-parented when ``parent`` is given."""
    return Belief(confidence, b.evidence_ids, b.lines, b.rationale, parent or b.parent)


def strengthened(b: Belief, by: float, why: str) -> Belief:
    """The belief raised by one more indication (noisy-OR), its rationale saying why."""
    return Belief(
        noisy_or([b.confidence, by]), b.evidence_ids, b.lines, b.rationale + why, b.parent
    )


class _Parented(Protocol):
    @property
    def parent(self) -> Key | None: ...


def ancestors(out: Mapping[Key, _Parented], k: Key) -> Iterator[Key]:
    """The keys ``k`` hangs under, nearest first; a loop ends the walk."""
    seen: set[Key] = set()
    up = out[k].parent
    while up is not None and up not in seen:
        yield up
        seen.add(up)
        above = out.get(up)
        up = above.parent if above is not None else None
