"""Reading the request: which resources, kinds and namespaces it names.

Understands free text ("job java-api-checker in namespace app-12", "the
test-1 namespace"), inline references (``<< {"type": "pod", "name": ...} >>``)
and alert labels. Purely lexical; nothing in the text is executed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from nightshift.agent.reasoners.offline.topology import names_in, workload_name
from nightshift.agent.request import InvestigationRequest

_REF = re.compile(r"<<\s*(\{.*?\})\s*>>", re.S)
_NS = re.compile(
    r"\b(?:in|under|within|from|to)\s+(?:the\s+)?namespace\s+[`'\"]?([a-z0-9][a-z0-9-]*)[`'\"]?|"
    r"\bnamespace\s*[:=]\s*[`'\"]?([a-z0-9][a-z0-9-]*)[`'\"]?|"
    r"\bnamespace\s+`([a-z0-9][a-z0-9-]*)`|"
    r"\bin (?:the )?[`'\"]?([a-z0-9][a-z0-9-]*)[`'\"]? namespace",
    re.I,
)
_KIND = re.compile(
    r"\b(pod|deployment|job|cronjob|statefulset|daemonset|service|pvc|persistentvolumeclaim|node|workload|app)\s+[`'\"]?([a-z0-9][\w.-]*[a-z0-9])[`'\"]?",
    re.I,
)
_AFTER = re.compile(
    r"\b(?:with|about|of|for|is|does|did|are)\s+(?:the\s+|my\s+|our\s+)?[`'\"]?([a-z][a-z0-9-]{2,})[`'\"]?",
    re.I,
)
_BEFORE_KIND = re.compile(
    r"[`'\"]?([a-z][a-z0-9-]{2,})[`'\"]?\s+(pod|deployment|job|statefulset|daemonset|service|app|workload)s?\b",
    re.I,
)
_TICKED = re.compile(r"`([a-z0-9][\w.-]*)`", re.I)
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "there",
        "this",
        "that",
        "these",
        "those",
        "my",
        "our",
        "your",
        "it",
        "its",
        "any",
        "all",
        "some",
        "high",
        "low",
        "slow",
        "pod",
        "pods",
        "app",
        "apps",
        "application",
        "namespace",
        "cluster",
        "issue",
        "issues",
        "problem",
        "problems",
        "error",
        "errors",
        "wrong",
        "going",
        "happening",
        "running",
        "healthy",
        "unhealthy",
        "failing",
        "failed",
        "down",
        "up",
        "not",
        "why",
        "what",
        "how",
        "when",
        "where",
        "which",
        "who",
        "latency",
        "memory",
        "cpu",
        "disk",
        "network",
        "logs",
        "log",
        "events",
        "alert",
        "alerts",
        "kubernetes",
        "k8s",
        "node",
        "nodes",
        "service",
        "services",
        "deployment",
        "deployments",
        "job",
        "jobs",
        "container",
        "containers",
        "crashing",
        "crash",
        "restarting",
        "pending",
        "stuck",
        "broken",
        "working",
        "able",
        "unable",
        "using",
        "used",
        "use",
        "with",
        "in",
        "on",
        "at",
        "to",
        "from",
        "under",
        "about",
        "of",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "by",
        "and",
        "or",
    ]
)
_KIND_NORMAL = {"pvc": "persistentvolumeclaim", "workload": "", "app": ""}
_LABEL_KINDS = {
    "pod": "pod",
    "deployment": "deployment",
    "job": "job",
    "statefulset": "statefulset",
    "service": "service",
    "node": "node",
    "daemonset": "daemonset",
}
_NOT_NAMES = {
    "crash-looping",
    "high-latency",
    "front-end",
    "out-of-memory",
    "time-series",
    "in-cluster",
    "k8s",
    "non-root",
}


@dataclass(slots=True)
class Mentions:
    names: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    namespace: str | None = None

    def add(self, name: str, kind: str = "") -> None:
        name = name.strip().strip("`'\".,")
        if not name or name in _NOT_NAMES or name.lower() in ("the", "a", "an", "is", "in"):
            return
        if name not in self.names:
            self.names.append(name)
        if kind and name not in self.kinds:
            self.kinds[name] = kind


def read_request(req: InvestigationRequest) -> Mentions:
    m = Mentions(namespace=req.namespace)
    if req.resource:
        kind, _, name = req.resource.rpartition("/")
        m.add(name, kind.lower())
    _read_labels(req.alert_labels, m)
    text = req.question
    _read_inline_refs(text, m)
    namespaces = {g for match in _NS.finditer(text) for g in match.groups() if g}
    if m.namespace is None and len(namespaces) == 1:
        m.namespace = next(iter(namespaces))
    _read_free_text(_REF.sub(" ", text), namespaces, m)
    return m


def _read_labels(labels: Mapping[str, str], m: Mentions) -> None:
    """Alert labels: the subject's name and kind, per-kind labels, the namespace."""
    subject_kind = (labels.get("kind") or labels.get("subject_type") or "").lower()
    if labels.get("name"):
        name = labels["name"]
        kind = "pod" if workload_name(name) != name else _LABEL_KINDS.get(subject_kind, "")
        m.add(name, kind)
    for key, value in labels.items():
        if key in _LABEL_KINDS and value:
            m.add(value, _LABEL_KINDS[key])
    if labels.get("namespace") and m.namespace is None:
        m.namespace = labels["namespace"]


def _read_inline_refs(text: str, m: Mentions) -> None:
    """``<< {"type": "pod", "name": ..., "namespace": ...} >>`` references; bad JSON is skipped."""
    for ref in _REF.finditer(text):
        try:
            obj = json.loads(ref.group(1))
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("name"), str):
            m.add(obj["name"], str(obj.get("type", "")).lower())
            if isinstance(obj.get("namespace"), str) and m.namespace is None:
                m.namespace = obj["namespace"]


def _read_free_text(plain: str, namespaces: set[str], m: Mentions) -> None:
    """Names in the prose, most explicit first: "job x", `x`, "x pod", "about x", bare names.

    A word the text names as a namespace is never also a resource name."""
    for match in _KIND.finditer(plain):
        kind = match.group(1).lower()
        if match.group(2).lower() in namespaces or match.group(2).lower() in _STOP | {"in", "is"}:
            continue
        m.add(match.group(2), _KIND_NORMAL.get(kind, kind))
    for match in _TICKED.finditer(plain):
        if match.group(1).lower() not in namespaces:
            m.add(match.group(1))
    for match in _BEFORE_KIND.finditer(plain):
        name = match.group(1).lower()
        if name not in _STOP and name not in namespaces:
            m.add(name, _KIND_NORMAL.get(match.group(2).lower(), match.group(2).lower()))
    for match in _AFTER.finditer(plain):
        name = match.group(1).lower()
        if name not in _STOP and name not in namespaces:
            m.add(name)
    for name in names_in(plain):
        if name not in namespaces:
            m.add(name)
