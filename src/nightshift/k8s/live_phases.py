"""The phase each agent runs at on the cluster: the labels of its phase
ServiceAccounts (k8s.manifests), one per agent when the cluster is as declared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from nightshift.k8s.client import resource_path
from nightshift.k8s.jobs import LABEL_AGENT, LABEL_PHASE, MANAGED_BY


class Reads(Protocol):
    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


def live_phases(api: Reads, agents_namespace: str) -> dict[str, list[str]]:
    """``{agent label: [phase, ...]}`` of the Nightshift ServiceAccounts in the namespace."""
    listed = api.get(
        resource_path("v1", "serviceaccounts", agents_namespace),
        {"labelSelector": f"{MANAGED_BY}=nightshift"},
    )
    out: dict[str, list[str]] = {}
    for sa in listed.get("items") or []:
        labels = (sa.get("metadata") or {}).get("labels") or {}
        agent, phase = labels.get(LABEL_AGENT), labels.get(LABEL_PHASE)
        if agent and phase:
            out.setdefault(str(agent), []).append(str(phase))
    return out
