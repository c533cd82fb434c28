"""Reading a remediation target back from the cluster, as the control plane.

After a live change the GitOps wrapper commits what the cluster now holds for the
fields the action changed, so Git records the state the API server accepted (its
defaults and admission included), not what Nightshift meant to send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nightshift.gitops.declared import ObjectKey
from nightshift.k8s.apply import KINDS
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.services.remediation_port import RemediationJob


def live_reader(
    admin: KubeApi,
) -> Callable[[RemediationJob, ObjectKey], Mapping[str, Any] | None]:
    def read(job: RemediationJob, key: ObjectKey) -> Mapping[str, Any] | None:
        plural, namespaced = KINDS.get(key.kind, ("", True))
        if not plural:
            return None
        version = f"{key.group}/v1" if key.group else "v1"
        path = resource_path(version, plural, key.namespace if namespaced else None, key.name)
        try:
            return admin.get(path)
        except KubeError:
            return None

    return read


def cluster_lister(admin: KubeApi) -> Callable[[str, str], list[Mapping[str, Any]]]:
    """Lists a custom resource across namespaces; [] when the cluster does not serve it
    (no Argo CD or Flux installed)."""

    def list_all(api_version: str, plural: str) -> list[Mapping[str, Any]]:
        try:
            return list(admin.get(resource_path(api_version, plural)).get("items") or [])
        except KubeError:
            return []

    return list_all
