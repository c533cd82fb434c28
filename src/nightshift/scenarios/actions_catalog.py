"""The remediation actions the simulated world can execute (names only).

Names follow the domain action catalog (src/nightshift/domain/actions.yaml);
``revert-change`` (undo a recorded config/schema change) is the world's own
addition. ``_`` is accepted for ``-`` and a few spellings are aliases.
"""

from __future__ import annotations

ACTION_TYPES: frozenset[str] = frozenset(
    {
        "restart-pod",
        "restart-deployment",
        "clear-cache",
        "scale-deployment",
        "rollback-deployment",
        "cordon-node",
        "uncordon-node",
        "revert-firewall-rule",
        "revert-change",
    }
)


_ALIASES = {
    "revert-firewall-change": "revert-firewall-rule",
    "rollout-restart": "restart-deployment",
    "delete-pod": "restart-pod",
    "rollback": "rollback-deployment",
}


def normalize_action(action_type: str) -> str:
    name = action_type.strip().lower().replace("_", "-")
    return _ALIASES.get(name, name)
