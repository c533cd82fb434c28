"""Node-level faults and scheduler predicates, as a real control plane prints them."""

from __future__ import annotations

from nightshift.agent.investigation import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.static import StaticToolset

PODS_WIDE = """\
NAME                      READY   STATUS    RESTARTS   AGE   IP            NODE        NOMINATED NODE   READINESS GATES
ledger-56df98c5c9-l7zft   1/1     Running   0          14s   10.244.9.2    worker-b    <none>           <none>
ledger-56df98c5c9-xgq6v   1/1     Running   0          14s   10.244.9.3    worker-b    <none>           <none>
"""  # noqa: E501


def _diagnostics(ready: str) -> str:
    return f"""\
NAME       STATUS     PROBLEMS      TAINTS
cp-1       Ready,SchedulingDisabled   cordoned   2
worker-a   NotReady   Ready=False   2
worker-b   NotReady   Ready=False   2

Node cp-1: Ready,SchedulingDisabled
Conditions:
  TYPE             STATUS   REASON                       LAST TRANSITION                    MESSAGE
  Ready            True     KubeletReady                 2026-12-02T08:14:05Z (7m48s ago)   kubelet is posting ready status
Pods of this agent's namespaces on this node: 0 (none)

Node worker-a: NotReady
Conditions:
  TYPE             STATUS   REASON                       LAST TRANSITION                    MESSAGE
  Ready            False    KubeletNotReady              2026-12-02T08:17:21Z (4m32s ago)   PLEG is not healthy: pleg was last seen active 4m12s ago
Pods of this agent's namespaces on this node: 0 (none)

Node worker-b: NotReady
Conditions:
  TYPE             STATUS   REASON                       LAST TRANSITION                    MESSAGE
  Ready            False    KubeletNotReady              2026-12-02T08:17:21Z (4m32s ago)   {ready}
  MemoryPressure   False    KubeletHasSufficientMemory   2026-11-20T08:21:41Z (12d ago)     kubelet has sufficient memory available
Pods of this agent's namespaces on this node: 2 (Running 2)
"""  # noqa: E501


async def _top(ready: str) -> tuple[str, str, str]:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, PODS_WIDE),
            ("node_diagnostics", {}, _diagnostics(ready)),
        ],
        tools=["kubectl_get", "node_diagnostics"],
    )
    request = InvestigationRequest("ledger lost its pods' readiness", namespace="shop")
    d = await investigate(request, toolset)
    assert d.top is not None
    return d.top.fault, d.top.resource.kind, d.top.resource.name


async def test_a_node_whose_cni_plugin_is_not_initialized_is_the_object_to_repair() -> None:
    message = (
        "container runtime network not ready: NetworkReady=false "
        "reason:NetworkPluginNotReady message:Network plugin returns error: "
        "cni plugin not initialized"
    )
    assert await _top(message) == ("cni-network-failure", "Node", "worker-b")


async def test_a_down_container_runtime_is_blamed_on_its_node_not_on_the_pods() -> None:
    message = "container runtime is down: rpc error: code = Unavailable"
    assert await _top(message) == ("container-runtime-failure", "Node", "worker-b")


async def test_a_node_that_runs_none_of_the_agents_pods_is_not_this_incident() -> None:
    # worker-a is NotReady too, but none of the namespace's pods run there
    assert await _top("PLEG is not healthy: pleg was last seen active 4m ago") == (
        "node-not-ready",
        "Node",
        "worker-b",
    )


EVENTS_PINNED = """\
NAMESPACE   LAST SEEN   TYPE      REASON             OBJECT                       MESSAGE
shop        60s         Warning   FailedScheduling   pod/search-6748cc5959-2czpq  0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.
"""  # noqa: E501
DESCRIBE_PINNED = """\
Name:             search-6748cc5959-2czpq
Namespace:        shop
Status:           Pending
Controlled By:  ReplicaSet/search-6748cc5959
Node-Selectors:              pool=batch
Events:
  Type     Reason            Age   From               Message
  Warning  FailedScheduling  60s   default-scheduler  0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector.
"""  # noqa: E501
NODE_LABELS = """\
NAME       STATUS                     ROLES           AGE   VERSION   LABELS
cp-1       Ready,SchedulingDisabled   control-plane   90d   v1.36.3   kubernetes.io/hostname=cp-1,node-role.kubernetes.io/control-plane=
batch-1    Ready,SchedulingDisabled   <none>          21d   v1.36.3   kubernetes.io/hostname=batch-1,pool=batch
spare-1    Ready,SchedulingDisabled   <none>          21d   v1.36.3   kubernetes.io/hostname=spare-1,pool=spare
worker-a   Ready                      <none>          21d   v1.36.3   kubernetes.io/hostname=worker-a,pool=general
"""  # noqa: E501


async def _pinned(labels: str) -> tuple[str, str, str]:
    toolset = StaticToolset(
        [
            ("kubectl_events", {}, EVENTS_PINNED),
            ("kubectl_describe", {"kind": "pod"}, DESCRIBE_PINNED),
            ("kubectl_get", {"kind": "nodes", "output": "labels"}, labels),
        ],
        tools=["kubectl_events", "kubectl_describe", "kubectl_get"],
    )
    d = await investigate(InvestigationRequest("search pods pending", namespace="shop"), toolset)
    assert d.top is not None
    return d.top.fault, d.top.resource.kind, d.top.resource.name


async def test_a_selector_that_matches_a_cordoned_node_blames_the_cordon_on_that_node() -> None:
    assert await _pinned(NODE_LABELS) == ("node-cordoned", "Node", "batch-1")


async def test_a_selector_no_node_carries_is_the_fault_of_the_workload() -> None:
    no_batch = NODE_LABELS.replace("pool=batch", "pool=old-batch")
    assert await _pinned(no_batch) == ("node-selector-mismatch", "Deployment", "search")
