"""Reading structure out of ``kubectl describe pod`` and log text.

The signal table matches lines one at a time; some facts need the section a
line sits in: whether a failing container is an *init* container (the pod
never starts, its app container never ran), which pod an IP belongs to
(``-o wide`` / ``IP:``), and which caller an incoming-request log line names
(``remoteAddress``), so a slow or failing callee can be told from its callers.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.kinds import kind_name
from nightshift.agent.reasoners.offline.topology import Topology, workload_name
from nightshift.agent.tools.protocol import ToolCall, ToolResult
from nightshift.domain.diagnosis import ResourceRef

_INIT_HEAD = re.compile(r"^Init Containers:\s*$", re.M)
_NEXT_TOP = re.compile(r"^\S", re.M)  # the next top-level field ends the section
_CONTAINER = re.compile(r"^  ([a-z0-9][\w.-]*):\s*$", re.M)
_BAD_STATE = re.compile(
    r"^\s+(?:State|Last State):\s+(?:Terminated|Waiting)\s*\n"
    r"(?:\s+Reason:\s+(?P<reason>\S+)\s*\n)?(?:[^\n]*\n){0,3}?"
    r"(?:\s+Exit Code:\s+(?P<code>\d+))?",
    re.M,
)
_REASONS_BAD = {"Error", "CrashLoopBackOff", "OOMKilled", "ContainerCannotRun", "StartError"}
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_DESCRIBE_IP = re.compile(r"^IPs?:\s+(?:IP:\s+)?((?:\d{1,3}\.){3}\d{1,3})\s*$", re.M)
# Who called: request logs of Node (pino/fastify), Go, Python and nginx-style servers.
_CALLER = re.compile(
    r"(?:remoteAddress|remote_addr|remoteAddr|client_ip|clientIP|peer\.address|"
    r"x-forwarded-for|\"client\"|client:)\W{0,4}(?:::ffff:)?((?:\d{1,3}\.){3}\d{1,3})\b",
    re.I,
)


def init_failures(text: str) -> list[str]:
    """One line per init container that ended badly or is crash looping."""
    head = _INIT_HEAD.search(text)
    if head is None:
        return []
    end = _NEXT_TOP.search(text, head.end())
    section = text[head.end() : end.start() if end else len(text)]
    starts = list(_CONTAINER.finditer(section))
    out: list[str] = []
    for i, m in enumerate(starts):
        block = section[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(section)]
        details: list[str] = []
        for state in _BAD_STATE.finditer(block):
            reason, code = state.group("reason"), state.group("code")
            if reason in _REASONS_BAD or (code is not None and code != "0"):
                parts = (reason, f"Exit Code {code}" if code is not None else "")
                details.append(", ".join(x for x in parts if x))
        if details:
            out.append(f"Init container {m.group(1)} failed: {'; '.join(details)}")
    return out


_NEW_RS = re.compile(r"^NewReplicaSet:\s+([a-z0-9][\w.-]*)", re.M)
_UNAVAILABLE = re.compile(r"^Replicas:.*?\b([1-9]\d*) unavailable", re.M)
_STALLED = re.compile(r"^\s+(ReplicaFailure\s+True|Progressing\s+False|Available\s+False)", re.M)


def stalled_replicaset(text: str) -> str | None:
    """The Deployment's current ReplicaSet when it is short of pods.

    Pod-creation failures (quota, admission webhooks, service accounts) are
    reported as events on the ReplicaSet, not on the Deployment or a pod."""
    rs = _NEW_RS.search(text)
    if rs is None or not (_UNAVAILABLE.search(text) or _STALLED.search(text)):
        return None
    return rs.group(1)


def pod_ip(tokens: list[str], start: int) -> str | None:
    """The pod IP column of a ``kubectl get pods -o wide`` row (after AGE)."""
    for tok in tokens[start:]:
        if _IPV4.match(tok):
            return tok
    return None


def describe_ip(text: str) -> str | None:
    m = _DESCRIBE_IP.search(text)
    return m.group(1) if m else None


_CALLER_HINTS = ("remote", "client", "peer", "forwarded")


# Database-side client notations: PgBouncer's "C-0x...: db/user@10.1.2.3:40212"
# (C- is a client link, S- a server one) and PostgreSQL's "connection received: host=".
_DB_CLIENT = re.compile(
    r"\bC-0x[0-9a-f]+:\s+[\w.-]+/[\w.-]+@((?:\d{1,3}\.){3}\d{1,3}):\d+|"
    r"connection received: host=((?:\d{1,3}\.){3}\d{1,3})\b"
)


def callers(text: str) -> set[str]:
    """IP addresses that made requests, as request logs name them."""
    # every alternative of _CALLER holds one of the hint words: one pass over the text
    lowered = text.lower()
    if not any(h in lowered for h in _CALLER_HINTS):
        return set()
    # Every _CALLER match starts at most 2 characters before its hint word and is
    # under 50 long: matching in a window around each hint is the same set, and
    # cheap on long logs where the pattern otherwise is tried at every character.
    found: set[str] = set()
    for hint in _CALLER_HINTS:
        at = lowered.find(hint)
        while at >= 0:
            window = text[max(0, at - 2) : at + 80]
            found.update(m.group(1) for m in _CALLER.finditer(window))
            at = lowered.find(hint, at + 1)
    if "C-0x" in text or "connection received" in text:  # one pass, only where it can match
        found.update(m.group(1) or m.group(2) for m in _DB_CLIENT.finditer(text))
    return found


_AUTOSCALERS = {
    "scaledobject": "KEDA ScaledObject",
    "scaledjob": "KEDA ScaledJob",
    "verticalpodautoscaler": "VerticalPodAutoscaler",
    "vpa": "VerticalPodAutoscaler",
}
_NO_KIND = re.compile(
    r"the server doesn't have a resource type[^\n]*|no matches for kind[^\n]*|"
    r"resource mapping not found[^\n]*"
)


def missing_autoscaler(call: ToolCall, result: ToolResult, topo: Topology, out: Analysis) -> None:
    """Asking for an autoscaler kind the API server does not know: its CRD is absent."""
    kind = (_str(call.params.get("kind")) or "").lower().rstrip("s")
    if call.name != "kubectl_get" or kind not in _AUTOSCALERS:
        return
    m = _NO_KIND.search(f"{result.text}\n{result.error or ''}")
    if m is None:
        return
    ns = _str(call.params.get("namespace"))
    target = next((n for n in topo.names if topo.kinds.get(n, "") != "namespace"), "cluster")
    tkind = kind_name(topo.kinds.get(target) or "Deployment")
    what = _AUTOSCALERS[kind]
    line = (
        f"{m.group(0).strip()} -- the {what} API is not installed in this cluster, "
        f"so no {what} scales {target}; check for a HorizontalPodAutoscaler instead"
    )
    out.findings.append(Finding("autoscaler-missing", ResourceRef(tkind, target, ns), line[:240]))


def link_callers(text: str, subject: ResourceRef, topo: Topology) -> None:
    """Request logs naming a caller's pod IP: that caller depends on this workload."""
    for ip in callers(text):
        pod = topo.ips.get(ip)
        caller = workload_name(pod) if pod else None
        if caller and caller != subject.name:
            topo.add_dependency(caller, subject.name, None)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# The line a human reads first in a crash log: Python's final "XError: msg"
# after a traceback, Java's innermost "Caused by:", Go's "panic:" / "fatal error:",
# Node's "Error: ..." after "throw er" / "Uncaught".
_PY_LAST = re.compile(r"^Traceback \(most recent call last\):\s*$", re.M)
_PY_ERROR = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*)$", re.M)
_JAVA_CAUSE = re.compile(r"^\s*Caused by: (\S+.*)$", re.M)
_GO_PANIC = re.compile(r"^(panic: .+|fatal error: .+)$", re.M)
_NODE_ERROR = re.compile(
    r"^\s*(?:Uncaught )?((?:[A-Z]\w*)?Error(?: \[\w+\])?: .+)$|^(Error: .+)$", re.M
)


def _last(matches: Iterator[re.Match[str]]) -> re.Match[str] | None:
    last = deque(matches, maxlen=1)
    return last[0] if last else None


def root_error(text: str) -> str | None:
    """The innermost / final error message of the last stack trace in a log."""
    last_tb = _last(_PY_LAST.finditer(text))
    if last_tb is not None:
        m = _PY_ERROR.search(text, last_tb.end())
        if m:
            return m.group(1).strip()[:240]
    causes = _JAVA_CAUSE.findall(text)
    if causes:
        return f"Caused by: {causes[-1].strip()}"[:240]
    panic = _GO_PANIC.search(text)
    if panic:
        return panic.group(1).strip()[:240]
    node = _last(_NODE_ERROR.finditer(text))
    if node is not None:
        return (node.group(1) or node.group(2) or "").strip()[:240] or None
    return None


_HEX_RUN = re.compile(r"\b[0a-f]{8,}\b")  # ids and trace ids, once digits are zeros
_ZEROS = str.maketrans("123456789", "000000000")  # times, ports, counters


def distinct_lines(text: str) -> str:
    """The log with lines that differ only in their digits (times, ids, ports) once.

    Logs repeat one message thousands of times; matching each variant once
    keeps large logs cheap. Digits become 0 rather than vanishing, so "took
    950ms" and "took 1200ms" stay distinct."""
    if len(text) < 20_000:
        return text
    keys = _HEX_RUN.sub("0", text.translate(_ZEROS)).split("\n")
    lines = text.split("\n")
    seen: set[str] = set()
    kept: list[str] = []
    for key, line in zip(keys, lines, strict=True):
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return "\n".join(kept)
