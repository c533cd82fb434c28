"""The batch/v1 Job (and its credential Secret) for one investigation.

Pure rendering: a ``WorkerLaunch`` plus the cluster-side template in, plain
JSON objects out, so the spec can be validated against the OpenAPI schema and
asserted on without a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nightshift.domain.vocabulary import Tier
from nightshift.k8s.names import credential_secret_name, job_name, label_value
from nightshift.k8s.names import service_account_name as phase_service_account

MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "app.kubernetes.io/component"
LABEL_INVESTIGATION = "nightshift.io/investigation-id"
LABEL_AGENT = "nightshift.io/agent"
LABEL_PHASE = "nightshift.io/trust-phase"
LABEL_TIER = "nightshift.io/tier"
ANNOTATION_INVESTIGATION = "nightshift.io/investigation-id"  # the exact id, unsanitized
KUEUE_QUEUE = "kueue.x-k8s.io/queue-name"
KUEUE_PRIORITY = "kueue.x-k8s.io/priority-class"
WORKER_CONTAINER = "worker"
WORKER_SELECTOR = f"{MANAGED_BY}=nightshift,{COMPONENT}=agent-worker"
# Set (to "serviceaccount") in the worker's environment when a declared kubernetes source
# reads the cluster as the pod's own identity, so the phase's token must be mounted.
CLUSTER_IDENTITY_ENV = "NIGHTSHIFT_WORKER_CLUSTER_IDENTITY"
# The pod's only writable path (the root filesystem is read-only): a per-pod emptyDir.
SCRATCH = "/tmp"  # noqa: S108


@dataclass(frozen=True, slots=True)
class TierResources:
    cpu_request: str
    cpu_limit: str
    memory_request_mb: int
    memory_limit_mb: int


def _default_resources() -> dict[Tier, TierResources]:
    return {
        Tier.SINGLE_DOMAIN: TierResources("250m", "1", 512, 768),
        Tier.MULTI_DOMAIN: TierResources("500m", "2", 768, 1024),
    }


@dataclass(frozen=True, slots=True)
class JobTemplate:
    """Cluster-side settings every investigation Job shares."""

    namespace: str = "nightshift-agents"
    image: str = "nightshift:latest"
    image_pull_policy: str = "IfNotPresent"
    ttl_seconds_after_finished: int = 3600
    resources: Mapping[Tier, TierResources] = field(default_factory=_default_resources)
    kueue_queue: str | None = None  # LocalQueue name; None: no Kueue, the control plane caps
    kueue_priority_class: Mapping[Tier, str] = field(default_factory=dict)
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()


def job_labels(investigation_id: str, agent: str, phase: str, tier: Tier) -> dict[str, str]:
    return {
        MANAGED_BY: "nightshift",
        COMPONENT: "agent-worker",
        LABEL_INVESTIGATION: label_value(investigation_id),
        LABEL_AGENT: label_value(agent),
        LABEL_PHASE: label_value(phase),
        LABEL_TIER: label_value(tier.value),
    }


def render_credential_secret(
    template: JobTemplate,
    *,
    investigation_id: str,
    agent: str,
    phase: str,
    tier: Tier,
    token: str,
    secrets_handoff: str,
) -> dict[str, Any]:
    """The per-investigation credential, referenced (never copied) by the pod spec.

    Immutable, and owned by the Job once it exists, so it is garbage-collected
    with it; the executor also deletes it as soon as the Job finishes.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": credential_secret_name(investigation_id),
            "namespace": template.namespace,
            "labels": job_labels(investigation_id, agent, phase, tier),
            "annotations": {ANNOTATION_INVESTIGATION: investigation_id},
        },
        "type": "Opaque",
        "immutable": True,
        "stringData": {"token": token, "handoff": secrets_handoff},
    }


def render_job(
    template: JobTemplate,
    *,
    investigation_id: str,
    agent: str,
    phase: str,
    tier: Tier,
    api_url: str,
    deadline_seconds: int,
    secrets_backend: str = "local",
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    env_extra = dict(extra_env or {})
    labels = job_labels(investigation_id, agent, phase, tier)
    res = template.resources[tier]
    secret = credential_secret_name(investigation_id)
    env: list[dict[str, Any]] = [
        {"name": "PYTHONUNBUFFERED", "value": "1"},
        {"name": "HOME", "value": SCRATCH},
        {"name": "NIGHTSHIFT_SECRETS_BACKEND", "value": secrets_backend},
        _secret_env("NIGHTSHIFT_WORKER_TOKEN", secret, "token"),
        _secret_env("NIGHTSHIFT_SECRETS_HANDOFF", secret, "handoff"),
    ]
    env += [{"name": k, "value": v} for k, v in sorted(env_extra.items())]
    metadata_labels = dict(labels)
    suspend = False
    if template.kueue_queue:
        # Kueue admits suspended Jobs by quota, priority and fair share, then unsuspends them.
        metadata_labels[KUEUE_QUEUE] = template.kueue_queue
        suspend = True
        priority = template.kueue_priority_class.get(tier)
        if priority:
            metadata_labels[KUEUE_PRIORITY] = priority
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": phase_service_account(agent, phase),
        # The worker talks to the control plane with its own credential; it gets the
        # phase's API token only when one of its sources reads the cluster in-cluster.
        "automountServiceAccountToken": env_extra.get(CLUSTER_IDENTITY_ENV) == "serviceaccount",
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": WORKER_CONTAINER,
                "image": template.image,
                "imagePullPolicy": template.image_pull_policy,
                # The image's own launcher (scripts/build-image, Containerfile): Debian's
                # python3 package installs no `python`, so `python -m` cannot start there.
                "command": ["nightshift", "agent", "run"],
                "args": ["--investigation", investigation_id, "--api", api_url],
                "env": env,
                "resources": {
                    "requests": {
                        "cpu": res.cpu_request,
                        "memory": f"{res.memory_request_mb}Mi",
                    },
                    "limits": {"cpu": res.cpu_limit, "memory": f"{res.memory_limit_mb}Mi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [{"name": "tmp", "mountPath": SCRATCH}],
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
    if template.node_selector:
        pod_spec["nodeSelector"] = dict(template.node_selector)
    if template.tolerations:
        pod_spec["tolerations"] = [dict(t) for t in template.tolerations]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(investigation_id),
            "namespace": template.namespace,
            "labels": metadata_labels,
            "annotations": {ANNOTATION_INVESTIGATION: investigation_id},
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds,
            "ttlSecondsAfterFinished": template.ttl_seconds_after_finished,
            "suspend": suspend,
            "podFailurePolicy": {
                "rules": [
                    # Disruption (eviction, preemption, node loss): not the worker's fault,
                    # so the pod is replaced without counting against backoffLimit 0.
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                    # Any non-zero exit (a crash, our out-of-memory code, OOMKilled's 137)
                    # is terminal: a diagnosis is not retried blindly.
                    {
                        "action": "FailJob",
                        "onExitCodes": {
                            "containerName": WORKER_CONTAINER,
                            "operator": "NotIn",
                            "values": [0],
                        },
                    },
                ]
            },
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
