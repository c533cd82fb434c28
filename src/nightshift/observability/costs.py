"""Cost attribution: what one investigation cost, and where a period's money went.

Four components per investigation:

- **llm**: the priced ``llm.call`` events (see ``llm_calls.py``);
- **compute**: the worker unit's CPU-seconds and memory GB-seconds from the
  executor's accounting (peak RSS x wall time: an upper bound, which is what
  a scheduler reserves);
- **tooling**: tool calls at a flat price (API reads, queries);
- **storage**: the stored events and log at a GB-month price over the
  retention period (an estimate from the event count).

Pure: the service reads the rows, this prices and groups them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nightshift.observability.llm_calls import TokenPrice

UNCATEGORIZED = "uncategorized"


@dataclass(frozen=True, slots=True)
class Prices:
    cpu_second_usd: float = 0.0000125  # ~0.045 USD per vCPU-hour
    gb_second_usd: float = 0.0000014  # ~0.005 USD per GB-hour
    tool_call_usd: float = 0.00001
    storage_gb_month_usd: float = 0.10
    bytes_per_event: int = 800
    retention_days: int = 30
    llm: Mapping[str, TokenPrice] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    llm: float = 0.0
    compute: float = 0.0
    tooling: float = 0.0
    storage: float = 0.0

    @property
    def total(self) -> float:
        return self.llm + self.compute + self.tooling + self.storage

    def to_dict(self) -> dict[str, float]:
        return {
            "llm": round(self.llm, 6),
            "compute": round(self.compute, 6),
            "tooling": round(self.tooling, 6),
            "storage": round(self.storage, 6),
            "total": round(self.total, 6),
        }

    def __add__(self, other: CostBreakdown) -> CostBreakdown:
        return CostBreakdown(
            self.llm + other.llm,
            self.compute + other.compute,
            self.tooling + other.tooling,
            self.storage + other.storage,
        )


def compute_cost(resources: Mapping[str, Any] | None, prices: Prices) -> float:
    if not resources:
        return 0.0
    cpu = float(resources.get("cpu_seconds") or 0.0)
    gb_seconds = (
        float(resources.get("max_rss_mb") or 0.0) / 1024 * float(resources.get("wall_seconds") or 0)
    )
    return cpu * prices.cpu_second_usd + gb_seconds * prices.gb_second_usd


def breakdown(
    *,
    llm_usd: float,
    resources: Mapping[str, Any] | None,
    tool_calls: int,
    event_count: int,
    prices: Prices,
) -> CostBreakdown:
    stored_gb = event_count * prices.bytes_per_event / 1e9
    return CostBreakdown(
        llm=llm_usd,
        compute=compute_cost(resources, prices),
        tooling=tool_calls * prices.tool_call_usd,
        storage=stored_gb * prices.storage_gb_month_usd * prices.retention_days / 30,
    )


@dataclass(frozen=True, slots=True)
class InvestigationCost:
    id: str
    agent: str
    tier: str
    category: str
    status: str
    cost: CostBreakdown


@dataclass(frozen=True, slots=True)
class GroupCost:
    key: str
    investigations: int
    cost: CostBreakdown

    @property
    def mean(self) -> float:
        return self.cost.total / self.investigations if self.investigations else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "investigations": self.investigations,
            "mean_usd": round(self.mean, 6),
            **self.cost.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CostReport:
    investigations: int
    total: CostBreakdown
    by_agent: Sequence[GroupCost]
    by_category: Sequence[GroupCost]
    by_tier: Sequence[GroupCost]
    top_decile_share: float  # share of the total spent by the most expensive 10 %
    top_decile_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "investigations": self.investigations,
            "total": self.total.to_dict(),
            "by_agent": [g.to_dict() for g in self.by_agent],
            "by_category": [g.to_dict() for g in self.by_category],
            "by_tier": [g.to_dict() for g in self.by_tier],
            "top_decile_share": round(self.top_decile_share, 4),
            "top_decile_count": self.top_decile_count,
        }


def _group(
    items: Iterable[InvestigationCost], key: Callable[[InvestigationCost], str]
) -> list[GroupCost]:
    sums: dict[str, CostBreakdown] = defaultdict(CostBreakdown)
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        k = key(item)
        sums[k] = sums[k] + item.cost
        counts[k] += 1
    groups = [GroupCost(k, counts[k], sums[k]) for k in sums]
    return sorted(groups, key=lambda g: (-g.cost.total, g.key))


def top_share(totals: Sequence[float], fraction: float = 0.1) -> tuple[float, int]:
    """The share of the sum spent by the most expensive ``fraction`` of items
    (at least one item when there are any), and how many items that is."""
    if not totals:
        return 0.0, 0
    count = max(1, math.ceil(len(totals) * fraction))
    whole = sum(totals)
    if whole <= 0:
        return 0.0, count
    return sum(sorted(totals, reverse=True)[:count]) / whole, count


def report(items: Sequence[InvestigationCost]) -> CostReport:
    total = sum((i.cost for i in items), CostBreakdown())
    share, count = top_share([i.cost.total for i in items])
    return CostReport(
        investigations=len(items),
        total=total,
        by_agent=_group(items, lambda i: i.agent),
        by_category=_group(items, lambda i: i.category or UNCATEGORIZED),
        by_tier=_group(items, lambda i: i.tier),
        top_decile_share=share,
        top_decile_count=count,
    )
