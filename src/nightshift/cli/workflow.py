"""Operator workflow commands: ``approvals``, ``verdict``, ``escalations``, ``shadow-reviews``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from nightshift.cli.client import Api, connect, fail, resolve_token
from nightshift.cli.investigations import ApiOpt, TokenOpt
from nightshift.cli.tables import JsonOpt, table
from nightshift.settings import Settings

out = Console()
approvals_app = typer.Typer(help="Approval requests and proposals.", no_args_is_help=True)
verdict_app = typer.Typer(help="Judge a diagnosis; record the known outcome.", no_args_is_help=True)
escalations_app = typer.Typer(help="Cases handed to humans.", no_args_is_help=True)
reviews_app = typer.Typer(help="Shadow output awaiting review.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(approvals_app, name="approvals")
    app.add_typer(verdict_app, name="verdict")
    app.add_typer(escalations_app, name="escalations")
    app.add_typer(reviews_app, name="shadow-reviews")


def _client(api: str | None, token: str | None) -> Api:
    cfg = Settings()
    return connect(api or cfg.public_url, resolve_token(cfg, token))


def _ref(text: str, namespace: str | None = None) -> dict[str, Any]:
    kind, sep, name = text.partition("/")
    if not sep or not kind or not name:
        fail(f"a target is KIND/NAME (e.g. Deployment/checkout-api), got {text!r}", code=2)
    return {"kind": kind, "name": name, "namespace": namespace}


def _target(t: dict[str, Any]) -> str:
    ns = f"{t['namespace']}/" if t.get("namespace") else ""
    return f"{ns}{t.get('kind')}/{t.get('name')}"


def _print_proposal(p: dict[str, Any]) -> None:
    out.print(f"[bold]{p['id']}[/bold] {p['status']}  {p['action']} {_target(p['target'])}")
    out.print(f"  agent {p['agent']} (phase {p['phase']}), confidence {p['confidence']:.2f}")
    out.print(f"  policy: {p['decision'].get('reason')} - {p['decision'].get('message')}")
    if p["intent"].get("rationale"):
        out.print(f"  intent: {p['intent']['rationale']}")
    if p.get("expires_at"):
        out.print(f"  expires {p['expires_at']}")
    if p.get("batch_count", 1) > 1:
        out.print(f"  {p['batch_count']} identical requests batched")
    if p.get("decided_by"):
        out.print(f"  decided by {p['decided_by']}: {p['decision_reason']}")
    result = p.get("result") or {}
    if "verified" not in result:
        return
    dry = result.get("dry_run") or {}
    done = result.get("execute") or {}
    # "executed" only when it ran: a failed dry-run or execution is reported as such
    if p["status"] != "failed" and done.get("ok") is True:
        mark = "symptom gone" if result["verified"] else "symptoms persist"
        later = "" if p["status"] == "executed" else f", now {p['status']}"
        out.print(f"  executed: {done.get('message', '-')} ({mark}{later})")
    elif dry and not dry.get("ok", True):
        out.print(f"  [red]not executed[/red]: dry-run failed: {dry.get('message', '-')}")
    else:
        why = done.get("message") or result.get("error") or "-"
        out.print(f"  [red]not executed[/red]: execution failed: {why}")


def _emit(data: Any, as_json: bool, show: Any) -> None:
    if as_json:
        out.print_json(json.dumps(data))
    else:
        show(data)


# -- approvals ------------------------------------------------------------------


@approvals_app.command("list")
def approvals_list(
    status: Annotated[str, typer.Option(help="pending_approval, recommended, ... or any")] = (
        "pending_approval"
    ),
    agent: Annotated[str | None, typer.Option()] = None,
    investigation: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Approval requests (pending by default)."""
    params = {"status": status, "agent": agent, "investigation": investigation}
    items = _client(api, token).request(
        "GET", "/v1/approvals", params={k: v for k, v in params.items() if v}
    )

    def show(rows: list[dict[str, Any]]) -> None:
        headers = ("id", "status", "agent", "action", "target", "conf", "expires")
        cells = [
            (p["id"], p["status"], p["agent"], p["action"], _target(p["target"]),
             f"{p['confidence']:.2f}", str(p.get("expires_at") or "-"))
            for p in rows
        ]  # fmt: skip
        out.print(table(headers, cells, whole=("id", "agent")))

    _emit(items, as_json, show)


@approvals_app.command("show")
def approvals_show(
    proposal_id: str, as_json: JsonOpt = False, api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """One approval request or proposal, with its policy decision and result."""
    _emit(
        _client(api, token).request("GET", f"/v1/approvals/{proposal_id}"), as_json, _print_proposal
    )


@approvals_app.command("approve")
def approvals_approve(
    proposal_id: str,
    reason: Annotated[str, typer.Option(help="why (audited)")] = "",
    target: Annotated[str | None, typer.Option(help="approve a modified target KIND/NAME")] = None,
    namespace: Annotated[str | None, typer.Option(help="namespace of --target")] = None,
    param: Annotated[list[str] | None, typer.Option(help="modified params key=value")] = None,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Approve (it executes at once, dry-run first, and is verified)."""
    body: dict[str, Any] = {"reason": reason}
    if target:
        body["target"] = _ref(target, namespace)
    if param:
        body["params"] = {k: _value(v) for k, _, v in (p.partition("=") for p in param)}
    _emit(
        _client(api, token).request("POST", f"/v1/approvals/{proposal_id}/approve", json=body),
        as_json,
        _print_proposal,
    )


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@approvals_app.command("reject")
def approvals_reject(
    proposal_id: str,
    reason: Annotated[str, typer.Option(help="why (required, audited)")],
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Reject with a reason."""
    _emit(
        _client(api, token).request(
            "POST", f"/v1/approvals/{proposal_id}/reject", json={"reason": reason}
        ),
        as_json,
        _print_proposal,
    )


@approvals_app.command("rollback")
def approvals_rollback(
    proposal_id: str,
    reason: Annotated[str, typer.Option(help="why (required, audited)")],
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Undo an executed action through its catalog inverse."""
    _emit(
        _client(api, token).request(
            "POST", f"/v1/approvals/{proposal_id}/rollback", json={"reason": reason}
        ),
        as_json,
        _print_proposal,
    )


# -- verdicts ---------------------------------------------------------------------


def _print_verdict(v: dict[str, Any]) -> None:
    extra = ""
    if v["kind"] == "outcome":
        extra = f" correct={v['correct']}"
    elif v.get("minimal_edit") is not None:
        extra = f" edit={v['payload'].get('edit')}"
    out.print(f"{v['kind']} on {v['investigation_id']} by {v['author']}{extra}")


def _claim(category: str, remediation_class: str, fault: str | None) -> dict[str, Any]:
    return {"category": category, "remediation_class": remediation_class, "fault": fault}


def _judge(
    inv_id: str, body: dict[str, Any], as_json: bool, api: str | None, token: str | None
) -> None:
    got = _client(api, token).request("POST", f"/v1/investigations/{inv_id}/verdicts", json=body)
    _emit(got, as_json, _print_verdict)


@verdict_app.command("accept")
def verdict_accept(
    inv_id: str,
    reason: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Accept the diagnosis as it is."""
    _judge(inv_id, {"kind": "accept", "reason": reason}, as_json, api, token)


@verdict_app.command("reject")
def verdict_reject(
    inv_id: str,
    reason: Annotated[str, typer.Option(help="why (required)")],
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Reject the diagnosis."""
    _judge(inv_id, {"kind": "reject", "reason": reason}, as_json, api, token)


@verdict_app.command("modify")
def verdict_modify(
    inv_id: str,
    category: Annotated[str, typer.Option(help="root-cause category as corrected")],
    remediation_class: Annotated[str, typer.Option(help="remediation class as corrected")],
    fault: Annotated[str | None, typer.Option()] = None,
    reason: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Correct the diagnosis (a minimal edit keeps category and remediation class)."""
    body = {
        "kind": "modify",
        "reason": reason,
        "modified": _claim(category, remediation_class, fault),
    }
    _judge(inv_id, body, as_json, api, token)


@verdict_app.command("outcome")
def verdict_outcome(
    inv_id: str,
    category: Annotated[str, typer.Option(help="actual root-cause category")],
    remediation_class: Annotated[str, typer.Option(help="what actually fixed it")],
    fault: Annotated[str | None, typer.Option()] = None,
    resource: Annotated[list[str] | None, typer.Option(help="KIND/NAME (repeatable)")] = None,
    note: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Record the known outcome (postmortem); the diagnosis is scored against it."""
    body = {
        "actual": _claim(category, remediation_class, fault),
        "note": note,
        "resources": [_ref(r) for r in resource or []],
    }
    got = _client(api, token).request("POST", f"/v1/investigations/{inv_id}/outcome", json=body)
    _emit(got, as_json, _print_verdict)


@verdict_app.command("list")
def verdict_list(
    inv_id: str, as_json: JsonOpt = False, api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """Verdicts and the known outcome of one investigation."""
    got = _client(api, token).request("GET", f"/v1/investigations/{inv_id}/verdicts")

    def show(rows: list[dict[str, Any]]) -> None:
        for v in rows:
            _print_verdict(v)

    _emit(got, as_json, show)


# -- escalations -----------------------------------------------------------------


def _print_escalation(e: dict[str, Any]) -> None:
    out.print(f"[bold]{e['id']}[/bold] {e['status']}  {e['kind']}  agent {e['agent']}")
    out.print(f"  {e['summary']}")
    out.print(
        f"  routed to {', '.join(e['routed_to']) or '-'}; investigation "
        f"{e.get('investigation_id') or '-'}"
    )
    for cause in (e["payload"].get("trail") or {}).get("root_causes", [])[:3]:
        out.print(
            f"  #{cause.get('rank')} {cause.get('fault')} on "
            f"{_target(cause.get('resource') or {})} ({cause.get('confidence')})"
        )


@escalations_app.command("list")
def escalations_list(
    status: Annotated[str | None, typer.Option(help="open | acked | resolved")] = None,
    agent: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Escalations, newest first."""
    params = {k: v for k, v in {"status": status, "agent": agent}.items() if v}
    items = _client(api, token).request("GET", "/v1/escalations", params=params)

    def show(rows: list[dict[str, Any]]) -> None:
        cells = [(e["id"], e["status"], e["kind"], e["agent"], e["summary"][:70]) for e in rows]
        headers = ("id", "status", "kind", "agent", "summary")
        out.print(table(headers, cells, whole=("id", "agent")))

    _emit(items, as_json, show)


@escalations_app.command("show")
def escalations_show(
    esc_id: str, as_json: JsonOpt = False, api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """One escalation with its evidence trail."""
    got = _client(api, token).request("GET", f"/v1/escalations/{esc_id}")
    _emit(got, as_json, _print_escalation)


@escalations_app.command("ack")
def escalations_ack(
    esc_id: str,
    note: Annotated[str, typer.Option()] = "",
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Acknowledge: someone is on it."""
    got = _client(api, token).request("POST", f"/v1/escalations/{esc_id}/ack", json={"note": note})
    _print_escalation(got)


@escalations_app.command("resolve")
def escalations_resolve(
    esc_id: str,
    resolution: Annotated[str, typer.Option(help="what was done")],
    warranted: Annotated[
        bool | None,
        typer.Option("--warranted/--unwarranted", help="was escalating right?", metavar=""),
    ] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Resolve; --warranted/--unwarranted feeds escalation correctness."""
    got = _client(api, token).request(
        "POST",
        f"/v1/escalations/{esc_id}/resolve",
        json={"resolution": resolution, "warranted": warranted},
    )
    _print_escalation(got)


# -- shadow reviews ---------------------------------------------------------------


@reviews_app.command("list")
def reviews_list(
    status: Annotated[str, typer.Option(help="open | reviewed | any")] = "open",
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Shadow investigations waiting for review."""
    items = _client(api, token).request("GET", "/v1/reviews/shadow", params={"status": status})

    def show(rows: list[dict[str, Any]]) -> None:
        cells = [
            (r["id"], r["status"], r["agent"], r["investigation_id"] or "-", r["summary"][:60])
            for r in rows
        ]
        headers = ("id", "status", "agent", "investigation", "summary")
        out.print(table(headers, cells, whole=("id", "agent", "investigation")))

    _emit(items, as_json, show)


@reviews_app.command("show")
def reviews_show(
    item_id: str, as_json: JsonOpt = False, api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """The hidden shadow output (ops lead)."""
    from nightshift.cli.event_lines import print_result

    got = _client(api, token).request("GET", f"/v1/reviews/shadow/{item_id}")

    def show(r: dict[str, Any]) -> None:
        out.print(f"[bold]{r['id']}[/bold] {r['status']} - {r['summary']}")
        if r.get("result"):
            print_result(out, r["result"])
        for p in r.get("proposals") or []:
            _print_proposal(p)

    _emit(got, as_json, show)


@reviews_app.command("done")
def reviews_done(
    item_id: str,
    note: Annotated[str, typer.Option()] = "",
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Mark shadow output reviewed (it becomes visible to operators)."""
    got = _client(api, token).request(
        "POST", f"/v1/reviews/shadow/{item_id}/review", json={"note": note}
    )
    out.print(f"{got['id']} {got['status']}")
