"""``nightshift changes``: post to and read the change feed (docs/changes.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from nightshift.cli.client import Api, connect, fail, resolve_token
from nightshift.cli.investigations import ApiOpt, TokenOpt
from nightshift.cli.tables import JsonOpt, table
from nightshift.settings import Settings

out = Console()
changes_app = typer.Typer(help="The change feed: deploys, config, firewall, schema changes.")
# "Deployment/checkout" or "shop/Deployment/checkout" is an object; anything else free text.
_OBJECT = re.compile(r"^(?:(?P<ns>[a-z0-9][-a-z0-9]*)/)?(?P<kind>[A-Z][A-Za-z0-9]*)/(?P<name>\S+)$")


def register(app: typer.Typer) -> None:
    app.add_typer(changes_app, name="changes")


def _client(api: str | None, token: str | None) -> Api:
    cfg = Settings()
    return connect(api or cfg.public_url, resolve_token(cfg, token))


def target_body(target: str, namespace: str | None) -> dict[str, Any] | str:
    m = _OBJECT.match(target.strip())
    if m is None:
        if namespace:
            fail("--namespace goes with an object target (Kind/name)", code=2)
        return target
    return {"kind": m["kind"], "name": m["name"], "namespace": namespace or m["ns"]}


@changes_app.command("post")
def post(
    summary: Annotated[str, typer.Option(help="what changed, one line")],
    target: Annotated[
        str, typer.Option(help="[NS/]Kind/name (e.g. shop/Deployment/checkout) or free text")
    ],
    kind: Annotated[
        str, typer.Option(help="deploy, config, firewall, schema, feature-flag, other")
    ],
    domain: Annotated[str, typer.Option(help="application, kubernetes, network, database, ...")],
    actor: Annotated[str, typer.Option(help="who made the change")],
    at: Annotated[str | None, typer.Option(help="when (RFC 3339); default now")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    change_id: Annotated[str | None, typer.Option("--id", help="your id (ticket, commit)")] = None,
    link: Annotated[str, typer.Option(help="URL of the change (pipeline run, PR)")] = "",
    details: Annotated[str, typer.Option(help="longer description")] = "",
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Record one change (operator or change-sender token)."""
    body: dict[str, Any] = {
        "actor": actor,
        "summary": summary,
        "at": at or datetime.now(UTC).isoformat(),
        "target": target_body(target, namespace),
        "kind": kind,
        "domain": domain,
        "details": details,
        "link": link,
    }
    if change_id:
        body["id"] = change_id
    client = _client(api, token)
    try:
        change = client.request("POST", "/v1/changes", json=body)
    finally:
        client.close()
    if as_json:
        out.print_json(json.dumps(change))
        return
    out.print(f"recorded change [bold]{change['ref']}[/bold]: {change['kind']} {change['target']}")


@changes_app.command("list")
def list_changes(
    since: Annotated[str, typer.Option(help="RFC 3339 time or 90m / 6h / 2d")] = "24h",
    domain: Annotated[str | None, typer.Option()] = None,
    target: Annotated[str | None, typer.Option(help="substring of the target")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    as_json: JsonOpt = False,
    api: ApiOpt = None,
    token: TokenOpt = None,
) -> None:
    """Changes in the feed, newest first (viewer token)."""
    params = {"since": since, "limit": limit, "domain": domain, "target": target, "kind": kind}
    client = _client(api, token)
    try:
        items = client.request(
            "GET", "/v1/changes", params={k: v for k, v in params.items() if v is not None}
        )
    finally:
        client.close()
    if as_json:
        out.print_json(json.dumps(items))
        return
    if not items:
        out.print(f"no changes since {since}")
        return
    rows = [
        (c["ref"], c["at"], c["kind"], c["domain"], c["target"], c["actor"], c["summary"])
        for c in items
    ]
    out.print(table(("id", "at", "kind", "domain", "target", "actor", "summary"), rows))
