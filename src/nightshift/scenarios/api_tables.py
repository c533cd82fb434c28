"""``kubectl get`` tables of the simulated world through the real toolset's printer.

The world's objects become API objects (render_yaml builds them for ``-o
yaml``); nightshift.k8s.kubectl_text prints those exactly as it prints a live
cluster's, so the reasoner reads one kubectl dialect everywhere. Kinds whose
simulated API object does not yet carry every field its columns need keep the
scenario printer (render_get.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nightshift.k8s.kubectl_text import get_table
from nightshift.scenarios.kinds import Kind
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.render_yaml import api_object

SHARED = frozenset(
    {
        "Pod",
        "Deployment",
        "StatefulSet",
        "Service",
        "Endpoints",
        "Node",
        "ConfigMap",
        "Namespace",
        "NetworkPolicy",
        "ResourceQuota",
    }
)


def shared_table(
    state: WorldState,
    kind: Kind,
    items: list[Any],
    now: datetime,
    *,
    all_namespaces: bool,
    output: str | None,
    prefix: str = "",
) -> str:
    objects = [api_object(state, kind, o, now) for o in items]
    return get_table(
        kind.resource.split(".")[0],
        objects,
        wide=output == "wide",
        labels=output == "labels",
        all_ns=all_namespaces and kind.namespaced,
        now=now,
        prefix=prefix,
    )
