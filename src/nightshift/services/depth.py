"""The reasoning-depth bound each new worker gets, from recent successful runs.

Read at dispatch time (inside the claiming transaction, on its session) and
cached briefly: the bound moves with weeks of history, not with one run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.observability.depth import DEFAULT_CEILINGS, DepthBound, depth_bound
from nightshift.store.database import Database
from nightshift.store.tables import InvestigationRow


class DepthService:
    def __init__(
        self,
        db: Database,
        *,
        window: timedelta = timedelta(days=30),
        ceilings: Mapping[Tier, int] | None = None,
        min_samples: int = 20,
        cache_seconds: float = 30.0,
        max_rows: int = 5000,
    ) -> None:
        self._db = db
        self._window = window
        self._ceilings = dict(DEFAULT_CEILINGS) | dict(ceilings or {})
        self._min_samples = min_samples
        self._cache_seconds = cache_seconds
        self._max_rows = max_rows
        self._cache: dict[Tier, tuple[float, DepthBound]] = {}
        self._lock = threading.Lock()

    def bound(self, tier: Tier, session: Session | None = None) -> DepthBound:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(tier)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        if session is not None:
            cycles = self._cycles(session, tier)
        else:
            with self._db.read() as s:
                cycles = self._cycles(s, tier)
        found = depth_bound(
            tier, cycles, ceiling=self._ceilings[tier], min_samples=self._min_samples
        )
        with self._lock:
            self._cache[tier] = (now, found)
        return found

    def bounds(self) -> list[DepthBound]:
        return [self.bound(t) for t in Tier]

    def forget(self) -> None:
        """Drop the cache (tests, or after seeding history)."""
        with self._lock:
            self._cache.clear()

    def _cycles(self, s: Session, tier: Tier) -> list[int]:
        since = datetime.now(UTC) - self._window
        results = s.scalars(
            select(InvestigationRow.result)
            .where(
                InvestigationRow.tier == tier.value,
                InvestigationRow.status == InvestigationStatus.SUCCEEDED.value,
                InvestigationRow.finished_at >= since,
            )
            .order_by(InvestigationRow.finished_at.desc())
            .limit(self._max_rows)
        )
        out = []
        for result in results:
            cycles = (result or {}).get("cycles")
            if isinstance(cycles, int) and cycles > 0:
                out.append(cycles)
        return out
