"""Investigation lifecycle rules (pure)."""

from __future__ import annotations

from nightshift.domain.vocabulary import InvestigationStatus as S

_ALLOWED: dict[S, frozenset[S]] = {
    S.QUEUED: frozenset({S.DISPATCHED, S.HELD, S.CANCELLED, S.FAILED}),
    S.HELD: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    # A dispatched unit that never reported back may be re-queued on restart.
    S.DISPATCHED: frozenset(
        {S.RUNNING, S.QUEUED, S.SUCCEEDED, S.ESCALATED, S.FAILED, S.CANCELLED, S.DEADLINE_EXCEEDED}
    ),
    S.RUNNING: frozenset({S.SUCCEEDED, S.ESCALATED, S.FAILED, S.CANCELLED, S.DEADLINE_EXCEEDED}),
}


class InvalidTransition(ValueError):
    def __init__(self, current: S, target: S) -> None:
        super().__init__(f"investigation is {current.value}; cannot become {target.value}")
        self.current, self.target = current, target


def check_transition(current: S, target: S) -> None:
    if target not in _ALLOWED.get(current, frozenset()):
        raise InvalidTransition(current, target)


ACTIVE_STATUSES = frozenset({S.DISPATCHED, S.RUNNING})
WAITING_STATUSES = frozenset({S.QUEUED, S.HELD})

# Worker-reported terminal states; the control plane decides the others.
WORKER_TERMINAL = frozenset({S.SUCCEEDED, S.ESCALATED, S.FAILED})

MAX_PRIORITY = 4  # 0 = page now ... 4 = background
