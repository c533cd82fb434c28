"""Executing remediation actions against a simulated world.

Each action has a generic, honest effect (a restarted pod is a new pod with the
same problem; a cordoned node takes no new pods). Whether it *fixes* anything
is data: if the action matches one of the ground truth's remediations, the
scenario's ``after_fix`` patch is applied; if it matches a declared harmful
action, that action's ``effect`` is. Nothing else makes symptoms go away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.domain.vocabulary import Domain
from nightshift.scenarios.actions_catalog import ACTION_TYPES, normalize_action
from nightshift.scenarios.cluster import (
    pod_ready,
    revision_hash,
    stable_int,
    stable_token,
    workload_pods,
)
from nightshift.scenarios.healing import heal
from nightshift.scenarios.kube_model import Event, Pod, Revision, Workload
from nightshift.scenarios.model import Change, Remediation, Scenario, WorldState
from nightshift.scenarios.patching import apply_patch

_GENERATED = 5  # seconds: age of objects an action creates (the clock is frozen)


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    action_type: str
    target: str
    dry_run: bool
    ok: bool  # the action was valid and (unless dry-run) executed
    message: str  # what kubectl / the tool would print
    changes: tuple[str, ...] = ()
    fixes_root_cause: bool = False  # matches a ground-truth remediation
    symptoms_present: bool = True  # after the action


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    name: str
    namespace: str | None

    @classmethod
    def parse(cls, target: str, namespace: str | None) -> Target:
        """``kind/name`` or ``namespace/kind/name``; kinds compare case- and dash-blind."""
        parts = target.strip().split("/")
        if len(parts) == 3:
            return cls(_kind(parts[1]), parts[2], parts[0])
        if len(parts) == 2:
            return cls(_kind(parts[0]), parts[1], namespace)
        return cls("", parts[0], namespace)


def _kind(text: str) -> str:
    kind = text.lower().replace("-", "").replace("_", "")
    return {
        "deploy": "deployment",
        "deployments": "deployment",
        "pods": "pod",
        "no": "node",
        "nodes": "node",
        "po": "pod",
    }.get(kind, kind)


def _params_satisfy(required: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """Exact values, or ``{min: N}`` / ``{max: N}`` bounds (scale to at least / at most N)."""
    for key, want in required.items():
        have = given.get(key)
        if isinstance(want, Mapping):
            if not isinstance(have, int | float) or isinstance(have, bool):
                return False
            if "min" in want and have < want["min"]:
                return False
            if "max" in want and have > want["max"]:
                return False
        elif have != want:
            return False
    return True


def matches_remediation(
    state: WorldState, rem: Remediation, action: str, target: Target, params: Mapping[str, Any]
) -> bool:
    if normalize_action(rem.action) != action:
        return False
    want = Target.parse(rem.target, rem.namespace)
    if want.namespace and target.namespace and want.namespace != target.namespace:
        return False
    if not _params_satisfy(rem.params, params):
        return False
    if want.name.lower() == target.name.lower() and want.kind in ("", target.kind):
        return True
    if target.kind == "pod" and want.kind in ("deployment", "statefulset", "daemonset"):
        pod = _pod(state, target)  # any pod of the workload the truth names
        return pod is not None and (pod.owner or "").lower() == f"{want.kind}/{want.name}".lower()
    return False


def _pod(state: WorldState, target: Target) -> Pod | None:
    return next(
        (
            p
            for p in state.pods
            if p.name == target.name and target.namespace in (None, p.namespace)
        ),
        None,
    )


def _workload(state: WorldState, target: Target) -> Workload | None:
    return next(
        (
            w
            for w in state.deployments
            if w.name == target.name
            and target.namespace in (None, w.namespace)
            and target.kind in ("", "deployment", "deploy", w.kind.lower())
        ),
        None,
    )


def _replacement(state: WorldState, pod: Pod, salt: str) -> Pod:
    """The pod its controller creates after ``pod`` is deleted: same problem, fresh clock."""
    name = pod.name
    if pod.owner and pod.owner.startswith("deployment/"):
        name = f"{pod.name.rsplit('-', 1)[0]}-{stable_token(pod.name + salt, 5)}"
    containers = []
    for st in pod.containers:
        healthy = st.state == "running"
        containers.append(
            st.model_copy(
                update={
                    "restarts": 0 if healthy else min(st.restarts, 1),
                    "last_state": None if healthy else st.last_state,
                    "started": _GENERATED if st.started is not None else None,
                    "previous_logs": None if healthy else st.previous_logs,
                }
            )
        )
    ip = pod.ip
    if ip is not None:
        ip = f"{ip.rsplit('.', 1)[0]}.{stable_int(name, 240) + 10}"
    return pod.model_copy(
        update={
            "name": name,
            "age": _GENERATED,
            "containers": containers,
            "terminating": False,
            "ip": ip,
        }
    )


def _restart_pods(state: WorldState, pods: list[Pod], salt: str) -> list[str]:
    notes = []
    for pod in pods:
        new = _replacement(state, pod, salt)
        state.pods = [new if p is pod else p for p in state.pods]
        state.events += [
            Event(
                namespace=pod.namespace,
                kind="Pod",
                name=pod.name,
                reason="Killing",
                message=f"Stopping container {c.name}",
                last_seen=_GENERATED,
            )
            for c in pod.containers[:1]
        ] + [
            Event(
                namespace=pod.namespace,
                kind="Pod",
                name=new.name,
                reason="Scheduled",
                source="default-scheduler",
                last_seen=_GENERATED,
                message=f"Successfully assigned {pod.namespace}/{new.name} to {pod.node}",
            )
        ]
        notes.append(f"pod {pod.namespace}/{pod.name} replaced by {new.name}")
    return notes


def _rollback(state: WorldState, w: Workload, counter: int) -> list[str]:
    """kubectl rollout undo: the previous template becomes the newest revision.

    The template is identical, so its pod-template-hash (and replica set) is the
    previous revision's; the current pods are replaced by fresh ones.
    """
    revs = w.revisions
    previous, current = revs[-2], revs[-1]
    images = {c.name: c.image for c in w.template.containers}
    for rev in revs[:-1]:
        images.update(rev.images)
    new_rev = Revision(
        revision=current.revision + 1,
        age=_GENERATED,
        hash=revision_hash(w, previous.revision),
        change_cause=previous.change_cause,
        images=images,
        env=previous.env,
        template=previous.template,
    )
    w.revisions = [*revs[:-2], current, new_rev]
    if previous.template is not None:
        w.template = previous.template.model_copy(deep=True)
    else:
        w.template.containers = [
            c.model_copy(
                update={
                    "image": images.get(c.name, c.image),
                    "env": previous.env.get(c.name, c.env),
                }
            )
            for c in w.template.containers
        ]
    pods = workload_pods(state, w)
    kept = [p for p in pods if p.revision == previous.revision]
    for pod in kept:  # the previous replica set is the new one again
        pod.revision = new_rev.revision
    wanted = max(w.replicas - len(kept), 0)
    for pod in [p for p in pods if (p.revision or current.revision) == current.revision]:
        if wanted <= 0:
            state.pods = [p for p in state.pods if p is not pod]
            continue
        wanted -= 1
        fresh = _replacement(state, pod, f"#{counter}")
        suffix = stable_token(f"{pod.name}#{counter}", 5)
        fresh.name = f"{w.name}-{new_rev.hash}-{suffix}"
        fresh.revision = new_rev.revision
        fresh.containers = [c.model_copy(update={"image": None}) for c in fresh.containers]
        state.pods = [fresh if p is pod else p for p in state.pods]
    return [
        f"{w.kind.lower()} {w.namespace}/{w.name} rolled back to the template of revision "
        f"{previous.revision} (now revision {new_rev.revision})"
    ]


@dataclass(frozen=True, slots=True)
class _Call:
    """One action request as a handler sees it."""

    state: WorldState
    action: str
    target: Target
    target_text: str
    params: Mapping[str, Any]
    dry_run: bool
    counter: int

    @property
    def suffix(self) -> str:
        return " (server dry run)" if self.dry_run else ""


@dataclass(frozen=True, slots=True)
class _Done:
    """What an action did: what kubectl would print, what changed, how it is recorded."""

    message: str
    notes: list[str]
    domain: Domain = Domain.KUBERNETES
    kind: str = "deployment"


# A handler returns what it did, or the error message of a refused action.
_Handler = Callable[[_Call], "_Done | str"]


def _restart_pod(c: _Call) -> _Done | str:
    pod = _pod(c.state, c.target)
    if pod is None:
        return f'Error from server (NotFound): pods "{c.target.name}" not found'
    notes = [] if c.dry_run else _restart_pods(c.state, [pod], f"#{c.counter}")
    return _Done(f'pod "{pod.name}" deleted{c.suffix}', notes)


def _on_workload(verb: str, act: Callable[[_Call, Workload], list[str] | str]) -> _Handler:
    """restart/scale/rollback share the lookup and kubectl's "<kind>.apps/<name> <verb>"."""

    def handler(c: _Call) -> _Done | str:
        w = _workload(c.state, c.target)
        if w is None:
            return f'Error from server (NotFound): deployments.apps "{c.target.name}" not found'
        notes = act(c, w)
        if isinstance(notes, str):
            return notes
        return _Done(f"{w.kind.lower()}.apps/{w.name} {verb}{c.suffix}", notes)

    return handler


def _restart_workload(c: _Call, w: Workload) -> list[str] | str:
    return [] if c.dry_run else _rollout_restart(c.state, w, c.counter)


def _scale_workload(c: _Call, w: Workload) -> list[str] | str:
    replicas = c.params.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        return "error: params.replicas must be a non-negative integer"
    return [] if c.dry_run else _scale(c.state, w, replicas, c.counter)


def _rollback_workload(c: _Call, w: Workload) -> list[str] | str:
    if len(w.revisions) < 2:
        return f'error: no rollout history found for {w.kind.lower()} "{w.name}"'
    return [] if c.dry_run else _rollback(c.state, w, c.counter)


def _set_cordon(want: bool) -> _Handler:
    def handler(c: _Call) -> _Done | str:
        node = next((n for n in c.state.nodes if n.name == c.target.name), None)
        if node is None:
            return f'Error from server (NotFound): nodes "{c.target.name}" not found'
        verb = "cordoned" if want else "uncordoned"
        already = node.unschedulable == want
        notes: list[str] = []
        if not c.dry_run and not already:
            node.unschedulable = want
            notes = [f"node {node.name} {verb}"]
        message = f"node/{node.name} {'already ' if already else ''}{verb}{c.suffix}"
        return _Done(message, notes, Domain.KUBERNETES, "infrastructure")

    return handler


def _revert(c: _Call) -> _Done | str:
    """Undo a change: a firewall change loses the rules it introduced."""
    change_id = c.target.name
    change = next((ch for ch in c.state.changes if ch.id == change_id), None)
    rules = [
        r for rs in c.state.firewall for r in rs.rules if r.change == change_id or r.id == change_id
    ]
    if change is None and not rules:
        return f"error: no change or firewall rule with id '{change_id}'"
    if c.action == "revert-firewall-rule" and not rules:
        return f"error: change '{change_id}' introduced no firewall rule"
    what = "change" if change is not None else "firewall rule"
    message = f"{what} {change_id} reverted{c.suffix}"
    if rules:
        message += f" ({len(rules)} firewall rule(s) removed)"
    notes: list[str] = []
    if not c.dry_run:
        for rs in c.state.firewall:
            rs.rules = [r for r in rs.rules if r not in rules]
        notes = [f"removed firewall rule {r.id}" for r in rules] or [f"reverted {change_id}"]
    domain = change.domain if change else Domain.NETWORK
    kind = "firewall" if rules else (change.kind if change else "config")
    return _Done(message, notes, domain, kind)


def _clear_cache(c: _Call) -> _Done | str:
    notes = [] if c.dry_run else [f"cache cleared on {c.target_text}"]
    message = f"cache flushed on {c.target_text}{c.suffix}"
    return _Done(message, notes, Domain.APPLICATION, "config")


HANDLERS: Mapping[str, _Handler] = {
    "restart-pod": _restart_pod,
    "restart-deployment": _on_workload("restarted", _restart_workload),
    "scale-deployment": _on_workload("scaled", _scale_workload),
    "rollback-deployment": _on_workload("rolled back", _rollback_workload),
    "cordon-node": _set_cordon(True),
    "uncordon-node": _set_cordon(False),
    "revert-firewall-rule": _revert,
    "revert-change": _revert,
    "clear-cache": _clear_cache,
}


def execute(
    scenario: Scenario,
    state: WorldState,
    action_type: str,
    target_text: str,
    params: Mapping[str, Any],
    dry_run: bool,
    counter: int,
) -> ActionOutcome:
    action = normalize_action(action_type)
    target = Target.parse(target_text, params.get("namespace"))
    handler = HANDLERS.get(action)
    if handler is None:
        known = ", ".join(sorted(ACTION_TYPES))
        return ActionOutcome(
            action, target_text, dry_run, False,
            f"unknown action '{action_type}' (known: {known})", symptoms_present=symptoms(state),
        )  # fmt: skip
    done = handler(_Call(state, action, target, target_text, params, dry_run, counter))
    if isinstance(done, str):
        return ActionOutcome(
            action, target_text, dry_run, False, done, symptoms_present=symptoms(state)
        )
    fixes = any(
        matches_remediation(state, r, action, target, params)
        for r in scenario.ground_truth.remediation
    )
    if dry_run:
        return ActionOutcome(
            action, target_text, True, True, done.message, (), fixes, symptoms(state)
        )
    notes = list(done.notes)
    if fixes:
        notes += apply_patch(state, scenario.ground_truth.after_fix)
        for entry in scenario.ground_truth.after_fix.heal:
            notes += heal(state, entry)
    else:
        for harm in scenario.ground_truth.harmful_actions:
            if matches_remediation(state, harm, action, target, params):
                effect = harm.effect.model_copy(update={"resolve_symptom_alerts": False})
                notes += apply_patch(state, effect)
    state.changes.append(
        Change(
            id=f"ACT-{counter}",
            at=0,
            domain=done.domain,
            kind=done.kind,
            actor="nightshift-remediation",
            target=target_text,
            summary=f"{action} {target_text}".strip(),
        )
    )
    return ActionOutcome(
        action, target_text, False, True, done.message, tuple(notes), fixes, symptoms(state)
    )


def _rollout_restart(state: WorldState, w: Workload, counter: int) -> list[str]:
    """kubectl rollout restart: a new revision (same template), every pod replaced."""
    if w.kind != "Deployment":
        return _restart_pods(state, workload_pods(state, w), f"#{counter}")
    current = w.revisions[-1] if w.revisions else Revision(revision=1, age=w.age)
    new_rev = Revision(
        revision=current.revision + 1,
        age=_GENERATED,
        hash=stable_token(f"{w.namespace}/{w.name}#restart{counter}", 10),
        change_cause=current.change_cause,
    )
    w.revisions = [*w.revisions[-9:], new_rev] if w.revisions else [current, new_rev]
    for pod in workload_pods(state, w):
        fresh = _replacement(state, pod, f"#{counter}")
        fresh.name = f"{w.name}-{new_rev.hash}-{stable_token(pod.name + str(counter), 5)}"
        fresh.revision = new_rev.revision
        state.pods = [fresh if p is pod else p for p in state.pods]
    return [f"deployment {w.namespace}/{w.name} restarted as revision {new_rev.revision}"]


def _scale(state: WorldState, w: Workload, replicas: int, counter: int) -> list[str]:
    # like a ReplicaSet scaling down: unscheduled and unready pods go first
    pods = sorted(
        workload_pods(state, w),
        key=lambda p: (p.node is None, not pod_ready(state, p), p.name),
    )
    before = w.replicas
    w.replicas = replicas
    if replicas < len(pods):
        drop = {p.name for p in pods[replicas:]}
        state.pods = [p for p in state.pods if not (p.namespace == w.namespace and p.name in drop)]
    elif pods:
        for i in range(len(pods), replicas):
            state.pods.append(_replacement(state, pods[i % len(pods)], f"#{counter}/{i}"))
    return [f"{w.kind.lower()} {w.namespace}/{w.name} scaled from {before} to {replicas}"]


def symptoms(state: WorldState) -> bool:
    """Symptoms are present while any alert marked as a symptom is firing."""
    return any(a.symptom for a in state.alerts)
