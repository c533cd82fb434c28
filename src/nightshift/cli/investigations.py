"""``nightshift investigate`` and ``nightshift investigations ...`` (API clients)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from nightshift.cli.client import (
    EXIT_ESCALATED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Api,
    connect,
    fail,
    resolve_token,
)
from nightshift.cli.event_lines import EventPrinter, print_result
from nightshift.cli.tables import JsonOpt, table
from nightshift.settings import Settings

out = Console()
inv_app = typer.Typer(help="List, inspect and cancel investigations.", no_args_is_help=True)

# Exit codes of `investigate --follow`, for scripts.
EXIT_CODES = {
    "succeeded": EXIT_OK,
    "escalated": EXIT_ESCALATED,
    "failed": EXIT_FAILED,
    "cancelled": EXIT_FAILED,
    "deadline_exceeded": EXIT_FAILED,
}

TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="NIGHTSHIFT_TOKEN", help="API token")
]
ApiOpt = Annotated[
    str | None, typer.Option("--api", envvar="NIGHTSHIFT_API_URL", help="control-plane URL")
]


def _api(api: str | None, token: str | None) -> Api:
    cfg = Settings()
    return connect(api or cfg.public_url, resolve_token(cfg, token))


def register(app: typer.Typer) -> None:
    app.command()(investigate)
    app.add_typer(inv_app, name="investigations")


def investigate(
    scenario: Annotated[str | None, typer.Option(help="simulated scenario to investigate")] = None,
    title: Annotated[str | None, typer.Option(help="question or alert summary")] = None,
    agent: Annotated[str, typer.Option(help="agent that runs it")] = "triage",
    tier: Annotated[str | None, typer.Option(help="single-domain | multi-domain")] = None,
    priority: Annotated[int, typer.Option(min=0, max=4, help="0 = most urgent")] = 2,
    namespace: Annotated[str | None, typer.Option(help="namespace hint")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="stream events", metavar="")
    ] = False,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Submit an investigation; with --follow, stream it to its end."""
    if not scenario and not title:
        fail("give --scenario NAME (see `nightshift scenarios`) or --title TEXT", code=EXIT_USAGE)
    body: dict[str, Any] = {"agent": agent, "priority": priority}
    optional = {"scenario": scenario, "title": title, "tier": tier, "namespace": namespace}
    body.update({k: v for k, v in optional.items() if v})
    client = _api(api, token)
    created = client.request("POST", "/v1/investigations", json=body)
    inv_id = created["id"]
    if not follow:
        if as_json:
            out.print_json(json.dumps(created))
        else:
            out.print(f"submitted [bold]{inv_id}[/bold] ({created['status']})")
            out.print(f"follow it: nightshift investigations events {inv_id}")
        return
    _follow(client, inv_id, as_json)


def _follow(client: Api, inv_id: str, as_json: bool) -> None:
    printer = EventPrinter(out)
    final = "failed"
    for kind, event in client.sse(f"/v1/investigations/{inv_id}/events"):
        if as_json:
            print(json.dumps(event), flush=True)
        elif kind != "result":
            printer(kind, event)
        if kind == "status":
            final = str(event["data"]["status"])
    view = client.request("GET", f"/v1/investigations/{inv_id}")
    if not as_json and view.get("result"):
        print_result(out, view["result"])
    if not as_json:
        out.print(f"\ninvestigation {inv_id} ended [bold]{final}[/bold]: {view.get('reason', '')}")
    raise typer.Exit(EXIT_CODES.get(final, EXIT_FAILED))


@inv_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="filter by status")] = None,
    agent: Annotated[str | None, typer.Option(help="filter by agent")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Newest investigations first."""
    params = {k: v for k, v in {"status": status, "agent": agent, "limit": limit}.items() if v}
    page = _api(api, token).request("GET", "/v1/investigations", params=params)
    if as_json:
        out.print_json(json.dumps(page))
        return
    rows = [(i["id"], i["agent"], i["status"], i["tier"], i["title"][:50], i["reason"][:60])
            for i in page["items"]]  # fmt: skip
    headers = ("id", "agent", "status", "tier", "title", "reason")
    out.print(table(headers, rows, whole=("id", "agent")))


@inv_app.command("show")
def show(
    inv_id: str,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """One investigation with its result (and the alerts that started it, if any)."""
    client = _api(api, token)
    view = client.request("GET", f"/v1/investigations/{inv_id}")
    alerts = client.request("GET", f"/v1/investigations/{inv_id}/alerts")
    if as_json:
        out.print_json(json.dumps({**view, "alerts": alerts}))
        return
    out.print(f"[bold]{view['id']}[/bold] {view['status']} - {view['reason']}")
    out.print(f"agent {view['agent']} (phase {view['trust_phase']}), tier {view['tier']}")
    if view.get("admission"):
        print_admission(view["admission"])
    if alerts:
        firing = sum(1 for a in alerts if a["status"] == "firing")
        plural = "" if len(alerts) == 1 else "s"
        out.print(f"started from {len(alerts)} alert{plural} ({firing} firing):")
        for a in alerts[:10]:
            out.print(f"  {a['fingerprint']} {a['status']} {a['labels'].get('alertname', '')}")
        if len(alerts) > 10:
            out.print(f"  ... {len(alerts) - 10} more: nightshift alerts list")
    if view.get("result"):
        print_result(out, view["result"])


def print_admission(adm: dict[str, Any]) -> None:
    """Dispatched to the cluster, maybe still waiting in Kueue's queue for quota."""
    queue = f" in queue {adm['queue']}" if adm["queue"] else ""
    pos = adm.get("position_in_local_queue")
    place = f", position {pos} (0 = next)" if pos is not None else ""
    out.print(f"admission: {adm['state']}{queue}{place} - {adm['reason']}")


@inv_app.command("events")
def events(
    inv_id: str,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Replay an investigation's events, then follow it live until it ends."""
    _follow(_api(api, token), inv_id, as_json)


@inv_app.command("cancel")
def cancel(
    inv_id: str,
    reason: Annotated[str, typer.Option(help="why")] = "",
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Cancel a queued or running investigation."""
    view = _api(api, token).request(
        "POST", f"/v1/investigations/{inv_id}/cancel", json={"reason": reason}
    )
    out.print(f"{view['id']} {view['status']}: {view['reason']}")


@inv_app.command("logs")
def logs(inv_id: str, api: ApiOpt = None, token: TokenOpt = None) -> None:
    """The worker log of one investigation."""
    print(_api(api, token).request("GET", f"/v1/investigations/{inv_id}/logs"), end="")
