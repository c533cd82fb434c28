"""``nightshift costs``, ``nightshift gates`` and ``nightshift depth`` (API clients)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from nightshift.cli.client import connect, fail, resolve_token
from nightshift.cli.tables import JsonOpt, table
from nightshift.settings import Settings

out = Console()
_SPAN = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}

TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="NIGHTSHIFT_TOKEN", help="API token")
]
ApiOpt = Annotated[
    str | None, typer.Option("--api", envvar="NIGHTSHIFT_API_URL", help="control-plane URL")
]


def register(app: typer.Typer) -> None:
    app.command()(costs)
    app.command()(gates)
    app.command()(depth)


def _get(api: str | None, token: str | None, path: str, **params: str) -> Any:
    cfg = Settings()
    client = connect(api or cfg.public_url, resolve_token(cfg, token))
    try:
        return client.request("GET", path, params=params)
    finally:
        client.close()


def parse_moment(text: str, now: datetime) -> datetime:
    """``30d`` / ``12h`` / ``2w`` ago, or an ISO date or timestamp (UTC when naive)."""
    m = _SPAN.match(text.strip())
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"not a time: {text!r} (use 30d, 12h, 2w or an ISO date)", code=2)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _usd(value: float) -> str:
    return f"${value:,.4f}" if value < 10 else f"${value:,.2f}"


def _group_table(title: str, groups: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("", "runs", "total", "mean", "llm", "compute", "tooling", "storage"):
        table.add_column(col, justify="left" if not col else "right")
    for g in groups:
        table.add_row(
            g["key"], str(g["investigations"]), _usd(g["total"]), _usd(g["mean_usd"]),
            _usd(g["llm"]), _usd(g["compute"]), _usd(g["tooling"]), _usd(g["storage"]),
        )  # fmt: skip
    return table


def costs(
    since: Annotated[str, typer.Option(help="start: 30d, 12h, 2w ago or an ISO date")] = "30d",
    until: Annotated[str | None, typer.Option(help="end (default: now)")] = None,
    agent: Annotated[str | None, typer.Option(help="only this agent")] = None,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """What investigations cost over a period, by agent, incident category and tier."""
    now = datetime.now(UTC)
    params = {"since": parse_moment(since, now).isoformat()}
    if until:
        params["until"] = parse_moment(until, now).isoformat()
    if agent:
        params["agent"] = agent
    body = _get(api, token, "/v1/costs", **params)
    if as_json:
        out.print_json(json.dumps(body))
        return
    total = body["total"]
    out.print(
        f"[bold]{body['investigations']}[/bold] investigations finished "
        f"{body['since'][:16]} .. {body['until'][:16]}: [bold]{_usd(total['total'])}[/bold] "
        f"(llm {_usd(total['llm'])}, compute {_usd(total['compute'])}, "
        f"tooling {_usd(total['tooling'])}, storage {_usd(total['storage'])})"
    )
    out.print(
        f"the most expensive 10 % ({body['top_decile_count']} investigations) spent "
        f"[bold]{body['top_decile_share']:.0%}[/bold] of it"
    )
    for title, key in (("by agent", "by_agent"), ("by incident category", "by_category"),
                       ("by tier", "by_tier")):  # fmt: skip
        if body[key]:
            out.print(_group_table(title, body[key]))


def gates(
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Every agent's promotion gates: current value against threshold."""
    body = _get(api, token, "/v1/observability/gates")
    if as_json:
        out.print_json(json.dumps(body))
        return
    rows = [
        (report["agent"], f"{report['current']} -> {report['target']}", g["name"],
         "-" if g["value"] is None else f"{g['value']:.4g}",
         f"{g['comparison']} {g['threshold']:.4g}", "yes" if g["passed"] else "no")
        for report in body for g in report["gates"]
    ]  # fmt: skip
    headers = ("agent", "phase -> target", "gate", "value", "threshold", "passed")
    out.print(table(headers, rows, whole=("agent",)))


def depth(
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """The reasoning-depth bound per tier: min(ceiling, 2 x p95 of successful runs)."""
    body = _get(api, token, "/v1/observability/depth")
    if as_json:
        out.print_json(json.dumps(body))
        return
    table = Table("tier", "limit", "ceiling", "p95 cycles", "samples", "adaptive")
    for b in body:
        p95 = "-" if b["p95"] is None else f"{b['p95']:g}"
        table.add_row(b["tier"], str(b["limit"]), str(b["ceiling"]), p95, str(b["samples"]),
                      "yes" if b["adaptive"] else "no (too few samples)")  # fmt: skip
    out.print(table)
