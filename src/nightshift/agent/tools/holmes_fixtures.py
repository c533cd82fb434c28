"""Replay adapter for the recorded HolmesGPT evaluation fixtures.

One case folder holds ``*.txt`` recordings: line 1 ``{"tool_name",
"match_params"}``, line 2 metadata with ``status``, then the raw output. Our
canonical calls are translated to their tool names and parameters (see
``_translate``) and matched against ``match_params``: a recorded key whose
value is ``null`` matches anything; a recorded key we cannot express in the
canonical call (their ``limit``/``filter`` log options) is ignored; every
other key must be equal (kinds compared case-insensitively and singular).
``kubectl_find_resource`` greps by keyword, so a recording made for a keyword
contained in our name (or containing it) answers our lookup. Namespaces in
this corpus were renamed after recording and disagree between files of one
case, so a call that matches nothing in its namespace is retried ignoring the
namespace. No recording means ``NO_DATA``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nightshift.agent.tools.catalog import BY_NAME
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus

SUPPORTED = (
    "list_alerts",
    "kubectl_get",
    "kubectl_describe",
    "kubectl_logs",
    "kubectl_events",
    "kubectl_top",
    "recent_changes",
)
_STATUS = {"success": ToolStatus.OK, "error": ToolStatus.ERROR, "no_data": ToolStatus.NO_DATA}
_KIND_ALIASES = {
    "po": "pod",
    "pvc": "persistentvolumeclaim",
    "svc": "service",
    "deploy": "deployment",
    "ns": "namespace",
    "hpa": "horizontalpodautoscaler",
}
# "├── NetworkPolicy/default-deny-egress   -   38m": kind, name, last column (age).
_LINEAGE_ROW = re.compile(r"[├└]── ([A-Za-z]+)/([a-z0-9][a-z0-9.-]*)\s.*?(\S+)\s*$", re.M)
_OPAQUE = {"limit", "filter", "start_time", "end_time", "exclude_filter"}


@dataclass(frozen=True, slots=True)
class Recording:
    tool: str
    match: Mapping[str, Any]
    status: ToolStatus
    text: str
    file: str


def _kind(value: object) -> str:
    k = str(value or "").lower()
    k = _KIND_ALIASES.get(k, k)
    if k.endswith("ies"):  # networkpolicies
        return k[:-3] + "y"
    return k[:-1] if k.endswith("s") and k not in ("status", "ingress") else k


def _parse(path: Path) -> Recording | None:
    try:
        lines = path.read_text("utf-8", errors="replace").split("\n", 2)
        head, meta = json.loads(lines[0]), json.loads(lines[1])
    except (ValueError, IndexError):
        return None
    body = lines[2] if len(lines) > 2 else ""
    if body.startswith("stdout:\n"):
        body = body[len("stdout:\n") :]
    out, sep, err = body.rpartition("\nstderr:")
    text = out if sep else body
    if sep and err.strip():
        text += "\nstderr:" + err
    status = _STATUS.get(str(meta.get("status")), ToolStatus.OK)
    return Recording(
        str(head.get("tool_name")),
        dict(head.get("match_params") or {}),
        status,
        text.strip("\n"),
        path.name,
    )


def _translate(call: ToolCall) -> list[tuple[str, dict[str, Any]]]:
    p = dict(call.params)
    kind, name, ns = _kind(p.get("kind")), p.get("name"), p.get("namespace")
    if call.name == "kubectl_get":
        if p.get("output") == "yaml" and name:
            return [("kubectl_get_yaml", {"kind": kind, "name": name, "namespace": ns})]
        if name:
            return [
                ("kubectl_get_by_name", {"kind": kind, "name": name, "namespace": ns}),
                ("kubectl_find_resource", {"kind": kind, "keyword": name}),
            ]
        if ns:
            return [("kubectl_get_by_kind_in_namespace", {"kind": kind, "namespace": ns})]
        return [("kubectl_get_by_kind_in_cluster", {"kind": kind})]
    if call.name == "kubectl_describe":
        return [("kubectl_describe", {"kind": kind, "name": name, "namespace": ns})]
    if call.name == "kubectl_logs":
        q = {"pod_name": p.get("pod"), "namespace": ns}
        if p.get("previous"):
            return [("kubectl_previous_logs", q), ("kubectl_previous_logs_all_containers", q)]
        return [("fetch_pod_logs", q), ("kubectl_logs", q), ("kubectl_logs_all_containers", q)]
    if call.name == "kubectl_events":
        return [
            (
                "kubectl_events",
                {
                    "resource_type": kind or None,
                    "resource_name": name,
                    "pod_name": name,
                    "namespace": ns,
                },
            )
        ]
    if call.name == "kubectl_top":
        return [("kubectl_top_nodes" if kind == "node" else "kubectl_top_pods", {})]
    if call.name == "recent_changes":
        return [("fetch_configuration_changes_metadata", {})]
    return []


def _matches(rec: Recording, tool: str, params: Mapping[str, Any]) -> bool:
    if rec.tool != tool:
        return False
    for key, want in rec.match.items():
        have = params.get(key)
        if (
            want is None
            or key in _OPAQUE
            or (have is None and key in ("namespace", "pod_name", "resource_name"))
        ):
            continue
        if key == "kind" or key == "resource_type":
            if _kind(want) != _kind(have):
                return False
        elif key == "keyword":
            if have is None or not (str(want) in str(have) or str(have) in str(want)):
                return False
        elif have != want:
            return False
    return True


class HolmesFixtureToolset:
    """Answers canonical calls from one recorded case folder."""

    def __init__(self, case_dir: Path) -> None:
        self.case_dir = case_dir
        recs = [_parse(p) for p in sorted(case_dir.glob("*.txt"))]
        self.recordings = [r for r in recs if r is not None]
        self.alert_text = _alert_text(case_dir / "investigate_request.json")

    def specs(self) -> Sequence[ToolSpec]:
        return tuple(BY_NAME[n] for n in SUPPORTED)

    async def call(self, call: ToolCall) -> ToolResult:
        if call.name == "list_alerts":
            # The firing alert, plus the recorded alert details (their
            # fetch_finding_by_id is the same question: what is this alert about).
            details = [r.text for r in self.recordings if r.tool == "fetch_finding_by_id"]
            text = "\n".join([self.alert_text, *details]).strip()
            if text:
                return ToolResult(ToolStatus.OK, text, {"recording": "alert"})
            return ToolResult(ToolStatus.NO_DATA, "", error="no alert recorded")
        for soft_namespace in (False, True):
            for tool, params in _translate(call):
                if soft_namespace:
                    params = {k: v for k, v in params.items() if k != "namespace"}
                for rec in self.recordings:
                    if _matches(rec, tool, params):
                        return ToolResult(rec.status, rec.text, {"recording": rec.file})
        listed = self._from_lineage(call)
        if listed is not None:
            return listed
        return ToolResult(ToolStatus.NO_DATA, "", error="no recording for this call")

    def _from_lineage(self, call: ToolCall) -> ToolResult | None:
        """A kind listing answered from recorded ``kube-lineage`` trees.

        kube-lineage prints the objects related to a resource (its events, the
        NetworkPolicies that select it, its ServiceAccount ...) as ``Kind/name``
        rows: for a kind listing without a recording those rows are the real
        objects of that kind the cluster had, a subset (the related ones) of
        the listing, printed as a ``kubectl get`` table.
        """
        p = call.params
        if call.name != "kubectl_get" or p.get("name") or not p.get("kind"):
            return None
        kind, ns = _kind(p.get("kind")), p.get("namespace")
        rows: dict[str, str] = {}
        for rec in self.recordings:
            if not rec.tool.startswith("kubectl_lineage") or rec.status is not ToolStatus.OK:
                continue
            if ns and rec.match.get("namespace") not in (None, ns):
                continue
            for m in _LINEAGE_ROW.finditer(rec.text):
                if _kind(m.group(1)) == kind:
                    rows.setdefault(m.group(2), m.group(3))
        if not rows:
            return None
        table = "\n".join(f"{name:<40} {age}" for name, age in rows.items())
        return ToolResult(ToolStatus.OK, f"{'NAME':<40} AGE\n{table}", {"recording": "lineage"})


def _alert_text(path: Path) -> str:
    """The alert that started a recorded investigation, as one firing-alert row."""
    if not path.exists():
        return ""
    try:
        alert = json.loads(path.read_text("utf-8"))
    except ValueError:
        return ""
    subject = alert.get("subject") or {}
    kind = str(subject.get("kind") or subject.get("subject_type") or "").lower()
    target = (
        f"{kind}/{subject['name']}"
        if kind and subject.get("name")
        else str(subject.get("name") or "-")
    )
    ns = subject.get("namespace") or "-"
    title = alert.get("title", "")
    desc = alert.get("description", "")
    return (
        f"NAME\tSEVERITY\tNAMESPACE\tTARGET\tDESCRIPTION\n{title}\twarning\t{ns}\t{target}\t{desc}"
    )
