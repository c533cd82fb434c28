"""Which investigation's executed action last changed an object, from the control
plane's own records (the proposals it executed), for drift attributed to Nightshift."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nightshift.domain.changes import Change
from nightshift.domain.diagnosis import ResourceRef
from nightshift.gitops.declared import ObjectKey
from nightshift.gitops.modes import object_key


def investigation_lookup(
    executed: Iterable[Any], change: Callable[[str], Change | None]
) -> Callable[[ObjectKey], str | None]:
    """``executed``: executed proposals, newest first; ``change``: a change by its id
    (a revert names the change, and the object is the change's target)."""
    by_key: dict[ObjectKey, str] = {}
    for proposal in executed:
        target = proposal.target or {}
        kind, name = str(target.get("kind", "")), str(target.get("name", ""))
        namespace = target.get("namespace") or None
        if kind.lower() == "change":
            found = change(name)
            if found is None or not found.target.kind:
                continue
            t = found.target
            kind, name, namespace = t.kind, t.name, t.namespace or None
        key = object_key(ResourceRef(kind, name, namespace))
        by_key.setdefault(key, proposal.investigation_id)  # newest first: keep the first
    return by_key.get
