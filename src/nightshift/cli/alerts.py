"""``nightshift alerts ...``: stored alerts and the routing rules (API clients)."""

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
alerts_app = typer.Typer(help="Alerts received and how they are routed.", no_args_is_help=True)
routes_app = typer.Typer(
    help="Routing rules: which alerts start which agent.", no_args_is_help=True
)
alerts_app.add_typer(routes_app, name="routes")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


def _client(api: str | None, token: str | None) -> Api:
    cfg = Settings()
    return connect(api or cfg.public_url, resolve_token(cfg, token))


def _labels(labels: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")


@alerts_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="firing | resolved")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Stored alerts, most recently received first."""
    if status not in (None, "firing", "resolved"):
        fail("--status is firing or resolved", code=2)
    params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
    items = _client(api, token).request("GET", "/v1/alerts", params=params)
    if as_json:
        out.print_json(json.dumps(items))
        return
    rows = [(a["fingerprint"], a["status"], a["labels"].get("alertname", ""),
             _labels(a["labels"])[:60], str(a["received_count"]),
             a["investigation_id"] or "-") for a in items]  # fmt: skip
    out.print(table(("fingerprint", "status", "alertname", "labels", "received", "investigation"),
                    rows, whole=("fingerprint", "investigation")))  # fmt: skip


@alerts_app.command("show")
def show(
    fingerprint: str, as_json: JsonOpt = False, api: ApiOpt = None, token: TokenOpt = None
) -> None:
    """One alert: labels, annotations, times, and the investigation that absorbed it."""
    a = _client(api, token).request("GET", f"/v1/alerts/{fingerprint}")
    if as_json:
        out.print_json(json.dumps(a))
        return
    out.print(f"[bold]{a['fingerprint']}[/bold] {a['status']}  {a['labels'].get('alertname', '')}")
    out.print(f"  labels: {_labels(a['labels'])}")
    for k, v in sorted(a["annotations"].items()):
        out.print(f"  {k}: {v}")
    out.print(f"  starts {a['starts_at']}  ends {a['ends_at'] or '-'}")
    via = a["source"] + (f", receiver {a['receiver']}" if a["receiver"] else "")
    out.print(f"  received {a['received_count']}x, first {a['first_received_at']}, "
              f"last {a['last_received_at']} ({via})")  # fmt: skip
    out.print(f"  investigation: {a['investigation_id'] or '- (none started)'}")


@routes_app.command("add")
def routes_add(
    name: str,
    agent: Annotated[str, typer.Option(help="agent that investigates")],
    match: Annotated[
        list[str] | None,
        typer.Option("--match", "-m", help='Alertmanager matcher, e.g. severity=~"critical|page"'),
    ] = None,
    tier: Annotated[str, typer.Option(help="single-domain | multi-domain")] = "single-domain",
    priority: Annotated[int, typer.Option(min=0, max=4, help="0 = most urgent")] = 2,
    group_by: Annotated[
        list[str] | None, typer.Option("--group-by", help="label to group by (repeatable)")
    ] = None,
    window: Annotated[int, typer.Option(help="group window in seconds", min=1)] = 300,
    max_per_minute: Annotated[int, typer.Option(help="0: only the global limit", min=0)] = 0,
    scenario: Annotated[
        str | None, typer.Option(help="investigate in this simulated scenario (demos)")
    ] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="store it switched off", metavar="")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="overwrite a rule of this name", metavar="")
    ] = False,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add (or with --replace, overwrite) a routing rule (ops-lead)."""
    body = {"name": name, "agent": agent, "matchers": match or [], "tier": tier,
            "priority": priority, "group_by": group_by or [], "group_window_seconds": window,
            "max_per_minute": max_per_minute, "enabled": not disabled,
            "scenario": scenario}  # fmt: skip
    client = _client(api, token)
    if replace:
        rule = client.request("PUT", f"/v1/alert-routes/{name}", json=body)
    else:
        rule = client.request("POST", "/v1/alert-routes", json=body)
    if as_json:
        out.print_json(json.dumps(rule))
        return
    matchers = " ".join(rule["matchers"]) or "every alert"
    out.print(f"route [bold]{rule['name']}[/bold] -> agent {rule['agent']} "
              f"({rule['tier']}, priority {rule['priority']}): {matchers}")  # fmt: skip


@routes_app.command("list")
def routes_list(as_json: JsonOpt = False, api: ApiOpt = None, token: TokenOpt = None) -> None:
    """Every routing rule; each that matches an alert routes it."""
    rules = _client(api, token).request("GET", "/v1/alert-routes")
    if as_json:
        out.print_json(json.dumps(rules))
        return
    rows = [(r["name"], "on" if r["enabled"] else "off", " ".join(r["matchers"]) or "(all)",
             r["agent"], r["tier"], str(r["priority"]), ",".join(r["group_by"]) or "-",
             f"{r['group_window_seconds']}s", str(r["max_per_minute"] or "-"))
            for r in rules]  # fmt: skip
    out.print(table(("name", "enabled", "matchers", "agent", "tier", "priority", "group_by",
                     "window", "max/min"), rows))  # fmt: skip


@routes_app.command("remove")
def routes_remove(name: str, api: ApiOpt = None, token: TokenOpt = None) -> None:
    """Delete a routing rule (ops-lead); alerts already stored stay."""
    _client(api, token).request("DELETE", f"/v1/alert-routes/{name}")
    out.print(f"removed route {name}")
