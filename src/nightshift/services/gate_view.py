"""Phase-gate progress of every agent, for the metrics and the observability API.

Evaluating the gates reads an agent's whole record, so the reports are
cached for a refresh period: scrapes every 15 s must not re-tally history.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from nightshift.governance.gates import PromotionReport
from nightshift.services.phases import PhaseService
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow

log = logging.getLogger(__name__)


class GateView:
    def __init__(self, db: Database, phases: PhaseService, refresh_seconds: float = 60.0) -> None:
        self._db = db
        self._phases = phases
        self._refresh = refresh_seconds
        self._cached: tuple[float, list[PromotionReport]] | None = None
        self._lock = threading.Lock()

    def reports(self, *, fresh: bool = False) -> list[PromotionReport]:
        """The promotion report of every agent toward its next phase (agents at the
        top phase have no gates and are left out)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cached
        if cached is not None and not fresh and now - cached[0] < self._refresh:
            return cached[1]
        with self._db.read() as s:
            names = list(s.scalars(select(AgentRow.name).order_by(AgentRow.name)))
        reports = []
        for name in names:
            try:
                report = self._phases.gates(name)
            except Exception:  # one agent's broken record must not hide the others
                log.exception("could not evaluate the gates of %s", name)
                continue
            if report.target is not None:
                reports.append(report)
        with self._lock:
            self._cached = (now, reports)
        return reports
