"""Which scheduler predicate is the fault: the one that rules out the pod's own nodes.

A FailedScheduling message lists a reason for every node ("4 node(s) didn't
match Pod's node affinity/selector, 4 node(s) were unschedulable, 3 node(s)
had untolerated taint(s)"). Most of them are the cluster's normal shape: a
pod pinned to a pool does not match the other pools. What blocks the pod is
the predicate that rules out the nodes its selector *does* match. So a
selector "mismatch" is only the fault when no node carries the labels; when
some do, the fault is why those nodes refuse it: a cordon (the Node is
uncordoned), a node condition (the Node is repaired) or a taint the pod does
not tolerate (the workload gets a toleration).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Protocol, TypeVar

from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.domain.diagnosis import ResourceRef

# Before the node labels were read, a selector that matches nothing is unproven.
UNPROVEN_CAP = 0.8
REFUTED = 0.3
_NODE_FAULTS = (
    "kubelet-down",
    "container-runtime-failure",
    "cni-network-failure",
    "node-not-ready",
    "node-disk-pressure",
    "node-memory-pressure",
)


class _Belief(Protocol):
    @property
    def confidence(self) -> float: ...


B = TypeVar("B", bound=_Belief)
Key = tuple[ResourceRef, str]
Scale = Callable[[B, float, Key | None], B]


def selector_targets(topo: Topology, workload: str) -> list[str] | None:
    """The nodes whose labels satisfy the workload's nodeSelector (None: not known)."""
    selector = topo.node_selectors.get(workload)
    if not selector or not topo.node_labels:
        return None
    return sorted(
        n
        for n, labels in topo.node_labels.items()
        if all(labels.get(k) == v for k, v in selector.items())
    )


def retarget(out: MutableMapping[Key, B], topo: Topology, scale: Scale[B]) -> None:
    for key in [k for k in out if k[1] == "node-selector-mismatch"]:
        ref = key[0]
        b = out[key]
        targets = selector_targets(topo, ref.name)
        if targets is None:
            if not topo.node_labels:
                out[key] = scale(b, min(b.confidence, UNPROVEN_CAP), None)
            continue
        if not targets:
            continue  # no node carries the labels: the selector is the fault
        blocker = _blocker(out, topo, ref, targets, b, scale)
        out[key] = scale(b, b.confidence * REFUTED, blocker)


def _blocker(
    out: MutableMapping[Key, B],
    topo: Topology,
    ref: ResourceRef,
    targets: list[str],
    b: B,
    scale: Scale[B],
) -> Key | None:
    """Why the matching nodes refuse the pod; raises that hypothesis, returns its key."""
    for node in targets:
        status = topo.kinds.get(f"node-status:{node}", "")
        node_ref = ResourceRef("Node", node)
        if "SchedulingDisabled" in status:
            return _raise(out, (node_ref, "node-cordoned"), b, scale)
        found = [(node_ref, f) for f in _NODE_FAULTS if (node_ref, f) in out]
        if found:  # node_diagnostics read the failing condition: it is the cause
            return max(found, key=lambda k: out[k].confidence)
        if status.startswith("Ready"):
            return _raise(out, (ref, "untolerated-taint"), b, scale)
    return None


def _raise(out: MutableMapping[Key, B], key: Key, b: B, scale: Scale[B]) -> Key:
    prior = out.get(key)
    if prior is None or prior.confidence < b.confidence:
        base = prior if prior is not None else b
        out[key] = scale(base, max(b.confidence, prior.confidence if prior else 0.0), None)
    return key


_PREDICATES = frozenset(
    {
        "insufficient-cluster-resources",
        "pod-anti-affinity-conflict",
        "node-selector-mismatch",
        "untolerated-taint",
        "pvc-unbound",
        "volume-mount-failure",
    }
)


def irrelevant_cordons(
    out: MutableMapping[Key, B], topo: Topology, scale: Scale[B], noted: frozenset[str]
) -> None:
    """A cordoned node is not the pending pods' problem when their selectors exclude it,
    or when nothing recorded the cordon (``noted``: node names a change names) and
    another predicate rules out the schedulable nodes."""
    pending = {k[0].name for k in out if k[1] in ("node-selector-mismatch", "node-cordoned")}
    known = [t for t in (selector_targets(topo, w) for w in pending) if t is not None]
    allowed = {n for targets in known for n in targets}
    other = any(k[1] in _PREDICATES and out[k].confidence >= 0.5 for k in out)
    for key in [k for k in out if k[1] == "node-cordoned"]:
        node = key[0].name
        if key[0].kind == "Node":
            excluded = bool(known) and node not in allowed
            unrecorded = other and node.split(".")[0] not in noted and node not in allowed
        else:  # the workload-side copy: its pods hit a cordon nothing explains
            own = selector_targets(topo, node)
            targeted = own is not None and any(
                "SchedulingDisabled" in topo.kinds.get(f"node-status:{n}", "") for n in own
            )
            excluded = own is not None and not targeted
            unrecorded = other and not noted and not targeted
        if excluded or unrecorded:
            b = out[key]
            out[key] = scale(b, b.confidence * REFUTED, None)
