"""Cost attribution per investigation, and the period report ``nightshift costs`` shows.

Reads the finished investigations of a period (agent, tier, category,
executor resources, tool calls, event count) and the ``llm.call`` events
among them, and prices them with ``observability/costs.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from nightshift.observability.costs import (
    CostBreakdown,
    CostReport,
    InvestigationCost,
    Prices,
    breakdown,
    report,
)
from nightshift.observability.llm_calls import LLM_CALL, LlmCall
from nightshift.services.errors import Invalid, NotFound
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationEventRow, InvestigationRow

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Tokens:
    input: int = 0
    output: int = 0
    cached: int = 0
    calls: int = 0


class CostService:
    def __init__(self, db: Database, prices: Prices) -> None:
        self._db = db
        self.prices = prices

    def investigation(self, inv_id: str) -> InvestigationCost:
        with self._db.read() as s:
            found = s.execute(
                select(InvestigationRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == InvestigationRow.agent_id)
                .where(InvestigationRow.id == inv_id)
                .options(defer(InvestigationRow.result))  # pricing never reads it; it can be MBs
            ).first()
            if found is None:
                raise NotFound(f"no investigation {inv_id!r}")
            llm = self._llm_costs(s, [inv_id])
            return self._cost(found[0], found[1], llm.get(inv_id, 0.0))

    def costs(
        self, since: datetime, until: datetime | None = None, agent: str | None = None
    ) -> list[InvestigationCost]:
        """Every investigation that finished in [since, until), priced."""
        until = until or datetime.now(UTC)
        if since >= until:
            raise Invalid("the period must start before it ends")
        q = (
            select(InvestigationRow, AgentRow.name)
            .join(AgentRow, AgentRow.id == InvestigationRow.agent_id)
            .where(InvestigationRow.finished_at >= since, InvestigationRow.finished_at < until)
        )
        if agent is not None:
            q = q.where(AgentRow.name == agent)
        with self._db.read() as s:
            rows = s.execute(q).all()
            llm = self._llm_costs(s, [r[0].id for r in rows])
            return [self._cost(row, name, llm.get(row.id, 0.0)) for row, name in rows]

    def report(
        self, since: datetime, until: datetime | None = None, agent: str | None = None
    ) -> CostReport:
        return report(self.costs(since, until, agent))

    def tokens(self, ids: Sequence[str]) -> dict[str, Tokens]:
        """LLM tokens per investigation (the console shows them beside the cost)."""
        totals: dict[str, Tokens] = {}
        with self._db.read() as s:
            for inv_id, call in self._llm_calls(s, ids):
                t = totals.get(inv_id, Tokens())
                totals[inv_id] = Tokens(t.input + call.input_tokens, t.output + call.output_tokens,
                                        t.cached + call.cached_tokens, t.calls + 1)  # fmt: skip
        return totals

    def _cost(self, row: InvestigationRow, agent: str, llm_usd: float) -> InvestigationCost:
        result = row.result or {}
        tool_calls = result.get("tool_calls")
        cost: CostBreakdown = breakdown(
            llm_usd=llm_usd,
            resources=row.resources,
            tool_calls=tool_calls if isinstance(tool_calls, int) else 0,
            event_count=row.event_count,
            prices=self.prices,
        )
        return InvestigationCost(row.id, agent, row.tier, row.category or "", row.status, cost)

    def _llm_costs(self, s: Session, ids: Sequence[str]) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for inv_id, call in self._llm_calls(s, ids):
            totals[inv_id] += call.priced(self.prices.llm)
        return totals

    def _llm_calls(self, s: Session, ids: Sequence[str]) -> Iterator[tuple[str, LlmCall]]:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            events = s.execute(
                select(InvestigationEventRow.investigation_id, InvestigationEventRow.data).where(
                    InvestigationEventRow.kind == LLM_CALL,
                    InvestigationEventRow.investigation_id.in_(chunk),
                )
            )
            for inv_id, data in events:
                yield inv_id, LlmCall.from_event(data or {})
