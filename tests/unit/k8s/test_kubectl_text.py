"""Live objects printed the way kubectl prints them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nightshift.k8s.kubectl_text import events_table, get_table, rollout_history


def ts(minutes_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod() -> dict[str, object]:
    return {
        "metadata": {
            "name": "cart-7d9",
            "namespace": "shop",
            "creationTimestamp": ts(5),
            "labels": {"app": "cart"},
        },
        "spec": {"containers": [{"name": "app"}], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "podIP": "10.1.0.4",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                }
            ],
        },
    }


def test_get_pods_wide_has_kubectls_columns_and_status_reason() -> None:
    out = get_table("pods", [pod()], wide=True, labels=False, all_ns=False)
    header, row = out.splitlines()
    assert header.split() == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    assert row.split()[:6] == ["cart-7d9", "0/1", "CrashLoopBackOff", "4", "5m", "10.1.0.4"]


def test_all_namespaces_and_labels_add_their_columns() -> None:
    out = get_table("pods", [pod()], wide=False, labels=True, all_ns=True)
    header, row = out.splitlines()
    assert header.startswith("NAMESPACE")
    assert header.rstrip().endswith("LABELS")
    assert row.startswith("shop") and row.endswith("app=cart")


def test_empty_listing_reads_like_kubectl() -> None:
    empty = get_table("pods", [], wide=False, labels=False, all_ns=False, namespace="shop")
    assert empty == "No resources found in shop namespace."
    assert get_table("nodes", [], wide=False, labels=False, all_ns=False) == "No resources found"


def test_events_and_rollout_history() -> None:
    event = {
        "metadata": {"namespace": "shop"},
        "type": "Warning",
        "reason": "BackOff",
        "involvedObject": {"kind": "Pod", "name": "cart-7d9"},
        "firstTimestamp": ts(20),
        "lastTimestamp": ts(1),
        "count": 7,
        "message": "Back-off restarting failed container",
    }
    table = events_table([event], all_ns=False)
    row = table.splitlines()[1]
    assert row.split()[0] in ("60s", "61s")  # a minute ago
    assert "(x7 over 20m)" in row  # kubectl events folds repeats into the LAST SEEN column
    assert row.split()[-7:-4] == ["Warning", "BackOff", "Pod/cart-7d9"]
    rs = [
        {
            "metadata": {
                "annotations": {
                    "deployment.kubernetes.io/revision": "2",
                    "kubernetes.io/change-cause": "image 1.1",
                }
            }
        },
        {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "1"}}},
    ]
    assert rollout_history("deployment.apps", "cart", rs).splitlines() == [
        "deployment.apps/cart",
        "REVISION  CHANGE-CAUSE",
        "1         <none>",
        "2         image 1.1",
    ]
