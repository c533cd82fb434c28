"""A phase change as a Git commit: the agent moves between the chart's values files.

The GitOps repository holds the chart's reviewed ``values-<env>-<phase>.yaml``
files; an agent is declared (``agents.rendered.<name>``) in exactly one phase file
per environment. Promoting or demoting it removes it from the old phase's file and
adds it, compiled again at the new phase by the same renderer as ``k8s render``
(nightshift.k8s.helm_values), to the new one, in one commit whose message carries
the gate evidence, the sign-offs, who asked and the audit record. The control plane
authorizes the change first (``POST /v1/agents/{name}/phase-proposals``); this
module only writes what was authorized. The same commit rewrites the agent's Vault
policy file for the new phase (gitops.vault_policy), so the reviewer sees the values
and the Vault grant change together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.agents import AgentIdentity
from nightshift.domain.safe_yaml import safe_load
from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.gitops.edit import REMOVE, rewrite_document
from nightshift.gitops.vault_policy import agent_policy, policy_file
from nightshift.gitops.working_copy import Commit, GitOpsRefused, WorkingCopy
from nightshift.k8s.helm_values import ENVIRONMENTS, PHASES, agents_values, phase_values
from nightshift.k8s.manifests import EgressTarget, RenderConfig
from nightshift.secrets.policies import VaultLayout

PHASE_TRAILER = "Nightshift-Phase-Change"


def values_name(environment: str, phase: str) -> str:
    return f"values-{environment}-{phase}.yaml"


@dataclass(frozen=True, slots=True)
class PhaseCommit:
    """What the control plane authorized (its phase-proposals answer) and why."""

    agent: str
    kind: str  # "promotion" | "demotion"
    from_phase: str
    to_phase: str
    environment: str
    gates: Sequence[Mapping[str, Any]]
    signoffs: Sequence[Mapping[str, str]]
    actor: str
    audit_seq: int
    reason: str
    # Applied live already by the control plane (an automatic demotion): the commit
    # records it on the current branch instead of asking for a review.
    automatic: bool = False

    @classmethod
    def of(cls, proposal: Mapping[str, Any], reason: str) -> PhaseCommit:
        return cls(
            str(proposal["agent"]), str(proposal["kind"]), str(proposal["from"]),
            str(proposal["to"]), str(proposal["environment"]), list(proposal["gates"]),
            list(proposal["signoffs"]), str(proposal["actor"]), int(proposal["audit_seq"]),
            reason,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PhaseRecorded:
    commit: Commit
    files: tuple[Path, ...]
    branch: str  # the branch the commit is on
    review: str  # what the reviewer needs to open a pull request


def _gate_line(g: Mapping[str, Any]) -> str:
    value = "nothing recorded" if g.get("value") is None else f"{float(g['value']):.4g}"
    verdict = "passed" if g.get("passed") else "NOT MET"
    return f"Gate: {g['name']} = {value} (needs {g['comparison']} {g['threshold']:g}; {verdict})"


def evidence_lines(pc: PhaseCommit) -> list[str]:
    """What ``nightshift promote`` prints above the review, the console too: each gate
    against its threshold, then who signed off."""
    lines = []
    for gate in pc.gates:
        value = "-" if gate["value"] is None else f"{gate['value']:.4g}"
        lines.append(f"  gate {gate['name']}: {value} ({gate['comparison']} {gate['threshold']:g})")
    lines += [f"  signed off by {s['name']} as {s['role']}" for s in pc.signoffs]
    return lines


def message(pc: PhaseCommit) -> str:
    verb = "Promote" if pc.kind == "promotion" else "Demote"
    lines = [
        f"{verb} {pc.agent} from {pc.from_phase} to {pc.to_phase} in {pc.environment}",
        "",
        pc.reason,
        "",
    ]
    if pc.automatic:
        lines += [
            "Applied live at once by the control plane: an automatic demotion does not wait",
            "for a review, because safety must not. This commit, made directly on the current",
            "branch, makes Git declare what the cluster already runs.",
            "",
        ]
    lines += [
        f"Moves agents.rendered.{pc.agent} from {values_name(pc.environment, pc.from_phase)} to "
        f"{values_name(pc.environment, pc.to_phase)}, compiled at {pc.to_phase}, and rewrites",
        f"its Vault policy file for {pc.to_phase}.",
        "",
        *(_gate_line(g) for g in pc.gates),
    ]
    if pc.kind == "demotion":
        lines.append("Gate: none (a demotion needs no evidence)")
    lines += ["", f"Nightshift-Agent: {pc.agent}", f"{PHASE_TRAILER}: {pc.from_phase} -> "
              f"{pc.to_phase}", f"Nightshift-Environment: {pc.environment}"]  # fmt: skip
    lines += [f"Signed-Off-By: {s['name']} ({s['role']})" for s in pc.signoffs]
    lines += [f"Requested-By: {pc.actor}", f"Audit-Record: {pc.audit_seq}"]
    return "\n".join(lines) + "\n"


def declares_phases(directory: Path, environment: str) -> bool:
    """Whether ``directory`` holds any of ``environment``'s phase values files."""
    return any((directory / values_name(environment, p)).exists() for p in PHASES)


def declared_phases(directory: Path, environment: str) -> dict[str, str]:
    """``{agent: phase}`` as ``directory``'s values files for ``environment`` declare
    them; an agent declared in two phase files is refused (one phase per environment)."""
    found: dict[str, str] = {}
    for phase in PHASES:
        file = directory / values_name(environment, phase)
        if not file.exists():
            continue
        for agent in _rendered(_load(file)):
            if agent in found:
                raise GitOpsRefused(
                    f"agent {agent} is declared in {environment}'s {found[agent]} and {phase} "
                    "phase files; one phase per environment"
                )
            found[str(agent)] = phase
    return found


def find_values_dir(root: Path, environment: str) -> Path:
    """The one directory of ``root`` holding ``values-<environment>-*.yaml`` (``root``
    when there is none yet); several are ambiguous and refused."""
    found = sorted({p.parent for p in root.rglob(f"values-{environment}-*.yaml")
                    if ".git" not in p.relative_to(root).parts})  # fmt: skip
    if len(found) > 1:
        names = ", ".join(str(d.relative_to(root)) for d in found)
        raise GitOpsRefused(f"values files for {environment} in several directories ({names})")
    return found[0] if found else root


def _load(file: Path) -> dict[str, Any]:
    try:
        doc = safe_load(file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GitOpsRefused(f"{file.name} cannot be read: {exc}") from exc
    if not isinstance(doc, dict):
        raise GitOpsRefused(f"{file.name} is not a values mapping")
    return doc


def _rendered(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((doc.get("agents") or {}).get("rendered")) or {}


def _config(doc: Mapping[str, Any]) -> RenderConfig:
    """The render settings a values file was compiled with (namespace, egress)."""
    egress = doc.get("egress") or {}
    domains = {
        Domain(d): tuple(
            EgressTarget(t.get("cidr"), t.get("namespace"), tuple(t.get("ports") or ()))
            for t in targets
        )
        for d, targets in (egress.get("domains") or {}).items()
    }
    return RenderConfig(
        agents_namespace=str((doc.get("agents") or {}).get("namespace") or "nightshift-agents"),
        api_server_cidrs=tuple(egress.get("apiServerCidrs") or ()),
        domain_egress=domains,
    )


class PhaseWriter:
    """Writes authorized phase changes into the values files of one directory
    (``directory``: where the chart's ``values-<env>-<phase>.yaml`` live, inside ``copy``)."""

    def __init__(
        self,
        copy: WorkingCopy,
        directory: Path,
        catalog: ActionCatalog,
        layout: VaultLayout | None = None,
    ) -> None:
        self.copy = copy
        self.directory = directory
        self._catalog = catalog
        self._layout = layout or VaultLayout()  # the mounts `nightshift vault policies` uses

    def declared_phase(self, environment: str, agent: str) -> str:
        """The phase whose values file declares ``agent`` in ``environment``."""
        if environment not in ENVIRONMENTS:
            raise GitOpsRefused(f"unknown environment {environment!r} ({', '.join(ENVIRONMENTS)})")
        found = [
            phase
            for phase in PHASES
            if (f := self.directory / values_name(environment, phase)).exists()
            and agent in _rendered(_load(f))
        ]
        where = (
            self.directory.relative_to(self.copy.root) if self.directory != self.copy.root else "."
        )
        if not found:
            raise GitOpsRefused(
                f"no values-{environment}-<phase>.yaml in {where} declares agent {agent}"
            )
        if len(found) > 1:
            raise GitOpsRefused(
                f"agent {agent} is declared in {len(found)} {environment} phase files "
                f"({', '.join(found)}); one phase per environment"
            )
        return found[0]

    def write(self, pc: PhaseCommit, branch: str | None = None) -> PhaseRecorded:
        """One commit moving the agent to ``pc.to_phase``; on ``branch`` (created from
        HEAD, the checkout returns to where it was) when given. Refuses a dirty or
        diverged working copy, and Git declaring another phase than the control plane."""
        self.copy.require_ready()
        declared = self.declared_phase(pc.environment, pc.agent)
        if declared != pc.from_phase:
            raise GitOpsRefused(
                f"Git declares {pc.agent} at {declared} in {pc.environment} but the control "
                f"plane has it at {pc.from_phase}; reconcile them before a phase change"
            )
        start = self.copy.git("rev-parse", "--abbrev-ref", "HEAD").strip()
        ours = (
            self.directory / values_name(pc.environment, pc.from_phase),
            self.directory / values_name(pc.environment, pc.to_phase),
            policy_file(self.copy.root, pc.environment, pc.agent),
        )
        tracked = [f for f in ours if f.exists()]
        if branch:
            self.copy.git("switch", "--quiet", "-c", branch)
        try:
            files = self._move(pc)
            commit = self.copy.commit(list(files), message(pc))
        except GitOpsRefused:
            self._undo(ours, tracked)
            if branch:
                self.copy.git("switch", "--quiet", start, check=False)
                self.copy.git("branch", "--quiet", "-D", branch, check=False)
            raise
        if branch:
            self.copy.git("switch", "--quiet", start)
        on = branch or start
        names = ", ".join(str(f.relative_to(self.copy.root)) for f in files)
        review = (
            f"commit {commit.sha} on branch {on} of {self.copy.root}: {commit.subject}\n"
            f"  changes {names}\n"
            f"  open a pull request from it, e.g. git push origin {on}"
        )
        return PhaseRecorded(commit, files, on, review)

    def _undo(self, ours: Sequence[Path], existed: Sequence[Path]) -> None:
        """Take back only this writer's edits (staged or not): the copy was clean, but
        may hold someone's untracked files, which stay."""
        rel = [str(f.relative_to(self.copy.root)) for f in existed]
        if rel:
            self.copy.git("restore", "--quiet", "--source=HEAD", "--staged", "--worktree",
                          "--", *rel, check=False)  # fmt: skip
        for new in (f for f in ours if f not in existed):
            self.copy.git("rm", "--quiet", "--cached", "--ignore-unmatch", "--",
                          str(new.relative_to(self.copy.root)), check=False)  # fmt: skip
            new.unlink(missing_ok=True)

    def _move(self, pc: PhaseCommit) -> tuple[Path, ...]:
        source = self.directory / values_name(pc.environment, pc.from_phase)
        target = self.directory / values_name(pc.environment, pc.to_phase)
        source_doc = _load(source)
        entry = _rendered(source_doc)[pc.agent]
        try:
            identity = replace(
                identity_from(dict(entry["identity"])), phase=TrustPhase(pc.to_phase)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GitOpsRefused(
                f"agents.rendered.{pc.agent}.identity in {source.name}: {exc}"
            ) from exc
        remaining = [self._identity(e) for n, e in _rendered(source_doc).items() if n != pc.agent]
        rewrite_document(source, 0, [
            (("agents", "rendered", pc.agent), REMOVE),
            (("agents", "common"), self._agents(remaining, source_doc)["common"]),
        ])  # fmt: skip
        policy = policy_file(self.copy.root, pc.environment, pc.agent)
        policy.parent.mkdir(parents=True, exist_ok=True)
        policy.write_text(agent_policy(identity, pc.environment, self._layout))
        if not target.exists():
            self._create(target, pc, identity, _config(source_doc))
            return source, target, policy
        target_doc = _load(target)
        if pc.agent in _rendered(target_doc):
            raise GitOpsRefused(f"{target.name} already declares {pc.agent}")
        others = [self._identity(e) for e in _rendered(target_doc).values()]
        compiled = self._agents([*others, identity], target_doc)
        rewrite_document(target, 0, [
            (("agents", "rendered", pc.agent), compiled["rendered"][pc.agent]),
            (("agents", "common"), compiled["common"]),
        ])  # fmt: skip
        return source, target, policy

    @staticmethod
    def _identity(entry: Mapping[str, Any]) -> AgentIdentity:
        return identity_from(dict(entry["identity"]))

    def _agents(self, identities: list[AgentIdentity], doc: Mapping[str, Any]) -> dict[str, Any]:
        compiled: dict[str, Any] = agents_values(identities, self._catalog, _config(doc))["agents"]
        return compiled

    def _create(
        self, target: Path, pc: PhaseCommit, identity: AgentIdentity, cfg: RenderConfig
    ) -> None:
        """A phase file the repository did not have yet, compiled whole."""
        doc = phase_values(pc.environment, TrustPhase(pc.to_phase), [identity], self._catalog, cfg)
        header = (
            f"# Written by `nightshift promote` with the compiler of `nightshift k8s render`.\n"
            f"# Review changes to this file as changes to what agents in {pc.to_phase} may do"
            f" in {pc.environment}.\n"
        )
        target.write_text(header + yaml.safe_dump(doc, sort_keys=False))
