"""What every case has besides its fault: a healthy neighbour and a red herring.

Red herrings are what real namespaces carry: a Warning that stopped long ago
on a pod that recovered, an unrelated kubelet warning, a successful create
that superseded an old failure. (The cordoned, tainted control-plane-like
node is cluster-wide; see stage.py.)
"""

from __future__ import annotations

from bench.corpus.kube import KubeletEvent, Plan, container, deployment, pod_spec, service
from bench.corpus.model import Variant


def base(v: Variant) -> Plan:
    plan = Plan()
    nb = v.neighbor
    res = {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "200m", "memory": "256Mi"},
    }
    spec = pod_spec([container("app", v.image(nb, "2.1.0"), 8080, resources=res)])
    herring = v.rng.choice(["old-backoff", "dns-warning", "old-failedcreate"])
    old_rs = f"{nb}-7c9d5b8f4"
    if herring == "old-backoff":
        # a pod of an earlier rollout crashed before it was replaced: history, not the fault
        plan.raw_events.append(
            {
                "kind": "Pod",
                "name": f"{old_rs}-x2kqp",
                "type": "Warning",
                "reason": "BackOff",
                "message": "Back-off restarting failed container app in pod "
                f"{old_rs}-x2kqp_{v.ns}(5b1f0c1e-4d1e-4c33-9a57-0f3d2c7b9e11)",
                "count": 4,
                "first": 55 * 60,
                "last": 50 * 60,
                "source": "kubelet",
            }
        )
    elif herring == "dns-warning":
        plan.events.append(
            KubeletEvent(
                nb,
                "DNSConfigForming",
                "Nameserver limits were exceeded, some nameservers have been omitted, "
                "the applied nameserver line is: 10.96.0.10 169.254.169.254 10.0.0.2",
                count=31,
                first=3 * 86400,
                last=20,
            )
        )
    else:
        plan.raw_events.append(
            {
                "kind": "ReplicaSet",
                "name": old_rs,
                "type": "Warning",
                "reason": "FailedCreate",
                "message": f'Error creating: pods "{old_rs}-" is forbidden: error looking '
                f'up service account {v.ns}/{nb}: serviceaccount "{nb}" not found',
                "count": 6,
                "first": 58 * 60,
                "last": 52 * 60,
                "source": "replicaset-controller",
            }
        )
        plan.raw_events.append(
            {
                "kind": "ReplicaSet",
                "name": old_rs,
                "type": "Normal",
                "reason": "SuccessfulCreate",
                "message": f"Created pod: {old_rs}-x2kqp",
                "count": 1,
                "first": 51 * 60,
                "last": 51 * 60,
                "source": "replicaset-controller",
            }
        )
    ann = None
    plan.objects.append(deployment(nb, spec, 2, ann))
    plan.objects.append(service(nb, {"app": nb}, 80, "http", v.ip(4)))
    return plan


def app_spec(v: Variant, **extra: object) -> dict[str, object]:
    return pod_spec([container("app", v.image(v.app), v.port)], **extra)
