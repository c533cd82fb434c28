"""Name lookups that time out behind a policy denying the pod's egress blame the policy."""

from __future__ import annotations

import json
from pathlib import Path

from nightshift.agent.investigation import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.holmes_fixtures import HolmesFixtureToolset
from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.agent.tools.static import StaticToolset

CLIENT_LOGS = """\
Starting connection tests to http://nginx-service.web
Success! Status Code: 200, Time: 2025-06-20 13:14:30
Connection error: HTTPConnectionPool(host='nginx-service.web', port=80): Max retries exceeded with url: / (Caused by NameResolutionError("<urllib3.connection.HTTPConnection object at 0x7f5966fb6e90>: Failed to resolve 'nginx-service.web' ([Errno -3] Try again)")) - Time: 2025-06-20 13:14:40
Connection error: HTTPConnectionPool(host='nginx-service.web', port=80): Max retries exceeded with url: / (Caused by NameResolutionError("<urllib3.connection.HTTPConnection object at 0x7f5966fb7890>: Failed to resolve 'nginx-service.web' ([Errno -3] Try again)")) - Time: 2025-06-20 13:14:50
"""  # noqa: E501
NXDOMAIN_LOGS = CLIENT_LOGS.replace("[Errno -3] Try again", "[Errno -2] Name or service not known")
POLICIES = """\
NAME                  POD-SELECTOR   AGE
default-deny-egress   <none>         38m
"""
INGRESS_ONLY = """\
NAME                   POD-SELECTOR   AGE
default-deny-ingress   <none>         38m
"""


def _tools(logs: str, policies: str) -> StaticToolset:
    return StaticToolset(
        [
            ("kubectl_logs", {}, logs),
            ("kubectl_get", {"kind": "networkpolicy"}, policies),
            ("kubectl_get", {"kind": "networkpolicys"}, policies),
            ("kubectl_get", {"kind": "networkpolicies"}, policies),
        ],
        tools=["kubectl_get", "kubectl_logs"],
    )


def _request() -> InvestigationRequest:
    return InvestigationRequest(
        "AppDown The application is down",
        alert_labels={"namespace": "shop", "pod": "client"},
        namespace="shop",
    )


async def test_lookups_timing_out_behind_an_egress_deny_policy_blame_the_policy() -> None:
    d = await investigate(_request(), _tools(CLIENT_LOGS, POLICIES))
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "network-policy-blocking",
        "NetworkPolicy",
        "default-deny-egress",
    )


async def test_a_name_the_server_answered_as_unknown_is_not_the_policy() -> None:
    d = await investigate(_request(), _tools(NXDOMAIN_LOGS, POLICIES))
    assert d.top is not None
    assert d.top.resource.kind != "NetworkPolicy"


async def test_an_ingress_only_policy_does_not_explain_failed_lookups() -> None:
    d = await investigate(_request(), _tools(CLIENT_LOGS, INGRESS_ONLY))
    assert d.top is not None
    assert d.top.resource.kind != "NetworkPolicy"


LINEAGE = """\
NAME                                    READY   STATUS                                                      AGE
Pod/client                              1/1     Running                                                     38m
├── Event/client.184ac281808b0904       -       Scheduled: Successfully assigned shop/client to worker-1    38m
└── NetworkPolicy/default-deny-egress   -                                                                   38m
"""  # noqa: E501


async def test_a_kind_listing_without_recording_is_answered_from_the_lineage_tree(
    tmp_path: Path,
) -> None:
    match = {"kind": "Pod", "name": "client", "namespace": "shop"}
    head = {
        "toolset_name": "kube-lineage",
        "tool_name": "kubectl_lineage_children",
        "match_params": match,
    }
    tmp_path.joinpath("lineage.txt").write_text(
        f"{json.dumps(head)}\n{json.dumps({'status': 'success'})}\n{LINEAGE}", encoding="utf-8"
    )
    tools = HolmesFixtureToolset(tmp_path)
    listing = {"kind": "networkpolicies", "namespace": "shop"}
    got = await tools.call(ToolCall("kubectl_get", listing))
    assert got.status is ToolStatus.OK
    assert got.text.split("\n")[1].split() == ["default-deny-egress", "38m"]
    other = await tools.call(ToolCall("kubectl_get", {"kind": "service", "namespace": "shop"}))
    assert other.status is ToolStatus.NO_DATA
