"""Governance commands. They act through the API (authenticated and
role-checked like any caller), except the audit commands, which read the
database directly so that a trail can be verified without a running server."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from nightshift.cli.client import EXIT_FAILED, EXIT_USAGE, fail
from nightshift.cli.investigations import ApiOpt, TokenOpt, _api
from nightshift.cli.tables import JsonOpt, table
from nightshift.domain.vocabulary import Domain, Role, TrustPhase

out = Console()
users_app = typer.Typer(help="Humans and service principals.", no_args_is_help=True)
agents_app = typer.Typer(help="Agent identities and their owners.", no_args_is_help=True)
kill_app = typer.Typer(help="Stop everything (or one agent) at once.", no_args_is_help=True)
reviews_app = typer.Typer(help="The human-review queue.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

Reason = Annotated[str, typer.Option(help="why (recorded in the audit trail)")]


def register(app: typer.Typer, users: typer.Typer, agents: typer.Typer) -> None:
    users.command("deactivate")(users_deactivate)
    users.command("activate")(users_activate)
    agents.command("transfer")(agents_transfer)
    agents.command("suspend")(agents_suspend)
    agents.command("resume")(agents_resume)
    agents.command("boundaries")(agents_boundaries)
    agents.command("phases")(agents_phases)
    agents.command("gates")(agents_gates)
    agents.command("sign-off")(agents_sign_off)
    agents.command("promote")(agents_promote)
    agents.command("review-demotion")(agents_review_demotion)
    agents.command("llm")(agents_llm)
    agents.command("thresholds")(agents_thresholds)
    app.add_typer(kill_app, name="kill-switch")
    app.add_typer(reviews_app, name="reviews")
    app.add_typer(audit_app, name="audit")


def users_deactivate(
    name: str, reason: Reason = "", api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """Deactivate a user; the agents they own are suspended until ownership moves."""
    got = _api(api, token).request("POST", f"/v1/users/{name}/deactivate", json={"reason": reason})
    suspended = ", ".join(got["suspended_agents"]) or "none"
    out.print(f"deactivated {name}; suspended agents: {suspended}")


def users_activate(name: str, api: ApiOpt = None, token: TokenOpt = None) -> None:
    """Reactivate a user (their agents stay suspended until resumed or transferred)."""
    _api(api, token).request("POST", f"/v1/users/{name}/activate")
    out.print(f"activated {name}")


def agents_transfer(
    name: str,
    to: Annotated[str, typer.Option("--to", help="the new accountable owner")],
    reason: Reason,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Transfer ownership to another active human (audited)."""
    _api(api, token).request(
        "POST", f"/v1/agents/{name}/transfer", json={"new_owner": to, "reason": reason}
    )
    out.print(f"{name} is now owned by {to}")


def agents_suspend(name: str, reason: Reason, api: ApiOpt = None, token: TokenOpt = None) -> None:
    """Suspend an agent: its queued investigations are held."""
    _api(api, token).request("POST", f"/v1/agents/{name}/suspend", json={"reason": reason})
    out.print(f"{name} suspended")


def agents_resume(name: str, api: ApiOpt = None, token: TokenOpt = None) -> None:
    """Resume a suspended agent (its owner must be active)."""
    _api(api, token).request("POST", f"/v1/agents/{name}/resume")
    out.print(f"{name} resumed")


def agents_boundaries(
    name: str,
    domain: Annotated[list[Domain], typer.Option(help="repeatable")] = [],  # noqa: B006
    namespace: Annotated[list[str], typer.Option(help="repeatable; '*' for all")] = [],  # noqa: B006
    action: Annotated[list[str], typer.Option(help="repeatable action type")] = [],  # noqa: B006
    max_depth: Annotated[int | None, typer.Option()] = None,
    max_fan_out: Annotated[int | None, typer.Option()] = None,
    max_calls_per_minute: Annotated[int | None, typer.Option()] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Replace an agent's boundaries (what it may touch; deny by default)."""
    body: dict[str, Any] = {
        "domains": [d.value for d in domain],
        "namespaces": namespace,
        "action_types": action,
        "max_depth": max_depth,
        "max_fan_out": max_fan_out,
        "max_calls_per_minute": max_calls_per_minute,
    }
    body = {k: v for k, v in body.items() if v is not None}
    _api(api, token).request("PUT", f"/v1/agents/{name}/boundaries", json=body)
    out.print(f"boundaries of {name} updated")


def agents_phases(
    name: str,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Phase history: registration, promotions, demotions."""
    rows = _api(api, token).request("GET", f"/v1/agents/{name}/phases")
    if as_json:
        out.print_json(json.dumps(rows))
        return
    history = Table("at", "change", "from", "to", "by", "reason")
    for r in rows:
        history.add_row(
            r["at"], r["kind"], r["from_phase"] or "-", r["to_phase"], r["actor"], r["reason"][:60]
        )
    out.print(history)


def agents_gates(
    name: str,
    target: Annotated[TrustPhase | None, typer.Option(help="default: the next phase")] = None,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Each promotion gate's number against its threshold, and what is missing."""
    params = {"target": target.value} if target else {}
    report = _api(api, token).request("GET", f"/v1/agents/{name}/gates", params=params)
    if as_json:
        out.print_json(json.dumps(report))
        return
    out.print(
        f"[bold]{name}[/bold]: {report['current']} -> {report['target'] or '-'} "
        f"(ceiling {report['ceiling']}); ready: {report['ready']}"
    )
    gate_table = Table("gate", "value", "needs", "passed")
    for g in report["gates"]:
        value = "-" if g["value"] is None else f"{g['value']:.4g}"
        gate_table.add_row(
            g["name"],
            value,
            f"{g['comparison']} {g['threshold']:g}",
            "yes" if g["passed"] else "[red]no[/red]",
        )
    out.print(gate_table)
    if report["signoffs_required"]:
        out.print("sign-offs required: " + ", ".join(report["signoffs_required"]))
    for missing in report["missing"]:
        out.print(f"  [yellow]missing:[/yellow] {missing}")


def agents_sign_off(
    name: str,
    target: Annotated[TrustPhase, typer.Option(help="the phase being signed for")],
    role: Annotated[Role, typer.Option(help="the role you sign in")],
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Sign off a promotion in one of your roles."""
    _api(api, token).request(
        "POST", f"/v1/agents/{name}/signoffs", json={"target": target.value, "role": role.value}
    )
    out.print(f"signed {name} -> {target.value} as {role.value}")


def agents_promote(
    name: str,
    to: Annotated[TrustPhase, typer.Option("--to", help="the next phase")],
    reason: Reason,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Promote an agent one phase, if the gates and sign-offs allow it."""
    _api(api, token).request(
        "POST", f"/v1/agents/{name}/promote", json={"target": to.value, "reason": reason}
    )
    out.print(f"{name} promoted to {to.value}")


def agents_review_demotion(
    name: str, reason: Reason = "", api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """Review an automatic demotion; lifts the block on re-promotion."""
    _api(api, token).request("POST", f"/v1/agents/{name}/demotion-review", json={"reason": reason})
    out.print(f"demotion of {name} reviewed")


def agents_llm(
    name: str,
    from_file: Annotated[str | None, typer.Option(help="JSON model config (docs/llm.md)")] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="remove the model config", metavar="")
    ] = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Set the agent's model (provider, model, endpoint, budget); keys stay in the broker."""
    from pathlib import Path

    if clear == (from_file is not None):
        fail("give either --from-file PATH or --clear", code=EXIT_USAGE)
    try:
        body = None if clear else json.loads(Path(str(from_file)).read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read {from_file}: {exc}", code=EXIT_USAGE)
    _api(api, token).request("PUT", f"/v1/agents/{name}/llm", json=body)
    out.print(f"model configuration of {name} {'removed' if clear else 'updated'}")


def agents_thresholds(
    name: str,
    from_file: Annotated[
        str | None, typer.Option(help="JSON object of the thresholds to change")
    ] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Show the agent's thresholds, or change the ones a JSON file names (the rest stay)."""
    from pathlib import Path

    client = _api(api, token)
    if from_file is not None:
        try:
            body = json.loads(Path(from_file).read_text())
        except (OSError, ValueError) as exc:
            fail(f"cannot read {from_file}: {exc}", code=EXIT_USAGE)
        client.request("PUT", f"/v1/agents/{name}/thresholds", json=body)
        out.print(f"thresholds of {name} updated")
    out.print_json(json.dumps(client.request("GET", f"/v1/agents/{name}/thresholds")))


@kill_app.command("engage")
def kill_engage(
    reason: Reason,
    agent: Annotated[str | None, typer.Option(help="one agent; default: everything")] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Stop every investigation in scope now and refuse new ones."""
    got = _api(api, token).request(
        "POST", "/v1/kill-switch", json={"agent": agent, "reason": reason}
    )
    out.print(
        f"kill switch engaged ({agent or 'global'}): {got['stopped']} investigation(s) stopped"
    )


@kill_app.command("release")
def kill_release(
    reason: Reason,
    agent: Annotated[str | None, typer.Option()] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Release the kill switch."""
    _api(api, token).request(
        "POST", "/v1/kill-switch/release", json={"agent": agent, "reason": reason}
    )
    out.print(f"kill switch released ({agent or 'global'})")


@kill_app.command("status")
def kill_status(api: ApiOpt = None, token: TokenOpt = None) -> None:
    """Is the kill switch engaged, and for whom?"""
    got = _api(api, token).request("GET", "/v1/kill-switch")
    out.print_json(json.dumps(got))


@reviews_app.command("list")
def reviews_list(
    kind: Annotated[str | None, typer.Option(help="scope_widening | demotion_review | ...")] = None,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Open items awaiting a human."""
    params = {"kind": kind} if kind else {}
    items = _api(api, token).request("GET", "/v1/reviews", params=params)
    if as_json:
        out.print_json(json.dumps(items))
        return
    rows = [(i["id"], i["kind"], i["investigation_id"] or "-", i["summary"][:90]) for i in items]
    out.print(
        table(("id", "kind", "investigation", "summary"), rows, whole=("id", "investigation"))
    )


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every link of the audit chain; names the first broken one (exit 1)."""
    from nightshift.cli.admin import _container

    report = _container().audit.verify()
    if report.ok:
        out.print(
            f"[green]audit chain intact[/green]: {report.checked} records, head {report.head}, "
            f"{report.anchors} signed anchor(s) checked"
        )
        return
    if report.kind == "unverifiable":
        out.print(f"[red]audit chain not verified[/red]: {report.message}")
        raise typer.Exit(EXIT_FAILED)
    out.print(
        f"[red]audit chain broken[/red] at seq {report.first_broken_seq} "
        f"({report.kind}): {report.message}"
    )
    raise typer.Exit(EXIT_FAILED)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Sign the chain's head with the anchor key (Vault/OpenBao transit with the Vault
    broker, else the key file) and append it to the anchor file, both outside the
    database; refused (exit 1) when the chain does not verify or the signer is down."""
    from nightshift.cli.admin import _container
    from nightshift.services.audit import AnchorRefused, AnchorUnsigned

    try:
        anchor = _container().audit.anchor()
    except AnchorRefused as exc:
        fail(str(exc), code=EXIT_FAILED)
    except AnchorUnsigned as exc:
        fail(f"nothing anchored: {exc}", code=EXIT_FAILED)
    out.print(
        f"[green]anchored[/green] {anchor.count} records, head {anchor.head} "
        f"at {anchor.at.isoformat()}"
    )


@audit_app.command("explain")
def audit_explain(
    investigation: Annotated[str, typer.Option(help="investigation id")],
    as_json: JsonOpt = False,
) -> None:
    """Who authorized each access of an investigation, under which policy, and why."""
    from nightshift.cli.admin import _container

    records = _container().audit.for_investigation(investigation)
    if not records:
        fail(f"no audit records for investigation {investigation}", code=EXIT_FAILED)
    if as_json:
        out.print_json(json.dumps([r.entry.body(r.seq) for r in records]))
        return
    for r in records:
        e = r.entry
        out.print(
            f"[bold]#{r.seq}[/bold] {e.at.isoformat()} [cyan]{e.actor}[/cyan] "
            f"(owner {e.owner}, class {e.authority_class}, phase {e.phase})"
        )
        out.print(f"    asked: {json.dumps(dict(e.request), sort_keys=True)[:200]}")
        out.print(f"    why:   {e.intent or '-'}")
        out.print(f"    policy: {e.decision} ({e.reason}) {e.message}")
