# ruff: noqa: E501 - fault tables and kubelet messages read best one per line
"""Faults a kubelet reports: image pulls, config references, crashes, OOM, probes, init containers.

The API objects carry the real cause (a missing ConfigMap, a wrong probe
port, a low memory limit); the container states and kubelet events are what a
kubelet would write for that cause, set through the corpus-kubelet KWOK stage.
"""

from __future__ import annotations

from typing import Any

from bench.corpus.common import base
from bench.corpus.kube import (
    KubeletEvent,
    State,
    container,
    deployment,
    kubelet_status,
    pod_spec,
    running,
    statefulset,
    terminated,
    waiting,
)
from bench.corpus.model import Built, FaultType, Truth, Variant

Obj = dict[str, Any]


def _down(v: Variant) -> str:
    return f"{v.app} in namespace {v.ns} is down: its pods are not ready"


def _one(v: Variant, state: Obj, **kw: Any) -> dict[str, str]:
    return kubelet_status(v.now, [State("app", kw.pop("image", v.image(v.app)), state, **kw)])


def image_pull(kind: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        tag = {"tag": "1.4.20-rc9", "registry": "1.4.2", "secret": "1.4.2"}[kind]
        image = v.image(v.app, tag)
        if kind == "registry":
            image = f"registry.internal.{v.ns}.example:5000/{v.app}:1.4.2"
        reason = "ImagePullBackOff" if v.index != 1 else "ErrImagePull"
        ann = _one(v, waiting(reason, f'Back-off pulling image "{image}"'), image=image)
        spec = pod_spec([container("app", image, v.port)])
        secret = f"{v.app}-registry-creds"
        if kind == "secret":
            spec["imagePullSecrets"] = [{"name": secret}]
        plan.objects.append(deployment(v.app, spec, 2, ann))
        detail = {
            "tag": f'failed to resolve reference "{image}": {image}: not found',
            "registry": f'failed to do request: Head "https://{image.split("/")[0]}/v2/": dial tcp: lookup {image.split("/")[0].split(":")[0]}: no such host',
            "secret": f"failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://{image.split('/')[0]}/token: 401 Unauthorized",
        }[kind]
        plan.events += [
            KubeletEvent(
                v.app,
                "Pulling",
                f'Pulling image "{image}"',
                type="Normal",
                count=6,
                first=900,
                last=60,
            ),
            KubeletEvent(
                v.app,
                "Failed",
                f'Failed to pull image "{image}": rpc error: code = Unknown desc = {detail}',
                count=6,
                first=900,
                last=60,
            ),
            KubeletEvent(v.app, "Failed", "Error: ErrImagePull", count=6, first=900, last=60),
            KubeletEvent(
                v.app,
                "BackOff",
                f'Back-off pulling image "{image}"',
                type="Normal",
                count=40,
                first=890,
                last=20,
            ),
            KubeletEvent(v.app, "Failed", "Error: ImagePullBackOff", count=40, first=890, last=20),
        ]
        if kind == "secret":
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "FailedToRetrieveImagePullSecret",
                    f"Unable to retrieve some image pull secrets ({secret}); attempting to pull the image may not succeed.",
                    count=20,
                    first=900,
                    last=30,
                )
            )
            truth = Truth(
                "startup", "image-pull-secret-missing", "Secret", secret, (f"Deployment/{v.app}",)
            )
        elif kind == "registry":
            truth = Truth("startup", "registry-unreachable", "Deployment", v.app)
        else:
            truth = Truth("startup", "image-reference-invalid", "Deployment", v.app)
        return Built(plan, truth, _down(v))

    return build


def config_ref(what: str, how: str) -> Any:
    """A ConfigMap/Secret referenced by env (CreateContainerConfigError) or a volume (FailedMount)."""

    def build(v: Variant) -> Built:
        plan = base(v)
        name = (
            f"{v.app}-{v.rng.choice(['config', 'settings', 'env'])}"
            if what == "configmap"
            else f"{v.app}-{v.rng.choice(['credentials', 'tls', 'api-keys'])}"
        )
        key = v.rng.choice(["DATABASE_URL", "API_TOKEN", "upstream_host"])
        c = container("app", v.image(v.app), v.port)
        spec = pod_spec([c])
        label = "config map" if what == "configmap" else "secret"
        if how == "env":
            ref = {
                "configMapKeyRef" if what == "configmap" else "secretKeyRef": {
                    "name": name,
                    "key": key,
                }
            }
            c["env"] = [{"name": key.upper(), "valueFrom": ref}]
            msg = f'{what} "{name}" not found'
        elif how == "key":
            c["env"] = [
                {"name": key.upper(), "valueFrom": {"configMapKeyRef": {"name": name, "key": key}}}
            ]
            plan.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name},
                    "data": {"LOG_LEVEL": "info", "port": str(v.port)},
                }
            )
            msg = f"couldn't find key {key} in ConfigMap {v.ns}/{name}"
        else:
            src = (
                {"configMap": {"name": name}}
                if what == "configmap"
                else {"secret": {"secretName": name}}
            )
            spec["volumes"] = [{"name": "mounted", **src}]
            c["volumeMounts"] = [{"name": "mounted", "mountPath": "/etc/app", "readOnly": True}]
        if how == "volume":
            ann = _one(v, waiting("ContainerCreating"))
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "FailedMount",
                    f'MountVolume.SetUp failed for volume "mounted" : {what} "{name}" not found',
                    count=12,
                    first=900,
                    last=40,
                )
            )
        else:
            ann = _one(v, waiting("CreateContainerConfigError", msg))
            plan.events.append(
                KubeletEvent(
                    v.app, "Failed", f"Error: {msg}", count=25, first=900, last=15, container="app"
                )
            )
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "Pulled",
                    f'Container image "{v.image(v.app)}" already present on machine',
                    type="Normal",
                    count=25,
                    first=900,
                    last=15,
                    container="app",
                )
            )
        plan.objects.append(deployment(v.app, spec, 2, ann))
        kind = "ConfigMap" if what == "configmap" else "Secret"
        del label
        return Built(
            plan,
            Truth("startup", f"missing-{what}", kind, name, (f"Deployment/{v.app}",)),
            _down(v),
        )

    return build


def crash(kind: str) -> Any:
    """Containers that start and die: app error, missing env, bad command, OOM."""

    def build(v: Variant) -> Built:
        plan = base(v)
        restarts = v.rng.choice([5, 9, 14])
        image = v.image(v.app)
        c = container("app", image, v.port)
        use_sts = kind in ("app-error", "missing-env")
        if kind == "oom":
            c["resources"] = {
                "requests": {"cpu": "100m", "memory": "64Mi"},
                "limits": {"memory": "96Mi"},
            }
            last = terminated(v.now, "OOMKilled", 137, ran=15)
        elif kind == "bad-command":
            binary = v.rng.choice(["gunicron", "/app/bin/serve", "node"])
            c["command"] = [binary, "--port", str(v.port)]
            last = terminated(v.now, "StartError", 128, ran=0)
            last["terminated"]["message"] = (
                f'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "{binary}": executable file not found in $PATH: unknown'
            )
        else:
            last = terminated(v.now, "Error", 1, ran=4)
        ann = kubelet_status(
            v.now,
            [
                State(
                    "app",
                    image,
                    waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container=app"),
                    last=last,
                    restarts=restarts,
                )
            ],
        )
        spec = pod_spec([c])
        if use_sts:
            plan.objects.append(statefulset(v.app, spec, ann))
            env = v.rng.choice(["DATABASE_URL", "STRIPE_API_KEY", "UPSTREAM_URL"])
            plan.logs[f"{v.app}-0"] = f"starting {v.app} version 1.4.2\n" + (
                f"FATAL: required environment variable {env} is not set\nexiting with status 1\n"
                if kind == "missing-env"
                else "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4b2f1a]\n\ngoroutine 1 [running]:\nmain.loadPricingRules(0x0)\n\t/src/rules.go:88 +0x3a\n"
            )
        else:
            plan.objects.append(deployment(v.app, spec, 2, ann))
        plan.events.append(
            KubeletEvent(
                v.app,
                "BackOff",
                "Back-off restarting failed container app in pod {pod}",
                count=restarts * 4,
                first=1500,
                last=25,
                container="app",
            )
        )
        if kind == "bad-command":
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "Failed",
                    f'Error: failed to start container "app": {last["terminated"]["message"]}',
                    count=restarts,
                    first=1500,
                    last=60,
                    container="app",
                )
            )
        fault, kind_ = {
            "oom": ("oom-killed", "Deployment"),
            "bad-command": ("bad-command-entrypoint", "Deployment"),
            "app-error": ("crashloop-app-error", "StatefulSet"),
            "missing-env": ("missing-env-var", "StatefulSet"),
        }[kind]
        category = "runtime" if kind in ("oom", "app-error") else "startup"
        return Built(plan, Truth(category, fault, kind_, v.app), _down(v))

    return build


def init_failure(kind: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        init_name = v.rng.choice(["migrate", "wait-for-db", "init-schema"])
        init_image = v.image(f"{v.app}-migrations", "2024.11")
        last = (
            terminated(v.now, "OOMKilled", 137, ran=12)
            if kind == "oom"
            else terminated(v.now, "Error", 1, ran=3)
        )
        init = [State(init_name, init_image, waiting("CrashLoopBackOff"), last=last, restarts=6)]
        main = [State("app", v.image(v.app), waiting("PodInitializing"))]
        ann = kubelet_status(v.now, main, init=init, phase="Pending")
        ic = container(init_name, init_image, None, command=["/bin/migrate", "--apply"])
        if kind == "oom":
            ic["resources"] = {"requests": {"memory": "32Mi"}, "limits": {"memory": "48Mi"}}
        spec = pod_spec([container("app", v.image(v.app), v.port)], initContainers=[ic])
        plan.objects.append(deployment(v.app, spec, 1, ann))
        plan.events.append(
            KubeletEvent(
                v.app,
                "BackOff",
                f"Back-off restarting failed container {init_name} in pod {{pod}}",
                count=30,
                first=1200,
                last=20,
                container=init_name,
            )
        )
        fault = "oom-killed" if kind == "oom" else "init-container-failure"
        category = "runtime" if kind == "oom" else "startup"
        return Built(plan, Truth(category, fault, "Deployment", v.app), _down(v))

    return build


def _probe_shape(i: int, port: int) -> tuple[Obj, str]:
    """One of the four probe handlers and the message its failure gives."""
    return [
        ({"httpGet": {"path": "/healthz", "port": port}}, "HTTP probe failed with statuscode: 404"),
        ({"tcpSocket": {"port": port}}, f"dial tcp {{ip}}:{port}: connect: connection refused"),
        (
            {"exec": {"command": ["/bin/check-health", "--strict"]}},
            'command "/bin/check-health --strict" timed out',
        ),
        ({"grpc": {"port": 9555}}, 'timeout: failed to connect service ":9555" within 1s'),
    ][i % 4]


def probe(which: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        handler, detail = _probe_shape(v.index + (1 if which == "readiness" else 0), v.port + 1)
        field = {
            "liveness": "livenessProbe",
            "readiness": "readinessProbe",
            "startup": "startupProbe",
        }[which]
        timing = {"periodSeconds": 10, "failureThreshold": 3}
        if which == "startup":
            timing = {"periodSeconds": 2, "failureThreshold": 3}
        c = container("app", v.image(v.app), v.port, **{field: {**handler, **timing}})
        title = which.capitalize()
        if which == "readiness":
            ann = _one(v, running(v.now, 40), started=True)
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "Unhealthy",
                    f"Readiness probe failed: {detail}",
                    count=180,
                    first=1800,
                    last=5,
                    container="app",
                )
            )
        else:
            restarts = v.rng.choice([4, 7, 12])
            ann = _one(
                v,
                running(v.now, 20),
                last=terminated(v.now, "Error", 137, ran=12, ago=22),
                restarts=restarts,
                started=which != "startup",
            )
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "Unhealthy",
                    f"{title} probe failed: {detail}",
                    count=restarts * 3,
                    first=1800,
                    last=8,
                    container="app",
                )
            )
            plan.events.append(
                KubeletEvent(
                    v.app,
                    "Killing",
                    f"Container app failed {which} probe, will be restarted",
                    type="Normal",
                    count=restarts,
                    first=1790,
                    last=22,
                    container="app",
                )
            )
        plan.objects.append(deployment(v.app, pod_spec([c]), 2, ann))
        fault = {
            "liveness": "liveness-probe-misconfigured",
            "readiness": "readiness-probe-misconfigured",
            "startup": "startup-probe-too-short",
        }[which]
        return Built(plan, Truth("runtime", fault, "Deployment", v.app), _down(v))

    return build


def job_failed(v: Variant) -> Built:
    plan = base(v)
    name = f"{v.app}-{v.rng.choice(['nightly-export', 'db-migrate', 'reindex'])}"
    c = container(
        "job",
        v.image(f"{v.app}-jobs"),
        None,
        env=[{"name": "NIGHTSHIFT_TEST_OUTCOME", "value": "fail"}],
    )
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 1,
            "template": {"spec": {"restartPolicy": "Never", "containers": [c]}},
        },
    }
    plan.objects.append(job)
    return Built(
        plan,
        Truth("runtime", "job-failed", "Job", name),
        f"Job {name} in namespace {v.ns} did not complete",
    )


FAULTS = [
    FaultType("image-tag-not-found", "startup", "image-reference-invalid", image_pull("tag")),
    FaultType("registry-unreachable", "startup", "registry-unreachable", image_pull("registry")),
    FaultType("image-pull-secret-missing", "startup", "image-pull-secret-missing", image_pull("secret")),
    FaultType("configmap-env-missing", "startup", "missing-configmap", config_ref("configmap", "env")),
    FaultType("configmap-key-missing", "startup", "missing-configmap", config_ref("configmap", "key")),
    FaultType("configmap-volume-missing", "startup", "missing-configmap", config_ref("configmap", "volume")),
    FaultType("secret-env-missing", "startup", "missing-secret", config_ref("secret", "env")),
    FaultType("secret-volume-missing", "startup", "missing-secret", config_ref("secret", "volume")),
    FaultType("bad-command", "startup", "bad-command-entrypoint", crash("bad-command")),
    FaultType("missing-env-var", "startup", "missing-env-var", crash("missing-env")),
    FaultType("init-container-error", "startup", "init-container-failure", init_failure("error")),
    FaultType("init-container-oom", "runtime", "oom-killed", init_failure("oom")),
    FaultType("crashloop-app-error", "runtime", "crashloop-app-error", crash("app-error")),
    FaultType("oom-killed", "runtime", "oom-killed", crash("oom")),
    FaultType("liveness-probe-failing", "runtime", "liveness-probe-misconfigured", probe("liveness")),
    FaultType("readiness-probe-failing", "runtime", "readiness-probe-misconfigured", probe("readiness")),
    FaultType("startup-probe-too-short", "runtime", "startup-probe-too-short", probe("startup")),
    FaultType("job-backoff-exceeded", "runtime", "job-failed", job_failed),
]  # fmt: skip
