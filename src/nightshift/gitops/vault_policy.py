"""The agent's Vault policy file in the GitOps repository, beside its values.

A phase change is "a Helm values change and a Vault policy update reviewed in one
pull request". Vault grants a per-investigation token the named policies of its
phase and domains (secrets.policies.policies_for); the reviewed file
``vault/policies/<env>/<agent>.hcl`` holds exactly their HCL, as ``nightshift
vault policies`` prints it, for the phase Git declares the agent at. One file per
agent and environment, rewritten in place by a phase change, so the pull request's
diff is the grant that changes (remediation paths going from ``deny`` to
``read`` on a promotion, the reverse on a demotion).
"""

from __future__ import annotations

from pathlib import Path

from nightshift.domain.agents import AgentIdentity
from nightshift.secrets.policies import (
    VaultLayout,
    domain_policy,
    phase_policy,
    policies_for,
)
from nightshift.settings import Settings

POLICY_DIR = Path("vault") / "policies"


def layout_of(cfg: Settings) -> VaultLayout:
    """The mounts this deployment's Vault uses (as ``nightshift vault policies`` reads them)."""
    return VaultLayout(
        kv_mount=cfg.vault_kv_mount,
        prefix=cfg.vault_prefix,
        database_mount=cfg.vault_database_mount,
        token_role=cfg.vault_token_role,
    )


def policy_file(root: Path, environment: str, agent: str) -> Path:
    """Where the agent's policy for ``environment`` lives in the working copy ``root``."""
    return root / POLICY_DIR / environment / f"{agent}.hcl"


def agent_policy(agent: AgentIdentity, environment: str, layout: VaultLayout) -> str:
    """The HCL of every policy the agent's tokens carry at ``agent.phase``."""
    names = policies_for(agent.phase, agent.boundaries.domains)
    parts = [
        f"# Vault grants for agent {agent.name} in {environment}, at phase {agent.phase.value}.\n"
        f"# Its investigation tokens carry: {', '.join(names)}.\n"
        "# Written by `nightshift promote` / `demote` in the same commit as the values file;\n"
        "# apply with `vault policy write` for each named policy below after the merge.\n",
        f"\n# ---- policy: {names[0]}\n{phase_policy(agent.phase, layout)}",
    ]
    parts += [
        f"\n# ---- policy: {name}\n{domain_policy(d, layout)}"
        for name, d in zip(
            names[1:], sorted(agent.boundaries.domains, key=lambda d: d.value), strict=True
        )
    ]
    return "".join(parts)
