"""The adaptive reasoning-depth bound: learned from how deep successful runs go.

Per tier, the breaker trips at min(ceiling, 2 x p95) where p95 is the cycle
count of successful investigations over a rolling window. Until the window
holds ``min_samples`` successes the ceiling alone applies: a handful of easy
runs must not choke the next hard one. The bound never drops below
``floor`` cycles (cycle 1 orients; a verdict needs a follow-up look).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nightshift.domain.vocabulary import Tier
from nightshift.governance.containment import reasoning_depth_limit

DEFAULT_CEILINGS: Mapping[Tier, int] = {
    Tier.SINGLE_DOMAIN: reasoning_depth_limit(Tier.SINGLE_DOMAIN),
    Tier.MULTI_DOMAIN: reasoning_depth_limit(Tier.MULTI_DOMAIN),
}
FLOOR = 2


def p95(values: Sequence[float]) -> float | None:
    """Nearest-rank 95th percentile (a value that occurred, never interpolated)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


@dataclass(frozen=True, slots=True)
class DepthBound:
    tier: Tier
    limit: int
    ceiling: int
    p95: float | None
    samples: int
    adaptive: bool  # False: too few samples, the ceiling applies

    def to_dict(self) -> dict[str, object]:
        return {
            "tier": self.tier.value,
            "limit": self.limit,
            "ceiling": self.ceiling,
            "p95": self.p95,
            "samples": self.samples,
            "adaptive": self.adaptive,
        }


def depth_bound(
    tier: Tier,
    successful_cycles: Sequence[int],
    *,
    ceiling: int | None = None,
    min_samples: int = 20,
    floor: int = FLOOR,
) -> DepthBound:
    top = ceiling if ceiling is not None else DEFAULT_CEILINGS[tier]
    observed = p95([float(c) for c in successful_cycles if c > 0])
    samples = sum(1 for c in successful_cycles if c > 0)
    if observed is None or samples < min_samples:
        return DepthBound(tier, top, top, observed, samples, adaptive=False)
    limit = min(top, max(floor, math.ceil(2 * observed)))
    return DepthBound(tier, limit, top, observed, samples, adaptive=True)
