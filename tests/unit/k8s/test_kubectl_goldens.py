"""Our kubectl printers against what kubectl 1.37 printed for the same API objects.

The golden files come from scripts/dev/capture-kubectl-goldens (a real API
server, controller-manager, scheduler and KWOK). Ages depend on when kubectl
ran, within a few seconds of the capture, so each output is rendered at the
capture time plus 0..30 s and must match exactly at one of them. Where
kubectl's order is Go map or unstable-sort order (event ties, LimitRange
rows), those lines are compared as a set.
"""

from __future__ import annotations

import fnmatch
import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from nightshift.k8s import kubectl_text as text
from nightshift.k8s.kubectl_describe import Related, describe

GOLDEN = Path(__file__).with_name("golden")
ORDER_FREE = ("events", "get-events", "describe-limitranges-*", "describe-namespaces-*")
Obj = dict[str, Any]


@cache
def capture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / "capture.json").read_text("utf-8"))
    return data


def _objects() -> dict[str, list[Obj]]:
    objects: dict[str, list[Obj]] = capture()["objects"]
    return objects


def _events_about(obj: Obj) -> list[Obj]:
    m = obj["metadata"]
    return [
        e
        for e in _objects()["events"]
        if e["involvedObject"].get("name") == m["name"]
        and e["involvedObject"].get("kind") == obj.get("kind", e["involvedObject"].get("kind"))
        and e["involvedObject"].get("uid") == m.get("uid")
    ]


def _find(plural: str, name: str) -> Obj:
    found = next(o for o in _objects()[plural] if o["metadata"]["name"] == name)
    return found


KIND_OF = {
    "pods": "Pod",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
    "jobs": "Job",
    "services": "Service",
    "endpoints": "Endpoints",
    "configmaps": "ConfigMap",
    "serviceaccounts": "ServiceAccount",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "resourcequotas": "ResourceQuota",
    "limitranges": "LimitRange",
    "networkpolicies": "NetworkPolicy",
    "nodes": "Node",
    "namespaces": "Namespace",
}


def render(argv: list[str], now: datetime) -> str:
    objects = _objects()
    ns = argv[argv.index("-n") + 1] if "-n" in argv else None
    if argv[0] == "events":
        mine = [e for e in objects["events"] if e["metadata"].get("namespace") == ns]
        return text.events_table(mine, all_ns=False, now=now, namespace=ns)
    if argv[0] == "rollout":
        name = argv[2].split("/", 1)[1]
        uid = _find("deployments", name)["metadata"]["uid"]
        owned = [
            rs
            for rs in objects["replicasets"]
            if any(o["uid"] == uid for o in rs["metadata"].get("ownerReferences") or [])
        ]
        return text.rollout_history("deployment.apps", name, owned)
    plural = {"namespace": "namespaces"}.get(argv[1], argv[1])
    if argv[0] == "get":
        items = [o for o in objects[plural] if ns is None or o["metadata"].get("namespace") == ns]
        if len(argv) > 2 and not argv[2].startswith("-"):
            items = [_find(plural, argv[2])]
        wide = "wide" in argv
        labels = "--show-labels" in argv
        return text.get_table(plural, items, wide=wide, labels=labels, all_ns=False, now=now)
    obj = {**_find(plural, argv[2]), "kind": KIND_OF[plural]}
    lease = next(
        (x for x in objects["leases"] if x["metadata"]["name"] == obj["metadata"]["name"]), None
    )
    related = Related(
        events=_events_about(obj),
        pods=objects["pods"],
        replicasets=objects["replicasets"],
        endpointslices=objects["endpointslices"],
        quotas=objects["resourcequotas"],
        limitranges=objects["limitranges"],
        lease=lease,
    )
    return describe(plural, obj, related, now)


def _clean(s: str) -> list[str]:
    return [line.rstrip() for line in s.rstrip("\n").splitlines()]


def _same(name: str, ours: str, theirs: str) -> bool:
    a, b = _clean(ours), _clean(theirs)
    if a == b:
        return True
    if any(fnmatch.fnmatch(name, pattern) for pattern in ORDER_FREE):
        return sorted(a) == sorted(b)
    if name.startswith("describe-") and "Events:" in b and "Events:" in a:
        cut_a, cut_b = a.index("Events:"), b.index("Events:")
        return a[:cut_a] == b[:cut_b] and sorted(a[cut_a:]) == sorted(b[cut_b:])
    return False


def _names() -> list[str]:
    return sorted(capture()["commands"])


@pytest.mark.parametrize("name", _names())
def test_output_matches_kubectl(name: str) -> None:
    argv = capture()["commands"][name]
    theirs = (GOLDEN / f"{name}.txt").read_text("utf-8")
    taken = datetime.fromisoformat(capture()["captured_at"])
    outputs = [render(argv, taken + timedelta(seconds=s)) for s in range(-2, 31)]
    if not any(_same(name, ours, theirs) for ours in outputs):
        closest = outputs[2]
        pytest.fail(
            f"kubectl {' '.join(argv)} differs:\n--- ours\n{closest}\n--- kubectl\n{theirs}"
        )


def test_the_goldens_cover_the_kinds_an_investigation_reads() -> None:
    commands = capture()["commands"]
    for prefix in ("get-pods-wide", "describe-pods-", "describe-nodes-", "describe-services-"):
        assert any(n.startswith(prefix) for n in commands), prefix
    assert "events" in commands and "rollout-history-web" in commands
