"""One recent_changes answer holds a table per source, each with its own columns: a
table without an ID column has no record ids, and the cluster's view of an object's
change is the change record that targets the same object."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.changes import change_subject, parse_changes
from nightshift.agent.reasoners.offline.findings import Analysis
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.domain.diagnosis import ResourceRef

FEED = (
    "=== source changes ===\n"
    "TIME                   AGE   ID        DOMAIN    KIND       TARGET                    ACTOR\n"
    "2026-12-02T02:00:05Z   4m    NET-77    network   firewall   web/NetworkPolicy/api-out fw\n"
)
CLUSTER = (
    "=== source cluster ===\n"
    "TIME                   AGE   DOMAIN        KIND             TARGET                    ACTOR\n"
    "2026-12-02T02:00:04Z   4m    network       network-policy   web/NetworkPolicy/api-out fw\n"
    "2026-12-02T01:10:00Z   54m   application   config           web/ConfigMap/api-config   helm\n"
)


def _parse(text: str) -> Analysis:
    out = Analysis()
    parse_changes(text, out, Topology())
    return out


def test_a_table_without_an_id_column_names_the_changed_object_not_a_column_value() -> None:
    subjects = {change_subject(c) for c in _parse(CLUSTER).changes}
    assert subjects == {
        ResourceRef("NetworkPolicy", "api-out", "web"),
        ResourceRef("ConfigMap", "api-config", "web"),
    }


def test_the_clusters_view_of_a_recorded_change_is_named_by_the_record() -> None:
    for text in (CLUSTER + FEED, FEED + CLUSTER):
        subjects = [change_subject(c) for c in _parse(text).changes]
        assert subjects.count(ResourceRef("Change", "NET-77")) == 2, subjects
        assert ResourceRef("ConfigMap", "api-config", "web") in subjects
        assert not any(s.name in ("network", "application") for s in subjects), subjects
