"""An investigation scoped to a namespace orients itself in that namespace."""

from __future__ import annotations

from nightshift.agent.api import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.static import StaticToolset

PODS = """\
NAME                      READY   STATUS             RESTARTS   AGE
cart-5f6d8c7b9d-m7n2q     0/1     CrashLoopBackOff   7          12m
"""


async def test_recent_changes_is_asked_for_the_hinted_namespace_only() -> None:
    toolset = StaticToolset([("kubectl_get", {"kind": "pods"}, PODS)])
    await investigate(InvestigationRequest("cart is failing", namespace="shop"), toolset)
    asked = [c.params for c in toolset.calls if c.name == "recent_changes"]
    assert asked
    assert all(p.get("namespace") == "shop" for p in asked)


async def test_without_a_namespace_recent_changes_reads_the_whole_cluster() -> None:
    toolset = StaticToolset([("kubectl_get", {"kind": "pods"}, PODS)])
    await investigate(InvestigationRequest("cart is failing"), toolset)
    asked = [c.params for c in toolset.calls if c.name == "recent_changes"]
    assert asked
    assert all("namespace" not in p for p in asked)
