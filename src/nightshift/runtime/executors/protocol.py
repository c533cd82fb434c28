"""The executor protocol: how one investigation gets its own isolated unit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from nightshift.domain.vocabulary import InvestigationStatus, Tier

# A local worker reads its token and hand-off as JSON from this inherited file
# descriptor (never from argv or the environment another process could read).
SECRETS_FD_ENV = "NIGHTSHIFT_WORKER_SECRETS_FD"
# The worker's own exit code when it catches MemoryError (both executors read it).
EXIT_OUT_OF_MEMORY = 3

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UnitLimits:
    memory_mb: int
    cpu_seconds: int
    deadline_seconds: int


@dataclass(frozen=True, slots=True)
class WorkerLaunch:
    investigation_id: str
    agent: str
    trust_phase: str
    tier: Tier
    api_url: str
    token: str = field(repr=False)  # never logged, never in argv
    limits: UnitLimits
    # The secret broker's single-use hand-off (Vault wrapping token or local code).
    secrets_backend: str = "local"
    secrets_handoff: str = field(default="", repr=False)
    extra_env: Mapping[str, str] = field(default_factory=dict)  # non-secret worker settings


@dataclass(frozen=True, slots=True)
class WorkerExit:
    """How a unit ended, as the executor saw it.

    ``status`` is None for a clean exit (the worker reported its own result);
    otherwise it is the terminal status the investigation should get if the
    worker did not report one.
    """

    investigation_id: str
    status: InvestigationStatus | None
    reason: str
    resources: Mapping[str, Any] = field(default_factory=dict)


ExitHandler = Callable[[WorkerExit], None]


class Executor(Protocol):
    def start(self, launch: WorkerLaunch) -> str:
        """Start the unit; returns a reference that survives restarts (pid, Job name)."""
        ...

    def stop(self, investigation_id: str, reason: str) -> None:
        """Stop the unit if it runs; idempotent."""
        ...

    def adopt_or_kill_orphan(self, worker_ref: str) -> bool:
        """After a control-plane restart: stop a unit nobody watches. True if one ran."""
        ...

    def tracks(self, investigation_id: str) -> bool:
        """True while this executor runs the unit or is still reporting its exit."""
        ...

    def read_log(self, investigation_id: str, tail_bytes: int = 1_000_000) -> str | None: ...

    def running(self) -> int: ...

    def shutdown(self) -> None: ...

    def purge_logs(self, older_than_seconds: float) -> int:
        """Remove worker logs older than the retention period; returns how many."""
        ...


class QueuedUnit(Protocol):
    """Where a unit stands in the cluster's admission queue (Kueue's ``Admission``)."""

    @property
    def state(self) -> str: ...  # not-queued | waiting | admitted | evicted | finished
    @property
    def reason(self) -> str: ...
    @property
    def local_queue(self) -> str: ...
    @property
    def position_in_local_queue(self) -> int | None: ...


# States in which a unit has never had quota: Kueue has not seen its Job yet (or its
# manager is down, so no Workload exists) or holds it suspended in the queue.
NEVER_ADMITTED = frozenset({"not-queued", "waiting"})


@runtime_checkable
class ReportsAdmission(Protocol):
    """An executor whose units are admitted by a queue (Kubernetes with Kueue): a
    dispatched unit may wait there, suspended, before it runs. An executor without
    this capability (local) starts every unit at once."""

    def admission(self, investigation_id: str) -> QueuedUnit | None:
        """The unit's place in the queue; None with no queue or no such unit left."""
        ...


@runtime_checkable
class WarmsUp(Protocol):
    """An executor that prepares its start path ahead of the first unit (the local
    worker template): started with the server, it is not ready until that is done,
    so the first investigation runs as fast as the rest."""

    def warm_up(self) -> None:
        """Start preparing, in the background."""
        ...

    @property
    def warming(self) -> bool:
        """Still preparing: a unit started now would wait for it."""
        ...


def reported_admission(executor: Executor, investigation_id: str) -> QueuedUnit | None:
    """The executor's admission report, or None: an executor without the capability,
    or one that cannot read the queue right now (the investigation view and deadline
    enforcement go on without it rather than fail)."""
    if not isinstance(executor, ReportsAdmission):
        return None
    try:
        return executor.admission(investigation_id)
    except Exception as exc:  # the cluster's API unreachable, a Kueue read refused
        log.warning("could not read %s's admission: %s", investigation_id, exc)
        return None
