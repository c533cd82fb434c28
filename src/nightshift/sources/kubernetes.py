"""The cluster as a source: the kubectl_* tools (and the cluster's changes,
network policies, nodes and security events) over the API server, read-only.

Connection, in order of precedence:
- ``url`` + ``settings.ca_file``: the API server and its CA; the identity is the
  bearer ``token`` the broker hands this investigation (a phase ServiceAccount
  token, whose RBAC is read-only);
- ``settings.kubeconfig`` (+ ``settings.context``);
- neither: the pod's own ServiceAccount when the worker runs in the cluster.
A ``token`` from the broker always replaces the kubeconfig's user.
"""

from __future__ import annotations

from dataclasses import replace

from nightshift.agent.tools.protocol import Toolset
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    from nightshift.k8s.client import ClusterAccess, KubeApi, load_access
    from nightshift.k8s.toolset import KubernetesToolset

    token = context.credential(source).get("token") or None
    ca_file = source.setting("ca_file")
    if source.url and ca_file:
        access = ClusterAccess(server=source.url, ca_file=str(ca_file), token=token)
    else:
        kubeconfig = source.setting("kubeconfig") or None
        access = load_access(kubeconfig, source.setting("context") or None)
        if source.url:
            access = replace(access, server=source.url)
        if token:
            access = replace(access, token=token, cert_file=None, key_file=None)
    if not access.token and not access.cert_file and not source.setting("anonymous"):
        raise SourcesError(
            f"kubernetes source {source.name!r} has no identity: store a ServiceAccount "
            f"token in the broker ({source.domain.value}/{source.credential}, key 'token') "
            "or name a kubeconfig with a user"
        )
    api = KubeApi(access, timeout_seconds=source.timeout_seconds, retries=1)
    return KubernetesToolset(api, context.namespaces)
