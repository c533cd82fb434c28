"""The agent's read-only Kubernetes toolset (answers the canonical kubectl_* tools).

Lives outside ``nightshift.agent`` because the agent package may not import an
HTTP client. It runs with the phase ServiceAccount's identity, so the API
server enforces read-only RBAC too; on top, every call is bounded to the
agent's namespaces, Secrets are never read, and output is kubectl's text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from nightshift.agent.tools.catalog import (
    FIREWALL_RULES,
    KUBECTL_DESCRIBE,
    KUBECTL_EVENTS,
    KUBECTL_GET,
    KUBECTL_LOGS,
    KUBECTL_ROLLOUT_HISTORY,
    NODE_DIAGNOSTICS,
    RECENT_CHANGES,
    SECURITY_EVENTS,
)
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.domain.agents import ALL_NAMESPACES
from nightshift.k8s import kubectl_text as text
from nightshift.k8s.changes import recent_changes
from nightshift.k8s.client import KubeError, resource_path
from nightshift.k8s.describe_fetch import describe_object
from nightshift.k8s.netpol_text import firewall_rules
from nightshift.k8s.nodes import node_diagnostics
from nightshift.k8s.reads import KubeReads, Lister
from nightshift.k8s.security import security_events

Obj = dict[str, Any]

# alias -> (apiVersion, plural, namespaced, Kind)
KINDS: dict[str, tuple[str, str, bool, str]] = {}
for _names, _entry in (
    (("pod", "pods", "po"), ("v1", "pods", True, "Pod")),
    (("deployment", "deployments", "deploy"), ("apps/v1", "deployments", True, "Deployment")),
    (("replicaset", "replicasets", "rs"), ("apps/v1", "replicasets", True, "ReplicaSet")),
    (("statefulset", "statefulsets", "sts"), ("apps/v1", "statefulsets", True, "StatefulSet")),
    (("daemonset", "daemonsets", "ds"), ("apps/v1", "daemonsets", True, "DaemonSet")),
    (("service", "services", "svc"), ("v1", "services", True, "Service")),
    (("endpoints", "ep"), ("v1", "endpoints", True, "Endpoints")),
    (("node", "nodes", "no"), ("v1", "nodes", False, "Node")),
    (("event", "events", "ev"), ("v1", "events", True, "Event")),
    (("configmap", "configmaps", "cm"), ("v1", "configmaps", True, "ConfigMap")),
    (("job", "jobs"), ("batch/v1", "jobs", True, "Job")),
    (("cronjob", "cronjobs", "cj"), ("batch/v1", "cronjobs", True, "CronJob")),
    (
        ("pvc", "persistentvolumeclaim", "persistentvolumeclaims"),
        ("v1", "persistentvolumeclaims", True, "PersistentVolumeClaim"),
    ),
    (("ingress", "ingresses", "ing"), ("networking.k8s.io/v1", "ingresses", True, "Ingress")),
    (
        ("serviceaccount", "serviceaccounts", "sa"),
        ("v1", "serviceaccounts", True, "ServiceAccount"),
    ),
    (
        ("resourcequota", "resourcequotas", "quota"),
        ("v1", "resourcequotas", True, "ResourceQuota"),
    ),
    (("limitrange", "limitranges", "limits"), ("v1", "limitranges", True, "LimitRange")),
    (("namespace", "namespaces", "ns"), ("v1", "namespaces", False, "Namespace")),
    (
        ("endpointslice", "endpointslices"),
        ("discovery.k8s.io/v1", "endpointslices", True, "EndpointSlice"),
    ),
    (
        ("networkpolicy", "networkpolicies", "netpol"),
        ("networking.k8s.io/v1", "networkpolicies", True, "NetworkPolicy"),
    ),
):
    for _n in _names:
        KINDS[_n] = _entry
NEVER_READ = frozenset({"secret", "secrets"})


class OutOfBounds(PermissionError):
    pass


class KubernetesToolset:
    def __init__(
        self,
        api: KubeReads,
        namespaces: Collection[str],
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._api: KubeReads = api  # KubeApi, or a fake in unit tests
        self._all = ALL_NAMESPACES in namespaces
        self._namespaces = sorted(n for n in namespaces if n != ALL_NAMESPACES)
        self._clock = clock or (lambda: datetime.now(UTC))

    def specs(self) -> Sequence[ToolSpec]:
        return (
            KUBECTL_GET,
            KUBECTL_DESCRIBE,
            KUBECTL_LOGS,
            KUBECTL_EVENTS,
            KUBECTL_ROLLOUT_HISTORY,
            RECENT_CHANGES,
            FIREWALL_RULES,
            SECURITY_EVENTS,
            NODE_DIAGNOSTICS,
        )

    async def call(self, call: ToolCall) -> ToolResult:
        handlers: dict[str, Callable[[Mapping[str, Any]], str | ToolResult]] = {
            KUBECTL_GET.name: self.get,
            KUBECTL_DESCRIBE.name: self.describe,
            KUBECTL_LOGS.name: self.logs,
            KUBECTL_EVENTS.name: self.events,
            KUBECTL_ROLLOUT_HISTORY.name: self.rollout_history,
            RECENT_CHANGES.name: self.recent_changes,
            FIREWALL_RULES.name: self.firewall_rules,
            SECURITY_EVENTS.name: self.security_events,
            NODE_DIAGNOSTICS.name: self.node_diagnostics,
        }
        handler = handlers.get(call.name)
        if handler is None:
            return ToolResult(ToolStatus.NO_DATA, "", error=f"{call.name} is not a Kubernetes tool")
        try:
            out = await asyncio.to_thread(handler, dict(call.params))
        except OutOfBounds as exc:
            return ToolResult(ToolStatus.DENIED, "", error=str(exc))
        except KubeError as exc:
            if exc.status == 404:
                return ToolResult(
                    ToolStatus.NO_DATA, f"Error from server (NotFound): {exc.message}"
                )
            if exc.status == 403:
                return ToolResult(
                    ToolStatus.DENIED, "", error=f"Error from server (Forbidden): {exc.message}"
                )
            return ToolResult(ToolStatus.ERROR, "", error=str(exc))
        if isinstance(out, ToolResult):
            return out
        return ToolResult(ToolStatus.OK, out)

    # -- bounds -------------------------------------------------------------------------

    def _scopes(self, namespace: str | None) -> list[str | None]:
        """Namespaces one call may read: the one asked for, or every allowed one."""
        if namespace:
            if not self._all and namespace not in self._namespaces:
                raise OutOfBounds(f"namespace {namespace!r} is outside this agent's boundaries")
            return [namespace]
        return [None] if self._all else list(self._namespaces)

    def _kind(self, raw: str) -> tuple[str, str, bool, str]:
        key = raw.lower().split(".")[0]
        if key in NEVER_READ:
            raise OutOfBounds("Secrets are never read by agents")
        if key not in KINDS:
            raise KubeError(404, "NotFound", f'the server doesn\'t have a resource type "{raw}"')
        return KINDS[key]

    def _list(
        self, api_version: str, plural: str, ns: str | None, query: Mapping[str, str]
    ) -> list[Obj]:
        items: list[Obj] = self._api.get(resource_path(api_version, plural, ns), query).get(
            "items", []
        )
        return items

    # -- tools ----------------------------------------------------------------------------

    def get(self, p: Mapping[str, Any]) -> str:
        api_version, plural, namespaced, _ = self._kind(str(p["kind"]))
        output = p.get("output", "")
        scopes = self._scopes(p.get("namespace")) if namespaced else [None]
        if p.get("name"):
            obj = self._api.get(resource_path(api_version, plural, scopes[0], str(p["name"])))
            if output == "yaml":
                return text.as_yaml(obj)
            items = [obj]
        else:
            query = {"labelSelector": p["label_selector"]} if p.get("label_selector") else {}
            items = [o for ns in scopes for o in self._list(api_version, plural, ns, query)]
            if output == "yaml":
                return text.as_yaml(
                    {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {}}
                )
        all_ns = namespaced and not p.get("namespace")
        if plural == "events":
            return text.events_table(items, all_ns=all_ns)
        return text.get_table(
            plural,
            items,
            wide=output == "wide",
            labels=output == "labels",
            all_ns=all_ns,
            namespace=p.get("namespace"),
        )

    def describe(self, p: Mapping[str, Any]) -> str:
        api_version, plural, namespaced, kind = self._kind(str(p["kind"]))
        ns = self._scopes(p.get("namespace"))[0] if namespaced else None
        if namespaced and ns is None:
            raise OutOfBounds("describe needs a namespace for namespaced kinds")
        allowed = None if self._all else set(self._namespaces).__contains__
        return describe_object(
            self._api, api_version, plural, kind, ns, str(p["name"]), allowed=allowed
        )

    def logs(self, p: Mapping[str, Any]) -> str:
        ns = self._scopes(p.get("namespace"))[0]
        if ns is None:
            raise OutOfBounds("logs needs a namespace")
        query: dict[str, str] = {}
        if p.get("container"):
            query["container"] = str(p["container"])
        if p.get("previous"):
            query["previous"] = "true"
        if p.get("tail"):
            query["tailLines"] = str(int(p["tail"]))
        return self._api.get_text(resource_path("v1", "pods", ns, str(p["pod"]), "log"), query)

    def events(self, p: Mapping[str, Any]) -> str:
        scopes = self._scopes(p.get("namespace"))
        selector = []
        if p.get("kind"):
            selector.append(f"involvedObject.kind={self._kind(str(p['kind']))[3]}")
        if p.get("name"):
            selector.append(f"involvedObject.name={p['name']}")
        query = {"fieldSelector": ",".join(selector)} if selector else {}
        items = [e for ns in scopes for e in self._list("v1", "events", ns, query)]
        return text.events_table(items, all_ns=not p.get("namespace"), namespace=p.get("namespace"))

    def rollout_history(self, p: Mapping[str, Any]) -> str:
        kind = str(p.get("kind") or "deployment")
        api_version, plural, _, kind_name = self._kind(kind)
        ns = self._scopes(p.get("namespace"))[0]
        name = str(p["name"])
        deploy = self._api.get(resource_path(api_version, plural, ns, name))
        uid = deploy["metadata"]["uid"]
        owned = [
            rs
            for rs in self._list("apps/v1", "replicasets", ns, {})
            if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])
        ]
        return text.rollout_history(f"{kind_name.lower()}.apps", name, owned)

    # Diagnostic tools beyond kubectl (k8s/changes.py, netpol_text.py, security.py,
    # nodes.py): each lists through a bounded Lister within this agent's scopes.

    def recent_changes(self, p: Mapping[str, Any]) -> ToolResult:
        return recent_changes(Lister(self._api), self._scopes, p, self._clock())

    def firewall_rules(self, p: Mapping[str, Any]) -> ToolResult:
        return firewall_rules(Lister(self._api), self._scopes, p)

    def security_events(self, p: Mapping[str, Any]) -> ToolResult:
        return security_events(Lister(self._api), self._scopes, p, self._clock())

    def node_diagnostics(self, p: Mapping[str, Any]) -> ToolResult:
        return node_diagnostics(Lister(self._api), self._scopes, p, self._clock())

    def _events_for(self, ns: str | None, kind: str, name: str) -> list[Obj]:
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        try:
            return self._list("v1", "events", ns, {"fieldSelector": selector})
        except KubeError:
            return []
