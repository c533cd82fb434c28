"""``nightshift promote`` / ``nightshift demote``: a phase change as a GitOps commit.

The control plane authorizes it first (the gates and sign-offs ``agents promote``
needs; none for a demotion) and records the proposal in the audit trail; then the
change is written into the chart's values files of the working copy as one commit,
with no live change. The reviewed merge, applied by Helm, is the promotion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nightshift.cli.client import EXIT_FAILED, EXIT_USAGE, fail
from nightshift.cli.investigations import ApiOpt, TokenOpt, _api
from nightshift.domain.vocabulary import TrustPhase

out = Console()

EnvOpt = Annotated[str, typer.Option("--env", help="dev | staging | production")]
GitOpt = Annotated[
    Path | None,
    typer.Option(
        "--git", envvar="NIGHTSHIFT_GITOPS_REPO", help="the GitOps working copy (a clean checkout)"
    ),
]
BranchOpt = Annotated[
    str | None, typer.Option(help="commit on this new branch, for review (default: current)")
]
ValuesDirOpt = Annotated[
    Path | None,
    typer.Option(help="where values-<env>-<phase>.yaml live, relative to --git (default: found)"),
]
ReasonOpt = Annotated[str, typer.Option(help="why (commit message and audit trail)")]


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)
    app.command("demote")(demote)


def _values_dir(root: Path, environment: str, given: Path | None) -> Path:
    from nightshift.gitops.promotion import find_values_dir
    from nightshift.gitops.working_copy import GitOpsRefused

    if given is not None:
        return root / given
    try:
        return find_values_dir(root, environment)
    except GitOpsRefused as exc:
        fail(f"{exc}; pick one with --values-dir", code=EXIT_USAGE)


def _change(
    kind: str, name: str, to: TrustPhase, environment: str, git: Path | None,
    branch: str | None, values_dir: Path | None, reason: str, api: str | None, token: str | None,
) -> None:  # fmt: skip
    from nightshift.domain.actions import load_action_catalog
    from nightshift.gitops.promotion import PhaseCommit, PhaseWriter, evidence_lines
    from nightshift.gitops.vault_policy import layout_of
    from nightshift.gitops.working_copy import GitOpsRefused, WorkingCopy
    from nightshift.settings import Settings

    if git is None:
        fail("give the GitOps working copy with --git PATH (or NIGHTSHIFT_GITOPS_REPO)",
             code=EXIT_USAGE)  # fmt: skip
    root = git.resolve()
    copy = WorkingCopy(root)
    directory = _values_dir(root, environment, values_dir)
    writer = PhaseWriter(copy, directory, load_action_catalog(), layout_of(Settings()))
    # Git first: a refusal here must not leave an audit record of a change never written.
    try:
        copy.require_ready()
        declared = TrustPhase(writer.declared_phase(environment, name))
    except GitOpsRefused as exc:
        fail(f"refused: {exc}", code=EXIT_FAILED)
    going_up = to.rank > declared.rank
    if kind == "promotion" and not going_up:
        fail(f"{to.value} is not above {declared.value}; use nightshift demote", code=EXIT_USAGE)
    if kind == "demotion" and (going_up or to is declared):
        fail(f"{to.value} is not below {declared.value}; use nightshift promote", code=EXIT_USAGE)
    proposal = _api(api, token).request(
        "POST", f"/v1/agents/{name}/phase-proposals",
        json={"target": to.value, "environment": environment, "reason": reason,
              "declared": declared.value},
    )  # fmt: skip
    pc = PhaseCommit.of(proposal, reason)
    try:
        recorded = writer.write(pc, branch)
    except GitOpsRefused as exc:
        fail(f"refused: {exc} (audit record {proposal['audit_seq']} names the proposal)",
             code=EXIT_FAILED)  # fmt: skip
    for line in evidence_lines(pc):
        out.print(line, highlight=False)
    out.print(recorded.review, highlight=False, soft_wrap=True)


def promote(
    name: str,
    to: Annotated[TrustPhase, typer.Option("--to", help="the next phase")],
    env: EnvOpt,
    reason: ReasonOpt,
    git: GitOpt = None,
    branch: BranchOpt = None,
    values_dir: ValuesDirOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Promote an agent as a GitOps commit: gates and sign-offs checked by the control
    plane, then the values files of --git changed in one commit (no live change)."""
    _change("promotion", name, to, env, git, branch, values_dir, reason, api, token)


def demote(
    name: str,
    to: Annotated[TrustPhase, typer.Option("--to", help="a lower phase")],
    env: EnvOpt,
    reason: ReasonOpt,
    git: GitOpt = None,
    branch: BranchOpt = None,
    values_dir: ValuesDirOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Demote an agent as a GitOps commit (no gates; audited like a promotion)."""
    _change("demotion", name, to, env, git, branch, values_dir, reason, api, token)
