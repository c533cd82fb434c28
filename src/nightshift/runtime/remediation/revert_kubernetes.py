"""``revert-change`` on a real cluster: put one object back to its state before a change.

The proposal names the change (``Change/FW-3141``) or the object it touched
(``NetworkPolicy/checkout-egress``); what is restored comes from the change feed's
``before`` (the control plane's record, read through ``ChangeHistory``), never from
the proposal's parameters, so an agent cannot have arbitrary state written. The
restore is one JSON merge patch per call that makes each recorded section equal to
``before`` again (fields added since are removed), sent as the agent's impersonated
identity like every other action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightshift.domain.changes import Change
from nightshift.k8s.client import JSON, KubeApi, KubeError, resource_path
from nightshift.services.remediation_port import ChangeHistory, Effect, RemediationJob, StepResult

# Kinds revert-change may write (what ACTION_WRITES grants): kind -> (apiVersion, plural).
# Secrets are absent on purpose: the change feed never records their state.
REVERTABLE: dict[str, tuple[str, str]] = {
    "NetworkPolicy": ("networking.k8s.io/v1", "networkpolicies"),
    "Ingress": ("networking.k8s.io/v1", "ingresses"),
    "ConfigMap": ("v1", "configmaps"),
    "Service": ("v1", "services"),
    "Deployment": ("apps/v1", "deployments"),
}
# Sections the server owns or that identify the object: never restored.
_SKIP = frozenset({"apiVersion", "kind", "status"})
_META = ("labels", "annotations")  # the only metadata a revert puts back


def find_change(history: ChangeHistory | None, job: RemediationJob) -> Change | str:
    """The recorded change a job reverts, or why there is none."""
    if history is None:
        return "revert-change: this control plane has no change feed to read the prior state from"
    t = job.target
    if t.kind.lower() == "change":
        change = history.get(t.name)
        if change is None:
            return f"revert-change: no change with id {t.name!r} in the change feed"
    else:
        change = history.latest_for(t.kind, t.name, t.namespace or "")
        if change is None:
            return f"revert-change: the change feed records no prior state of {t}"
    if not change.target.kind:
        return (
            f"revert-change: change {change.ref} targets {change.target.display()!r}, not an object"
        )
    if change.before is None:
        return f"revert-change: change {change.ref} did not record the state before it"
    if change.target.kind not in REVERTABLE:
        return f"revert-change: {change.target.kind} objects are not reverted on Kubernetes"
    return change


def object_path(change: Change) -> str:
    version, plural = REVERTABLE[change.target.kind]
    return resource_path(version, plural, change.target.namespace or None, change.target.name)


def sections(before: Mapping[str, Any]) -> dict[str, Any]:
    """What a revert restores: every top-level section but identity and status;
    of metadata, only labels and annotations."""
    out = {k: v for k, v in before.items() if k not in _SKIP and k != "metadata"}
    meta = before.get("metadata")
    if isinstance(meta, Mapping):
        kept = {k: meta[k] for k in _META if k in meta}
        if kept:
            out["metadata"] = kept
    return out


def restore_patch(live: Any, wanted: Any) -> Any:
    """A merge patch turning ``live`` into ``wanted``: maps merge key by key (keys
    ``wanted`` lacks become null, i.e. removed), anything else is replaced whole."""
    if not isinstance(wanted, Mapping) or not isinstance(live, Mapping):
        return wanted
    patch: dict[str, Any] = {k: None for k in live if k not in wanted}
    for key, value in wanted.items():
        if key not in live or live[key] != value:
            patch[key] = restore_patch(live.get(key), value)
    return patch


def contains(live: Any, wanted: Any) -> bool:
    """Is ``wanted`` in ``live``? The server adds defaults (a port's protocol), so a
    restored object holds at least what was recorded."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(
            contains(live.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(contains(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return bool(live == wanted)


def revert(
    api: KubeApi,
    job: RemediationJob,
    history: ChangeHistory | None,
    *,
    dry_run: bool,
    restore: Mapping[str, Any] | None = None,
) -> StepResult:
    """Restore the object; ``restore`` (a rollback's recorded state) overrides the feed."""
    change = find_change(history, job)
    if isinstance(change, str):
        return StepResult(False, change)
    path = object_path(change)
    ref = f"{change.target.kind.lower()}/{change.target.name}"
    wanted = sections(restore if restore is not None else change.before or {})
    tag = " (server dry run)" if dry_run else ""
    try:
        live: JSON = api.get(path)
        current = {k: live.get(k) for k in wanted if k != "metadata"}
        if "metadata" in wanted:
            meta = live.get("metadata") or {}
            current["metadata"] = {k: meta.get(k) for k in _META if k in wanted["metadata"]}
        patch = restore_patch(current, wanted)
        if not patch:
            return StepResult(True, f"{ref} already matches its state before {change.ref}{tag}")
        api.merge_patch(path, patch, dry_run=dry_run)
    except KubeError as exc:
        return StepResult(False, f"revert-change refused by the API server: {exc}")
    return StepResult(
        True,
        f"{ref} restored to its state before {change.ref}{tag}",
        (f"revert {change.ref}: {', '.join(sorted(wanted))} of {ref}",),
        # The inverse puts back what this revert replaced (recorded by the control plane).
        {"restore": {k: v for k, v in current.items() if v is not None}},
    )


def observe_revert(
    admin: KubeApi, job: RemediationJob, history: ChangeHistory | None
) -> tuple[Effect, str]:
    change = find_change(history, job)
    if isinstance(change, str):
        return "unknown", change
    ref = f"{change.target.kind.lower()}/{change.target.name}"
    try:
        live = admin.get(object_path(change))
    except KubeError as exc:
        return "unknown", f"could not read {ref}: {exc}"
    back = contains(live, sections(change.before or {}))
    effect: Effect = "in_effect" if back else "not_in_effect"
    state = "matches" if back else "differs from"
    return effect, f"{ref} {state} its state before {change.ref}"
