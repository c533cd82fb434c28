"""``kubectl describe pod`` and the pod-template block that workloads share (kubectl 1.37)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nightshift.k8s.describe_writer import (
    Writer,
    controller_of,
    events,
    multiline,
    or_none,
    tolerations,
)
from nightshift.k8s.kubectl_time import rfc1123z, since

Obj = dict[str, Any]
_RESOURCE_ORDER = ("cpu", "memory", "ephemeral-storage", "storage")


def _ports(ports: Sequence[Obj], host: bool) -> str:
    out = []
    for p in ports:
        number = p.get("hostPort", 0) if host else p.get("containerPort")
        text = f"{number}/{p.get('protocol', 'TCP')}"
        if p.get("name"):
            text += f" ({p['name']})"
        out.append(text)
    return ", ".join(out)


def probe_text(probe: Obj) -> str:
    attrs = (
        f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
        f"period={probe.get('periodSeconds', 10)}s "
        f"successThreshold={probe.get('successThreshold', 1)} "
        f"failureThreshold={probe.get('failureThreshold', 3)}"
    )
    if probe.get("exec"):
        return f"exec [{' '.join(probe['exec'].get('command') or [])}] {attrs}"
    if probe.get("httpGet"):
        h = probe["httpGet"]
        scheme = str(h.get("scheme") or "HTTP").lower()
        host = h.get("host") or ""
        port = h.get("port", "")
        hostport = f"{host}:{port}" if str(port) else host
        return f"http-get {scheme}://{hostport}{h.get('path', '')} {attrs}"
    if probe.get("tcpSocket"):
        t = probe["tcpSocket"]
        return f"tcp-socket {t.get('host', '')}:{t.get('port', '')} {attrs}"
    if probe.get("grpc"):
        g = probe["grpc"]
        return f"grpc <pod>:{g.get('port')} {g.get('service', '')} {attrs}"
    return f"unknown {attrs}"


def _resources(w: Writer, res: Obj | None, level: int) -> None:
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        values = (res or {}).get(key) or {}
        if values:
            w.w(level, f"{title}:\n")
        order = sorted(values, key=lambda k: (k not in _RESOURCE_ORDER, k))
        for name in order:
            w.w(level + 1, f"{name}:\t{values[name]}\n")


def _state(w: Writer, title: str, state: Obj | None) -> None:
    state = state or {}
    if state.get("running") is not None:
        w.w(2, f"{title}:\tRunning\n")
        w.w(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("terminated") is not None:
        t = state["terminated"]
        w.w(2, f"{title}:\tTerminated\n")
        if t.get("reason"):
            w.w(3, f"Reason:\t{t['reason']}\n")
        if t.get("message"):
            w.w(3, f"Message:\t{t['message']}\n")
        w.w(3, f"Exit Code:\t{t.get('exitCode', 0)}\n")
        if t.get("signal"):
            w.w(3, f"Signal:\t{t['signal']}\n")
        w.w(3, f"Started:\t{rfc1123z(t.get('startedAt'))}\n")
        w.w(3, f"Finished:\t{rfc1123z(t.get('finishedAt'))}\n")
    else:
        w.w(2, f"{title}:\tWaiting\n")
        reason = (state.get("waiting") or {}).get("reason")
        if reason:
            w.w(3, f"Reason:\t{reason}\n")


def _env(w: Writer, c: Obj) -> None:
    if c.get("envFrom"):
        w.w(2, "Environment Variables from:\n")
        for e in c["envFrom"]:
            ref, kind = (e.get("configMapRef"), "ConfigMap")
            if ref is None:
                ref, kind = (e.get("secretRef"), "Secret")
            ref = ref or {}
            optional = str(bool(ref.get("optional"))).lower()
            what = f"{kind} with prefix '{e['prefix']}'" if e.get("prefix") else kind
            w.w(3, f"{ref.get('name', '')}\t{what}\tOptional: {optional}\n")
    env = c.get("env") or []
    w.w(2, "Environment:" + ("\t<none>" if not env else "") + "\n")
    for e in env:
        src = e.get("valueFrom")
        if src is None:
            for i, part in enumerate(str(e.get("value", "")).split("\n")):
                w.w(3, (f"{e['name']}:\t{part}\n" if i == 0 else f"\t{part}\n"))
            continue
        if src.get("fieldRef"):
            f = src["fieldRef"]
            w.w(3, f"{e['name']}:\t ({f.get('apiVersion', 'v1')}:{f.get('fieldPath')})\n")
        elif src.get("resourceFieldRef"):
            r = src["resourceFieldRef"]
            w.w(3, f"{e['name']}:\t{r.get('resource')} ({r.get('containerName', '')})\n")
        elif src.get("secretKeyRef") or src.get("configMapKeyRef"):
            secret = src.get("secretKeyRef") is not None
            ref = src.get("secretKeyRef") or src.get("configMapKeyRef") or {}
            where = (
                f"in secret '{ref.get('name')}'" if secret else f"of config map '{ref.get('name')}'"
            )
            optional = str(bool(ref.get("optional"))).lower()
            value = f"<set to the key '{ref.get('key')}' {where}>"
            w.w(3, f"{e['name']}:\t{value}\tOptional: {optional}\n")


def containers(
    w: Writer, label: str, specs: Sequence[Obj], statuses: Sequence[Obj] | None, space: str = ""
) -> None:
    by_name = {s.get("name"): s for s in statuses or []}
    w.w(0, f"{space}{label}:" + (" <none>" if not specs else "") + "\n")
    name_indent = " " if space else ""
    for c in specs:
        st = by_name.get(c.get("name")) if statuses is not None else None
        w.w(1, f"{name_indent}{c.get('name')}:\n")
        if st is not None:
            w.w(2, f"Container ID:\t{st.get('containerID', '')}\n")
        w.w(2, f"Image:\t{c.get('image', '')}\n")
        if st is not None:
            w.w(2, f"Image ID:\t{st.get('imageID', '')}\n")
        ports = _ports(c.get("ports") or [], False)
        host = _ports(c.get("ports") or [], True)
        w.w(2, f"Ports:\t{ports}\n" if "," in ports else f"Port:\t{or_none(ports)}\n")
        w.w(2, f"Host Ports:\t{host}\n" if "," in host else f"Host Port:\t{or_none(host)}\n")
        for title, key in (("Command", "command"), ("Args", "args")):
            if c.get(key):
                w.w(2, f"{title}:\n")
                for arg in c[key]:
                    for part in str(arg).split("\n"):
                        w.w(3, f"{part}\n")
        if st is not None:
            _state(w, "State", st.get("state"))
            if (st.get("lastState") or {}).get("terminated"):
                _state(w, "Last State", st["lastState"])
            w.w(2, f"Ready:\t{'True' if st.get('ready') else 'False'}\n")
            w.w(2, f"Restart Count:\t{st.get('restartCount', 0)}\n")
        _resources(w, c.get("resources"), 2)
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe")):
            if c.get(key):
                w.w(2, f"{title}:\t{probe_text(c[key])}\n")
        if c.get("startupProbe"):
            w.w(2, f"Startup:\t{probe_text(c['startupProbe'])}\n")
        _env(w, c)
        mounts = sorted(c.get("volumeMounts") or [], key=lambda m: str(m.get("mountPath", "")))
        w.w(2, "Mounts:" + ("\t<none>" if not mounts else "") + "\n")
        for m in mounts:
            flags = ["ro" if m.get("readOnly") else "rw"]
            if m.get("subPath"):
                flags.append(f'path="{m["subPath"]}"')
            w.w(3, f"{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})\n")


def volumes(w: Writer, items: Sequence[Obj] | None, space: str = "") -> None:
    if not items:
        w.w(0, f"{space}Volumes:\t<none>\n")
        return
    w.w(0, f"{space}Volumes:\n")
    for v in items:
        w.w(1, f"{' ' if space else ''}{v.get('name')}:\n")
        if v.get("hostPath") is not None:
            h = v["hostPath"]
            w.w(2, "Type:\tHostPath (bare host directory volume)\n")
            w.w(2, f"Path:\t{h.get('path', '')}\n")
            w.w(2, f"HostPathType:\t{h.get('type') or ''}\n")
        elif v.get("emptyDir") is not None:
            e = v["emptyDir"]
            w.w(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
            w.w(2, f"Medium:\t{e.get('medium', '')}\n")
            w.w(2, f"SizeLimit:\t{e.get('sizeLimit') or '<unset>'}\n")
        elif v.get("secret") is not None:
            s = v["secret"]
            w.w(2, "Type:\tSecret (a volume populated by a Secret)\n")
            w.w(2, f"SecretName:\t{s.get('secretName', '')}\n")
            w.w(2, f"Optional:\t{str(bool(s.get('optional'))).lower()}\n")
        elif v.get("configMap") is not None:
            cm = v["configMap"]
            w.w(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
            w.w(2, f"Name:\t{cm.get('name', '')}\n")
            w.w(2, f"Optional:\t{str(bool(cm.get('optional'))).lower()}\n")
        elif v.get("persistentVolumeClaim") is not None:
            claim = v["persistentVolumeClaim"]
            w.w(
                2,
                "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the "
                "same namespace)\n",
            )
            w.w(2, f"ClaimName:\t{claim.get('claimName', '')}\n")
            w.w(2, f"ReadOnly:\t{str(bool(claim.get('readOnly'))).lower()}\n")
        elif v.get("projected") is not None:
            w.w(
                2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n"
            )
            for src in v["projected"].get("sources") or []:
                if src.get("serviceAccountToken") is not None:
                    seconds = src["serviceAccountToken"].get("expirationSeconds", 3607)
                    w.w(2, f"TokenExpirationSeconds:\t{seconds}\n")
                elif src.get("configMap") is not None:
                    w.w(2, f"ConfigMapName:\t{src['configMap'].get('name')}\n")
                    w.w(2, f"Optional:\t{str(bool(src['configMap'].get('optional'))).lower()}\n")
                elif src.get("secret") is not None:
                    w.w(2, f"SecretName:\t{src['secret'].get('name')}\n")
                    w.w(2, f"Optional:\t{str(bool(src['secret'].get('optional'))).lower()}\n")
                elif src.get("downwardAPI") is not None:
                    w.w(2, "DownwardAPI:\ttrue\n")
        else:
            w.w(2, "<unknown>\n")


def qos_class(pod: Obj) -> str:
    qos = (pod.get("status") or {}).get("qosClass")
    if qos:
        return str(qos)
    res = [c.get("resources") or {} for c in (pod.get("spec") or {}).get("containers") or []]
    if all(not r.get("requests") and not r.get("limits") for r in res):
        return "BestEffort"
    guaranteed = all(
        {"cpu", "memory"} <= set(r.get("limits") or {})
        and all(
            (r.get("requests") or {}).get(k, r["limits"][k]) == r["limits"][k]
            for k in ("cpu", "memory")
        )
        for r in res
    )
    return "Guaranteed" if guaranteed else "Burstable"


def describe_pod(p: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    m, spec, st = p.get("metadata") or {}, p.get("spec") or {}, p.get("status") or {}
    w = Writer()
    w.w(0, f"Name:\t{m.get('name')}\n")
    w.w(0, f"Namespace:\t{m.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.w(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.w(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.w(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.w(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    node = spec.get("nodeName")
    w.w(0, f"Node:\t{node}/{st.get('hostIP', '')}\n" if node else "Node:\t<none>\n")
    if st.get("startTime"):
        w.w(0, f"Start Time:\t{rfc1123z(st['startTime'])}\n")
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    if m.get("deletionTimestamp") and st.get("phase") not in ("Failed", "Succeeded"):
        w.w(0, f"Status:\tTerminating (lasts {since(m['deletionTimestamp'], now)})\n")
        w.w(0, f"Termination Grace Period:\t{m.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.w(0, f"Status:\t{st.get('phase', '')}\n")
    if st.get("reason"):
        w.w(0, f"Reason:\t{st['reason']}\n")
    if st.get("message"):
        w.w(0, f"Message:\t{st['message']}\n")
    w.w(0, f"IP:\t{st.get('podIP', '')}\n")
    ips = st.get("podIPs") or []
    if not ips:
        w.w(0, "IPs:\t<none>\n")
    else:
        w.w(0, "IPs:\n")
        for ip in ips:
            w.w(1, f"IP:\t{ip.get('ip')}\n")
    if controller_of(p):
        w.w(0, f"Controlled By:\t{controller_of(p)}\n")
    if st.get("nominatedNodeName"):
        w.w(0, f"NominatedNodeName:\t{st['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        containers(
            w, "Init Containers", spec["initContainers"], st.get("initContainerStatuses") or []
        )
    containers(w, "Containers", spec.get("containers") or [], st.get("containerStatuses") or [])
    if spec.get("readinessGates"):
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        w.w(0, "Readiness Gates:\n  Type\tStatus\n")
        for g in spec["readinessGates"]:
            w.w(1, f"{g.get('conditionType')} \t{conds.get(g.get('conditionType'), '<none>')} \n")
    if st.get("conditions"):
        w.w(0, "Conditions:\n  Type\tStatus\n")
        for c in st["conditions"]:
            w.w(1, f"{c.get('type')} \t{c.get('status')} \n")
    volumes(w, spec.get("volumes"))
    w.w(0, f"QoS Class:\t{qos_class(p)}\n")
    multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    tolerations(w, "Tolerations", spec.get("tolerations"))
    events(w, evs, now)
    return w.text()


def pod_template(w: Writer, template: Obj) -> None:
    """``DescribePodTemplate`` as deployments, replica sets, jobs and sets print it."""
    m, spec = template.get("metadata") or {}, template.get("spec") or {}
    w.w(0, "Pod Template:\n")
    multiline(w, "Labels", m.get("labels"), indent="  ")
    if m.get("annotations"):
        multiline(w, "Annotations", m["annotations"], sep=": ", indent="  ")
    if spec.get("serviceAccountName"):
        w.w(0, f"  Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        containers(w, "Init Containers", spec["initContainers"], None, space="  ")
    containers(w, "Containers", spec.get("containers") or [], None, space="  ")
    volumes(w, spec.get("volumes"), space="  ")
    multiline(w, "Node-Selectors", spec.get("nodeSelector"), indent="  ")
    tolerations(w, "Tolerations", spec.get("tolerations"), indent="  ")
