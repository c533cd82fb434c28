"""Drift between the cluster and Git, with its author.

Every field Git declares is compared with the live object (fields Git leaves out,
defaults the API server filled in, and status are not drift). Each difference is
attributed from the object's ``managedFields``: the field manager that last wrote
that field. Nightshift writes as the manager ``nightshift``; for its changes the
report names the investigation (from the control plane's records, when given) and
whether the commit that should record it exists. A Nightshift change with no
matching commit is Git no longer describing production: the caller escalates it.

The phase each agent runs at is compared too (``phase_drift``): Git declares it by
the chart's values file holding the agent, the cluster by the agent's phase
ServiceAccount. An agent live at another phase holds another phase's permissions,
which is blast-radius drift whichever way it points.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nightshift.gitops.controllers import SyncedPath
from nightshift.gitops.declared import ObjectKey, declared_objects
from nightshift.gitops.record import INVESTIGATION_TRAILER
from nightshift.gitops.working_copy import WorkingCopy
from nightshift.k8s.apply import FIELD_MANAGER

Path_ = tuple[str | int, ...]
# The live object for a declared key, or None when the cluster does not have it.
LiveLookup = Callable[[ObjectKey], Mapping[str, Any] | None]
# The investigation whose executed action last changed this object, if Nightshift knows.
InvestigationLookup = Callable[[ObjectKey], str | None]


@dataclass(frozen=True, slots=True)
class Drift:
    key: ObjectKey
    path: str  # "spec.replicas", "spec.template.spec.containers[0].image"
    git: Any
    live: Any
    author: str  # "nightshift", another field manager's name, or "unknown"
    investigation: str | None = None
    committed: bool | None = None  # for Nightshift's changes: the recording commit exists

    @property
    def needs_escalation(self) -> bool:
        return self.author == FIELD_MANAGER and self.committed is False

    def __str__(self) -> str:
        head = (
            f"[{'nightshift' if self.author == FIELD_MANAGER else 'drift'}] {self.key} {self.path}"
        )
        values = f"git={json.dumps(self.git)} live={json.dumps(self.live)}"
        if self.author == FIELD_MANAGER:
            inv = self.investigation or "investigation unknown"
            commit = {True: "commit exists", False: "NO COMMIT: escalate", None: "commit unknown"}
            return f"{head}: {values}; changed by Nightshift ({inv}; {commit[self.committed]})"
        who = "no known author" if self.author == "unknown" else f"field manager {self.author}"
        return f"{head}: {values}; changed by {who}"


def _differences(git: Any, live: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any, Any]]:
    """Where ``live`` differs from what ``git`` declares (git's fields only)."""
    if isinstance(git, Mapping):
        if not isinstance(live, Mapping):
            yield path, git, live
            return
        for key, value in git.items():
            yield from _differences(value, live.get(key), (*path, str(key)))
    elif isinstance(git, list):
        if not isinstance(live, list) or len(live) != len(git):
            yield path, git, live
            return
        for i, (g, lv) in enumerate(zip(git, live, strict=True)):
            yield from _differences(g, lv, (*path, i))
    elif git != live and not (isinstance(git, int | float) and str(git) == str(live)):
        yield path, git, live


def _item_key(node: Mapping[str, Any], item: Any) -> str | None:
    """The fieldsV1 key of a list item: ``k:{"name":"app"}`` for keyed lists (the
    item holds every key value), ``v:...`` for a set of plain values."""
    for key in node:
        if key.startswith("k:") and isinstance(item, Mapping):
            try:
                wanted = json.loads(key[2:])
            except ValueError:
                continue
            if all(item.get(k) == v for k, v in wanted.items()):
                return key
        elif (
            key.startswith("v:")
            and not isinstance(item, Mapping | list)
            and key[2:] == json.dumps(item, separators=(",", ":"))
        ):
            return key
    return None


def _owns(fields: Mapping[str, Any], live: Any, path: Path_) -> int:
    """How deep into ``path`` a manager's fieldsV1 reaches."""
    depth, node, obj = 0, fields, live
    for part in path:
        if isinstance(part, int):
            item = obj[part] if isinstance(obj, list) and part < len(obj) else None
            key = _item_key(node, item)
        else:
            item = obj.get(part) if isinstance(obj, Mapping) else None
            key = f"f:{part}" if f"f:{part}" in node else None
        if key is None:
            return depth
        node, obj = node[key], item
        depth += 1
    return depth


def author_of(live: Mapping[str, Any], path: Path_) -> str:
    """The manager that last wrote the field at ``path`` ("unknown" if none owns it:
    owning a parent map, such as ``spec``, is not owning each field inside it)."""
    best: tuple[str, str] | None = None  # (time, manager)
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if _owns(entry.get("fieldsV1") or {}, live, path) < len(path):
            continue
        candidate = (str(entry.get("time") or ""), str(entry.get("manager") or "unknown"))
        if best is None or candidate[0] > best[0]:
            best = candidate
    return best[1] if best is not None else "unknown"


def _text(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def git_drift(
    copy: WorkingCopy,
    live: LiveLookup,
    investigation_of: InvestigationLookup | None = None,
    synced: Sequence[SyncedPath] = (),
) -> list[Drift]:
    found: list[Drift] = []
    for key, decl in sorted(declared_objects(copy.root, synced).items()):
        obj = live(key)
        if obj is None:
            found.append(Drift(key, "(object)", "declared", None, "unknown"))
            continue
        declared = {k: v for k, v in decl.body.items() if k not in ("status", "apiVersion", "kind")}
        meta = dict(declared.pop("metadata", {}) or {})
        watched = {k: meta[k] for k in ("labels", "annotations") if k in meta}
        for path, git_value, live_value in _differences({**declared, "metadata": watched}, obj):
            author = author_of(obj, path)
            inv, committed = None, None
            if author == FIELD_MANAGER:
                # Nightshift's change differs from Git: Git does not record it, unless a
                # commit names the investigation (and someone changed Git since).
                inv = investigation_of(key) if investigation_of is not None else None
                committed = inv is not None and bool(
                    copy.commits_with_trailer(INVESTIGATION_TRAILER, inv)
                )
            found.append(Drift(key, _text(path), git_value, live_value, author, inv, committed))
    return found


@dataclass(frozen=True, slots=True)
class PhaseDrift:
    agent: str
    environment: str
    git: str | None  # the phase Git declares; None: declared in no phase file
    live: tuple[str, ...]  # the phases the cluster has ServiceAccounts for

    def __str__(self) -> str:
        git = f"Git declares {self.git}" if self.git else "Git declares no phase"
        live = f"the cluster runs {', '.join(self.live)}" if self.live else "nothing is live"
        return f"[phase] {self.agent} in {self.environment}: {git}, {live}"


def phase_drift(
    declared: Mapping[str, str], live: Mapping[str, Sequence[str]], environment: str
) -> list[PhaseDrift]:
    """Every agent whose live phase is not exactly the one Git declares (``live``:
    agent -> the phases its live ServiceAccounts carry)."""
    found = []
    for agent in sorted(set(declared) | set(live)):
        git, running = declared.get(agent), tuple(sorted(set(live.get(agent, ()))))
        if running != ((git,) if git else ()):
            found.append(PhaseDrift(agent, environment, git, running))
    return found
