"""The lines every simulated ``kubectl describe`` shares: ``Key:  value`` rows,
multi-line labels, the Events table, and a container's spec and tail
(ports, probes, environment, mounts), laid out as kubectl's describe does."""

from __future__ import annotations

from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.kube_model import (
    Container,
    Event,
    Probe,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.tabular import table


def kv(key: str, value: str, width: int, indent: int = 0) -> str:
    return (" " * indent + f"{key}:".ljust(width) + value).rstrip()


def multiline_labels(labels: dict[str, str], width: int, sep: str = "=") -> str:
    if not labels:
        return "<none>"
    items = [f"{k}{sep}{v}" for k, v in sorted(labels.items())]
    return ("\n" + " " * width).join(items)


def events_section(events: list[Event]) -> str:
    if not events:
        return "Events:  <none>"
    rows = []
    for e in sorted(events, key=lambda e: -(e.first_seen or e.last_seen)):
        age = human_duration(e.last_seen)
        if e.count > 1:
            first = e.first_seen if e.first_seen is not None else e.last_seen
            age = f"{age} (x{e.count} over {human_duration(first)})"
        rows.append([e.type, e.reason, age, e.source, e.message])
    body = table(
        ["Type", "Reason", "Age", "From", "Message"],
        [["----", "------", "----", "----", "-------"], *rows],
        padding=2,
    )
    return "Events:\n" + "\n".join("  " + line for line in body.splitlines())


def events_for(state: WorldState, kind: str, name: str, namespace: str | None) -> list[Event]:
    return [
        e
        for e in state.events
        if e.kind.lower() == kind.lower()
        and e.name == name
        and (namespace is None or e.namespace == namespace)
    ]


def probe_text(probe: Probe) -> str:
    timing = (
        f"delay={probe.initial_delay}s timeout={probe.timeout}s period={probe.period}s "
        f"#success={probe.success} #failure={probe.failure}"
    )
    if probe.type == "http-get":
        return f"http-get {probe.scheme}://:{probe.port}{probe.path} {timing}"
    if probe.type == "tcp-socket":
        return f"tcp-socket :{probe.port} {timing}"
    if probe.type == "grpc":
        return f"grpc <pod>:{probe.port} {timing}"
    return f"exec [{' '.join(probe.command)}] {timing}"


def _env_value(value: str) -> str:
    for prefix, what in (("secret:", "secret"), ("configmap:", "config map")):
        if value.startswith(prefix):
            ref, _, key = value[len(prefix) :].partition("/")
            verb = "in" if what == "secret" else "of"
            return f"<set to the key '{key}' {verb} {what} '{ref}'>  Optional: false"
    return value


def container_spec_lines(c: Container, indent: int, width: int = 15) -> list[str]:
    pad = " " * indent
    lines = []
    if c.ports:
        lines.append(
            kv("Port", ", ".join(f"{p.port}/{p.protocol}" for p in c.ports), width, indent)
        )
        lines.append(kv("Host Port", ", ".join(f"0/{p.protocol}" for p in c.ports), width, indent))
    else:
        lines += [kv("Port", "<none>", width, indent), kv("Host Port", "<none>", width, indent)]
    for label, values in (("Command", c.command), ("Args", c.args)):
        if values:
            lines.append(f"{pad}{label}:")
            lines += [f"{pad}  {v}" for v in values]
    return lines


def container_tail_lines(
    c: Container, indent: int, extra_mounts: tuple[str, ...] = ()
) -> list[str]:
    pad = " " * indent
    lines = []
    for label, res in (("Limits", c.resources.limits), ("Requests", c.resources.requests)):
        if res:
            lines.append(f"{pad}{label}:")
            width = max(len(k) for k in res) + 3
            lines += [kv(k, v, width, indent + 2) for k, v in sorted(res.items())]
    for label, probe in (
        ("Liveness", c.liveness),
        ("Readiness", c.readiness),
        ("Startup", c.startup),
    ):
        if probe is not None:
            lines.append(kv(label, probe_text(probe), 14, indent))
    if c.env_from:
        lines.append(f"{pad}Environment Variables from:")
        for ref in c.env_from:
            kind, _, name = ref.partition(":")
            label = "Secret" if kind == "secret" else "ConfigMap"
            lines.append(f"{pad}  {name}  {label}  Optional: false")
    if c.env:
        lines.append(f"{pad}Environment:")
        width = max(len(k) for k in c.env) + 3
        lines += [kv(k, _env_value(v), width, indent + 2) for k, v in c.env.items()]
    else:
        lines.append(kv("Environment", "<none>", 14, indent))
    mounts = [f"{m.path} from {m.volume} ({'ro' if m.read_only else 'rw'})" for m in c.mounts]
    mounts += extra_mounts
    if mounts:
        lines.append(f"{pad}Mounts:")
        lines += [f"{pad}  {m}" for m in mounts]
    else:
        lines.append(kv("Mounts", "<none>", 14, indent))
    return lines
