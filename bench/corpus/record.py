"""Record what the real toolset answers for the calls an investigator makes about one case.

Two sources of calls, merged: a systematic sweep (every list an on-call
engineer starts with, every object described, its events, every pod's logs)
and whatever the offline reasoner asks when it investigates the live case,
so a replay can answer both today's reasoner and a different one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.corpus.bundle import canonical
from nightshift.agent.investigation import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.agent.tools.replay import RecordingToolset, _record
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.k8s.toolset import KINDS, KubernetesToolset

Obj = dict[str, Any]
LISTS = [
    "pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "services",
    "endpoints", "events", "configmaps", "persistentvolumeclaims", "resourcequotas",
    "limitranges", "networkpolicies", "serviceaccounts",
]  # fmt: skip
WIDE = ("pods", "deployments", "replicasets", "statefulsets", "services", "endpoints")
DESCRIBED = [p for p in LISTS if p != "events"]
YAML = ("pods", "deployments", "statefulsets", "services", "networkpolicies", "jobs")


def sweep(api: KubeApi, ns: str) -> list[ToolCall]:
    calls: list[ToolCall] = []

    def c(tool: str, **params: Any) -> None:
        calls.append(ToolCall(tool, params))

    for kind in LISTS:
        c("kubectl_get", kind=kind, namespace=ns)
        if kind in WIDE:
            c("kubectl_get", kind=kind, namespace=ns, output="wide")
    c("kubectl_get", kind="pods", namespace=ns, output="labels")
    c("kubectl_get", kind="pods")
    c("kubectl_get", kind="events")
    c("kubectl_get", kind="nodes")
    c("kubectl_get", kind="nodes", output="wide")
    c("kubectl_get", kind="nodes", output="labels")
    c("kubectl_events", namespace=ns)
    c("kubectl_events")
    c("node_diagnostics")
    c("recent_changes")
    c("recent_changes", namespace=ns)
    for node in api.get("/api/v1/nodes").get("items", []):
        name = node["metadata"]["name"]
        c("kubectl_describe", kind="nodes", name=name)
        c("kubectl_get", kind="nodes", name=name, output="yaml")
        c("node_diagnostics", node=name)
    for plural in DESCRIBED:
        api_version, _, _, kind = KINDS[plural]
        for obj in api.get(resource_path(api_version, plural, ns)).get("items", []):
            name = obj["metadata"]["name"]
            if name == "kube-root-ca.crt":
                continue
            c("kubectl_describe", kind=plural, name=name, namespace=ns)
            c("kubectl_get", kind=plural, name=name, namespace=ns)
            if plural in YAML:
                c("kubectl_get", kind=plural, name=name, namespace=ns, output="yaml")
            c("kubectl_events", namespace=ns, kind=plural, name=name)
            if plural in ("deployments", "statefulsets"):
                c("kubectl_rollout_history", name=name, namespace=ns, kind=plural)
            if plural == "services":
                c("firewall_rules", target=name)
            if plural == "pods":
                c("kubectl_logs", pod=name, namespace=ns)
                c("kubectl_logs", pod=name, namespace=ns, previous=True)
    return calls


class _Keyed:
    """Records each distinct (tool, canonical params) once."""

    def __init__(self) -> None:
        self.records: dict[str, Obj] = {}

    def add(self, call: ToolCall, result: ToolResult) -> None:
        params = canonical(call.name, call.params)
        key = call.name + repr(sorted(params.items()))
        self.records.setdefault(key, _record(ToolCall(call.name, params), result))


async def record_case(
    api: KubeApi, ns: str, question: str, specs_out: list[str]
) -> tuple[list[Obj], dict[str, Any]]:
    """(records, the live run's outcome) for one staged case."""
    toolset = KubernetesToolset(api, [ns])
    keyed = _Keyed()
    for call in sweep(api, ns):
        keyed.add(call, await toolset.call(call))
    recording = RecordingToolset(toolset)
    request = InvestigationRequest(question=question, namespace=ns)
    diagnosis = await investigate(request, recording)
    for rec in recording.records:
        call = ToolCall(rec["call"]["name"], rec["call"]["params"])
        res = rec["result"]
        keyed.add(
            call, ToolResult(ToolStatus(res["status"]), res["text"], res["data"], res["error"])
        )
    specs: list[ToolSpec] = list(toolset.specs())
    specs_out[:] = [s.name for s in specs]
    top = diagnosis.top
    live = {
        "outcome": diagnosis.outcome.value,
        "top": top.to_dict() if top is not None else None,
        "calls": len(recording.records),
    }
    return list(keyed.records.values()), live


def record(api: KubeApi, ns: str, question: str) -> tuple[list[Obj], list[str], dict[str, Any]]:
    specs: list[str] = []
    records, live = asyncio.run(record_case(api, ns, question, specs))
    return records, specs, live
