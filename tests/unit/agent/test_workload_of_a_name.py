"""An unqualified app name in an error resolves to its workload when the fault is the app's."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.beliefs import Beliefs
from nightshift.agent.reasoners.offline.findings import Finding
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.domain.diagnosis import ResourceRef

LINE = (
    'psycopg2.OperationalError: connection to server at "orders-db" (10.96.14.7), port 5432 '
    "failed: FATAL:  sorry, too many clients already"
)


def _top(order: list[ResourceRef]) -> tuple[ResourceRef, str]:
    beliefs = Beliefs(causes_checked=True)
    for ref in order:
        beliefs.resource(ref)
    server = ResourceRef("Component", "orders-db")
    beliefs.add_finding(Finding("too-many-conns", server, LINE), "e1")
    out = beliefs.evaluate(Topology())
    return max(out, key=lambda k: out[k].confidence)


def test_a_servers_connection_limit_is_its_statefulsets_not_its_services() -> None:
    svc = ResourceRef("Service", "orders-db", "shop")
    sts = ResourceRef("StatefulSet", "orders-db", "shop")
    for order in ([svc, sts], [sts, svc]):
        ref, fault = _top(order)
        assert fault == "db-connection-limit"
        assert (ref.kind, ref.name) == ("StatefulSet", "orders-db")


def test_without_a_known_workload_the_service_still_names_it() -> None:
    ref, _fault = _top([ResourceRef("Service", "orders-db", "shop")])
    assert (ref.kind, ref.name) == ("Service", "orders-db")
