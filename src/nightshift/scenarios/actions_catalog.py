"""The remediation actions the simulated world can execute (names only).

The names are listed once, in the domain action catalog
(src/nightshift/domain/actions.yaml), and read here through its loader: what an
agent may propose is what the world can carry out. ``_`` is accepted for ``-``
and a few spellings are aliases.
"""

from __future__ import annotations

from nightshift.domain.actions import load_action_catalog

# Exactly the catalog's names, with no world-only extras: ``revert-change`` was the
# world's own addition until the catalog defined it (9926e4f). An action only the
# world executes would be joined to this set here, by name, with its reason.
ACTION_TYPES: frozenset[str] = frozenset(spec.name for spec in load_action_catalog())


_ALIASES = {
    "revert-firewall-change": "revert-firewall-rule",
    "rollout-restart": "restart-deployment",
    "delete-pod": "restart-pod",
    "rollback": "rollback-deployment",
}


def normalize_action(action_type: str) -> str:
    name = action_type.strip().lower().replace("_", "-")
    return _ALIASES.get(name, name)
