"""Drift compares only what Git declares, and names the field manager that wrote it."""

from __future__ import annotations

from typing import Any

from nightshift.gitops.drift import author_of, git_drift
from nightshift.gitops.working_copy import WorkingCopy

LIVE: dict[str, Any] = {
    "metadata": {
        "managedFields": [
            {"manager": "argocd-controller", "time": "2026-12-02T01:00:00Z",
             "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {
                 "f:containers": {'k:{"name":"checkout"}': {"f:image": {}}}}}}}},
            {"manager": "kubectl-edit", "time": "2026-12-02T02:00:00Z",
             "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
                 "f:containers": {'k:{"name":"sidecar"}': {"f:image": {}}}}}}}},
            {"manager": "nightshift", "time": "2026-12-02T02:10:00Z",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        ]
    },
    "spec": {"template": {"spec": {"containers": [{"name": "checkout"}, {"name": "sidecar"}]}}},
}  # fmt: skip


def test_the_latest_writer_of_a_field_is_its_author() -> None:
    assert author_of(LIVE, ("spec", "replicas")) == "nightshift"


def test_keyed_list_items_are_attributed_to_their_own_manager() -> None:
    path = ("spec", "template", "spec", "containers")
    assert author_of(LIVE, (*path, 0, "image")) == "argocd-controller"
    assert author_of(LIVE, (*path, 1, "image")) == "kubectl-edit"


def test_a_field_no_manager_owns_has_no_known_author() -> None:
    assert author_of(LIVE, ("spec", "paused")) == "unknown"


def test_defaults_the_server_filled_in_are_not_drift(repo: WorkingCopy) -> None:
    def live(key: Any) -> dict[str, Any]:
        return {
            "metadata": {"name": key.name, "namespace": key.namespace, "uid": "x"},
            "spec": {
                "replicas": 2 if key.name == "checkout" else 1,
                "progressDeadlineSeconds": 600,  # a default, not in Git
                "podSelector": {"matchLabels": {"app": "checkout"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "risk-scoring"}}}]}],
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": {
                    "metadata": {"labels": {"app": "checkout"}},
                    "spec": {"containers": [{"name": "checkout", "terminationMessagePath": "/x",
                                             "image": "registry.example/checkout:2.3.1"}]},
                },
            },
        }  # fmt: skip

    found = [str(d) for d in git_drift(repo, live) if d.key.name != "pgbouncer"]
    assert found == []
