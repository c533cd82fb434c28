"""The cluster as a source: the kubectl_* tools over the API server, read-only.

Connection: ``settings.kubeconfig`` (+ ``settings.context``), or the pod's own
ServiceAccount in a cluster (the phase ServiceAccount, whose RBAC is read-only).
A bearer ``token`` from the broker, when stored, replaces the kubeconfig's user.
"""

from __future__ import annotations

from dataclasses import replace

from nightshift.agent.tools.protocol import Toolset
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    from nightshift.k8s.client import KubeApi, load_access
    from nightshift.k8s.toolset import KubernetesToolset

    kubeconfig = source.setting("kubeconfig") or None
    access = load_access(kubeconfig, source.setting("context") or None)
    if source.url:
        access = replace(access, server=source.url)
    token = context.credential(source).get("token")
    if token:
        access = replace(access, token=token, cert_file=None, key_file=None)
    api = KubeApi(access, timeout_seconds=source.timeout_seconds, retries=1)
    return KubernetesToolset(api, context.namespaces)
