from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.secrets.protocol import InvestigationContext

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


class ManualClock:
    """A clock tests move by hand, so expiry is tested without sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def context(
    investigation_id: str = "inv-1",
    *,
    domains: frozenset[Domain] = frozenset({Domain.NETWORK, Domain.DATABASE}),
    deadline_in: float = 600,
    phase: TrustPhase = TrustPhase.SHADOW,
) -> InvestigationContext:
    return InvestigationContext(
        investigation_id=investigation_id,
        agent="checkout-diagnoser",
        owner="alice@example.com",
        phase=phase,
        domains=domains,
        deadline=T0 + timedelta(seconds=deadline_in),
    )
