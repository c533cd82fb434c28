"""How an approved action reaches an object Git declares: live, git, or live+git.

- ``live``: executed on the cluster only (the record says Git was not updated);
- ``git``: a commit that changes the declared object; the GitOps controller applies it;
- ``live+git``: executed now, because the incident cannot wait, and the same change
  committed at once, so Git and the cluster agree again.

The mode is configuration per action (``*`` for the rest) and per environment;
a production object that Git declares defaults to ``live+git``, others to ``live``.
Each action names the fields of the object it changes; an action that changes no
declared state (deleting a pod, cordoning a node) is always live only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from nightshift.domain.diagnosis import ResourceRef
from nightshift.gitops.declared import ObjectKey
from nightshift.k8s.apply import KINDS


class Mode(StrEnum):
    LIVE = "live"
    GIT = "git"
    LIVE_GIT = "live+git"


PRODUCTION = "production"

# The fields each action changes on its target (paths into the object). A revert
# restores every top-level section the recorded "before" state has.
ACTION_FIELDS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "scale-deployment": (("spec", "replicas"),),
    "rollback-deployment": (("spec", "template"),),
    "restart-deployment": (
        ("spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"),
    ),
    "revert-change": (("spec",),),
    "revert-firewall-rule": (("spec",),),
}

# API group of the kinds actions target (a ResourceRef carries no apiVersion).
_GROUPS = {
    "Deployment": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "ReplicaSet": "apps",
    "NetworkPolicy": "networking.k8s.io",
    "Ingress": "networking.k8s.io",
    "HorizontalPodAutoscaler": "autoscaling",
    "CronJob": "batch",
    "Job": "batch",
}


# Targets may spell a kind as the agent did ("deployment"); Git keys use the API's.
_CANONICAL = {k.lower(): k for k in (*_GROUPS, *KINDS)}


def object_key(ref: ResourceRef) -> ObjectKey:
    kind = _CANONICAL.get(ref.kind.lower().replace("-", ""), ref.kind)
    return ObjectKey(_GROUPS.get(kind, ""), kind, ref.namespace or "", ref.name)


@dataclass(frozen=True, slots=True)
class ModeTable:
    """``modes``: action name (or ``*``) -> mode, for this deployment's environment."""

    environment: str = ""
    modes: Mapping[str, Mode] = field(default_factory=dict)

    def mode_for(self, action: str) -> Mode:
        if action not in ACTION_FIELDS:
            return Mode.LIVE
        chosen = self.modes.get(action) or self.modes.get("*")
        if chosen is not None:
            return chosen
        return Mode.LIVE_GIT if self.environment == PRODUCTION else Mode.LIVE
