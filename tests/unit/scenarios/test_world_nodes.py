"""node_diagnostics in the simulated world reads like the live tool (k8s/nodes.py)."""

from __future__ import annotations

from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.scenarios import SimulatedWorld

LOST = "ip-10-0-38-7.eu-west-1.compute.internal"


def test_every_node_is_summarised_and_the_lost_one_detailed() -> None:
    world = SimulatedWorld("sessions-partially-lost")
    res = world.call_sync(ToolCall("node_diagnostics", {}))
    assert res.status is ToolStatus.OK
    header, *rows = res.text.split("\n\n")[0].splitlines()
    assert header.split() == ["NAME", "STATUS", "PROBLEMS", "TAINTS"]
    lost = next(r for r in rows if r.startswith(LOST))
    assert "NotReady" in lost and "Ready=Unknown" in lost
    assert f"Node {LOST}: NotReady" in res.text
    assert "Taints: node.kubernetes.io/unreachable:NoExecute" in res.text
    assert "kube-proxy-" in res.text and "NodeNotReady" in res.text
    assert res.data is not None and "Ready=Unknown" in res.data["nodes"][LOST]


def test_one_node_by_name_and_an_unknown_one() -> None:
    world = SimulatedWorld("sessions-partially-lost")
    one = world.call_sync(ToolCall("node_diagnostics", {"node": LOST}))
    assert one.text.startswith(f"Node {LOST}: NotReady")
    assert "not checked: this identity may not get nodes/proxy (RBAC)" in one.text
    missing = world.call_sync(ToolCall("node_diagnostics", {"node": "nope"}))
    assert missing.status is ToolStatus.NO_DATA and "not found" in missing.text
