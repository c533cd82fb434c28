"""A pod's READY, STATUS, RESTARTS and AGE, as kubectl's ``printPod`` computes them.

The STATUS is the subtle one: init containers first (``Init:...`` while the
pod initializes; restartable init containers are sidecars, counted with the
app containers), then the app containers in reverse, the last non-running state
naming the pod; deletion turns it into Terminating (or Unknown on a lost
node).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nightshift.k8s.kubectl_time import parse_time, since
from nightshift.k8s.reads import meta

Obj = dict[str, Any]


def _restartable(c: Mapping[str, Any] | None) -> bool:
    return bool(c) and (c or {}).get("restartPolicy") == "Always"


@dataclass
class _Tally:
    """What ``printPod`` accumulates while it walks a pod's container statuses."""

    reason: str
    ready: int = 0
    restarts: int = 0
    last: datetime | None = None
    sidecar_restarts: int = 0
    sidecar_last: datetime | None = None


def _later(a: datetime | None, cs: Mapping[str, Any]) -> datetime | None:
    term = (cs.get("lastState") or {}).get("terminated")
    when = parse_time((term or {}).get("finishedAt"))
    return when if when and (a is None or when > a) else a


def _terminated_reason(term: Mapping[str, Any], prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def _walk_init_containers(spec: Obj, st: Obj, t: _Tally) -> bool:
    """Counts init containers; True while the pod is still initializing (``Init:...``)."""
    inits = {c["name"]: c for c in spec.get("initContainers") or []}
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        t.restarts += int(cs.get("restartCount") or 0)
        t.last = _later(t.last, cs)
        sidecar = _restartable(inits.get(cs.get("name", "")))
        if sidecar:
            t.sidecar_restarts += int(cs.get("restartCount") or 0)
            t.sidecar_last = _later(t.sidecar_last, cs)
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term and int(term.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            t.ready += 1 if cs.get("ready") else 0
            continue
        if term:
            t.reason = _terminated_reason(term, "Init:")
        elif wait and wait.get("reason") and wait.get("reason") != "PodInitializing":
            t.reason = "Init:" + wait["reason"]
        else:
            t.reason = f"Init:{i}/{len(inits)}"
        return True
    return False


def _walk_containers(st: Obj, t: _Tally) -> None:
    """Counts app containers (sidecars' restarts carried over); the last non-running
    state in reverse order names the pod's STATUS, as kubectl's loop does."""
    t.restarts, t.last = t.sidecar_restarts, t.sidecar_last
    running = False
    for cs in reversed(st.get("containerStatuses") or []):
        t.restarts += int(cs.get("restartCount") or 0)
        t.last = _later(t.last, cs)
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if wait and wait.get("reason"):
            t.reason = wait["reason"]
        elif term:
            t.reason = _terminated_reason(term)
        elif cs.get("ready") and state.get("running") is not None:
            running = True
            t.ready += 1
    if t.reason == "Completed" and running:
        has_ready = any(c.get("type") == "Ready" for c in st.get("conditions") or [])
        t.reason = "Running" if has_ready else "NotReady"


def pod_columns(p: Obj, now: datetime | None) -> tuple[str, str, str, str]:
    """READY, STATUS, RESTARTS, AGE (``printPod``)."""
    spec, st = p.get("spec") or {}, p.get("status") or {}
    inits = spec.get("initContainers") or []
    total = len(spec.get("containers") or []) + sum(1 for c in inits if _restartable(c))
    phase = st.get("phase") or ""
    conditions = st.get("conditions") or []
    gated = any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions
    )
    t = _Tally(reason="SchedulingGated" if gated else (st.get("reason") or phase))
    initializing = _walk_init_containers(spec, st, t)
    initialized = any(
        c.get("type") == "Initialized" and c.get("status") == "True" for c in conditions
    )
    if not initializing or initialized:
        _walk_containers(st, t)
    deleting = meta(p).get("deletionTimestamp")
    if deleting and st.get("reason") == "NodeLost":
        t.reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        t.reason = "Terminating"
    restarts_text = str(t.restarts)
    if t.restarts and t.last is not None:
        restarts_text = f"{t.restarts} ({since(t.last.isoformat(), now)} ago)"
    created = meta(p).get("creationTimestamp")
    return f"{t.ready}/{total}", t.reason, restarts_text, since(created, now)
