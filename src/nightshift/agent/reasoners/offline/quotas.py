"""A ResourceQuota at its hard limit, and the objects it kept from being created.

The API server refuses a create over quota synchronously: no event records a
Service that was never created. What remains is the quota's own usage
(``services: 1/1``) and, downstream, callers that cannot resolve the missing
name ("no such host"). A quota at its limit for the kind of an object that
callers need and that does not exist is why it is missing: the fix is on the
quota (or on what uses it up), not on the callers' configuration.
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.domain.diagnosis import ResourceRef

_USAGE = re.compile(r"([\w./-]+):\s*(\d+(?:\.\d+)?)([a-zA-Z]*)/(\d+(?:\.\d+)?)([a-zA-Z]*)")
_SERVICES = frozenset({"services", "count/services"})


def quota_row(line: str, name: str, ns: str | None, topo: Topology) -> ResourceRef:
    """``NAME REQUEST LIMIT AGE`` rows: remember which resources are at their hard limit."""
    for res, used, uu, hard, hu in _USAGE.findall(line):
        if uu == hu and float(used) >= float(hard):
            topo.kinds[f"quota-full:{ns}:{res}"] = name
    return ResourceRef("ResourceQuota", name, ns)


def quota_findings(topo: Topology, out: Analysis) -> None:
    for svc, ns in sorted(topo.missing_services, key=lambda s: (s[0], s[1] or "")):
        quota = next(
            (
                topo.kinds[f"quota-full:{ns}:{r}"]
                for r in _SERVICES
                if f"quota-full:{ns}:{r}" in topo.kinds
            ),
            None,
        )
        if quota is None or svc in topo.blocked:
            continue
        ref = ResourceRef("ResourceQuota", quota, ns)
        topo.blocked[svc] = ref
        callers = sorted({s for s, h, _p in topo.dependencies() if h.split(".")[0] == svc})
        line = (
            f"ResourceQuota {quota} is at its services limit and Service {svc} does not exist"
            + (f"; {', '.join(callers)} cannot reach it" if callers else "")
        )
        out.findings.append(Finding("quota-exceeded", ref, line))
