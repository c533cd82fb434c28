"""A change is tied to the failure it caused by what it wrote, and objects keep their kinds."""

from __future__ import annotations

from nightshift.agent.investigation import investigate
from nightshift.agent.reasoners.offline.analyzers import analyze
from nightshift.agent.reasoners.offline.beliefs import Beliefs
from nightshift.agent.reasoners.offline.changes import parse_changes
from nightshift.agent.reasoners.offline.findings import Analysis
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from nightshift.domain.diagnosis import ResourceRef

CHANGES = """\
TIME                   AGE   DOMAIN        KIND      TARGET                               ACTOR          SUMMARY
2026-12-02T13:10:31Z   3s    application   rollout   payments/Deployment/payments         helm           revision 1 (first) (current): image payments=registry.example/payments:1.4.2
2026-12-02T13:10:31Z   3s    application   config    payments/ConfigMap/payments-config   helm           created ConfigMap/payments-config (fields: data.CURRENCY)
2026-12-02T13:10:32Z   2s    application   config    payments/ConfigMap/payments-config   kubectl-edit   update by kubectl-edit (fields it owns: data.LEDGER_URL)

Warning events (symptoms, not changes), newest first:
LAST SEEN   COUNT   OBJECT                                   REASON    MESSAGE
2s          6       payments/Pod/payments-766686844-fw4jb    BackOff   Back-off restarting failed container payments
"""  # noqa: E501
PODS = """\
NAME                       READY   STATUS             RESTARTS     AGE
payments-766686844-fw4jb   0/1     CrashLoopBackOff   6 (2s ago)   3s
"""
# the log store's clock runs ahead of the API server's: the line is stamped before the edit
LOGS = (
    '2026-12-02T13:10:02Z {namespace="payments", app="payments"} '
    'ERROR config: LEDGER_URL "ledger:8080" is not a valid URL; exiting\n'
)


def test_warning_events_after_the_change_table_are_not_changes() -> None:
    out = Analysis()
    parse_changes(CHANGES, out, Topology())
    assert [c.line.split()[4] for c in out.changes] == [
        "payments/Deployment/payments",
        "payments/ConfigMap/payments-config",
        "payments/ConfigMap/payments-config",
    ]


async def test_a_crash_that_names_the_key_a_configmap_edit_wrote_blames_the_configmap() -> None:
    toolset = StaticToolset(
        [
            ("recent_changes", {}, CHANGES),
            ("kubectl_get", {"kind": "pods"}, PODS),
            ("logs_search", {}, LOGS),
        ],
        tools=["recent_changes", "kubectl_get", "logs_search"],
    )
    request = InvestigationRequest("payments pods keep restarting", namespace="payments")
    d = await investigate(request, toolset)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "config-change-regression",
        "ConfigMap",
        "payments-config",
    )


SERVICE = """\
Name:              cart
Namespace:         storefront
Selector:          app=cart-v2
Type:              ClusterIP
IP:                10.96.0.12
Port:              http  80/TCP
TargetPort:        8080/TCP
Endpoints:
"""


def test_a_service_finding_stays_on_the_service_when_a_deployment_shares_its_name() -> None:
    topo = Topology()
    call = ToolCall(
        "kubectl_describe", {"kind": "service", "name": "cart", "namespace": "storefront"}
    )
    out = analyze(call, ToolResult(ToolStatus.OK, SERVICE), topo)
    beliefs = Beliefs()
    beliefs.resource(ResourceRef("Deployment", "cart", "storefront"))
    for f in out.findings:
        beliefs.add_finding(f, "e1")
    kinds = {k[0].kind for k in beliefs.evaluate(topo)}
    assert "Service" in kinds


def _beliefs_after(changes: str) -> set[tuple[str, str]]:
    out = Analysis()
    parse_changes(changes, out, Topology())
    beliefs = Beliefs()
    for c in out.changes:
        beliefs.add_change(c, "e1")
    return {(k[0].kind, k[1]) for k in beliefs.evaluate(Topology())}


CREATIONS = """\
TIME                   AGE   DOMAIN        KIND      TARGET                        ACTOR   SUMMARY
2026-12-02T13:10:31Z   3s    application   rollout   shop/Deployment/cart          helm    revision 1 (first) (current): image app=shop/cart:1.4.2
2026-12-02T13:10:31Z   3s    network       config    shop/Service/cart             helm    created Service/cart (fields: spec.ports, spec.selector)
"""  # noqa: E501


def test_a_first_revision_and_a_new_service_are_creations_not_changes_to_roll_back() -> None:
    assert _beliefs_after(CREATIONS) == set()
    second = CREATIONS.replace("revision 1 (first)", "revision 2")
    assert ("Deployment", "bad-deployment-rollout") in _beliefs_after(second)
