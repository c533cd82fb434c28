"""The ``nightshift`` command line."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer
from rich.console import Console

from nightshift.cli import admin as admin_commands
from nightshift.cli import alerts as alert_commands
from nightshift.cli import changes as change_commands
from nightshift.cli import console as console_commands
from nightshift.cli import governance as governance_commands
from nightshift.cli import investigations as investigation_commands
from nightshift.cli import k8s as k8s_commands
from nightshift.cli import observability as observability_commands
from nightshift.cli import promotion as promotion_commands
from nightshift.cli import secrets as secrets_commands
from nightshift.cli import workflow as workflow_commands
from nightshift.cli.client import fail, save_token
from nightshift.cli.gateway import gateway_app
from nightshift.cli.mcp import mcp_app
from nightshift.cli.tables import JsonOpt, table
from nightshift.settings import Settings

app = typer.Typer(
    help="Nightshift: governed autonomous diagnostic agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
agent_app = typer.Typer(help="The agent worker (started by an executor, one per investigation).")
db_app = typer.Typer(help="Database schema.")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"nightshift {version('nightshift')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="print the version and exit", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Nightshift: governed autonomous diagnostic agents."""


app.add_typer(agent_app, name="agent")
app.add_typer(db_app, name="db")
app.add_typer(mcp_app, name="mcp")
app.add_typer(gateway_app, name="gateway")
investigation_commands.register(app)
observability_commands.register(app)
admin_commands.register(app)
workflow_commands.register(app)
governance_commands.register(app, admin_commands.users_app, admin_commands.agents_app)
secrets_commands.register(app)
console_commands.register(admin_commands.users_app)
k8s_commands.register(app)
change_commands.register(app)
alert_commands.register(app)
promotion_commands.register(app)


def settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's message names the bad variable
        fail(f"invalid configuration: {exc}", code=2)


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    demo: Annotated[
        bool, typer.Option(help="create a demo owner/agent on first start", metavar="")
    ] = True,
) -> None:
    """Serve the API on the embedded defaults (SQLite, local executor, offline reasoner)."""
    import uvicorn

    from nightshift.api.app import create_app
    from nightshift.bootstrap import build_container
    from nightshift.runtime.executors.protocol import WarmsUp
    from nightshift.services.demo_identities import DEMO_AGENT, ensure_demo

    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    try:
        cfg = Settings(**overrides)  # type: ignore[arg-type]
    except Exception as exc:
        fail(f"invalid configuration: {exc}", code=2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    container = build_container(cfg)
    token = ensure_demo(container.principals, container.agents) if demo else None
    out.print(f"[bold]Nightshift[/bold] control plane on [cyan]{cfg.public_url}[/cyan]")
    out.print(f"  database: {cfg.database_url.split('@')[-1]}   data: {cfg.data_dir}")
    if token:
        path = save_token(cfg, token)
        out.print(f"  demo owner token (saved to {path}): [bold]{token}[/bold]")
        out.print(
            f"  try: [green]nightshift investigate --scenario two-am-cascade --agent {DEMO_AGENT}"
            " --follow[/green]"
        )
    # The worker template starts with the server (not with the first unit, which
    # would wait ~1 s for its imports); /readyz says ready once it is up.
    if cfg.worker_template_at_start and isinstance(container.executor, WarmsUp):
        container.executor.warm_up()
    container.scenarios.warm()  # before serving: the first submission is not the slow one
    uvicorn.run(create_app(container), host=cfg.host, port=cfg.port, log_level="warning")


@agent_app.command("run")
def agent_run(
    investigation: Annotated[str, typer.Option(help="investigation id")],
    api: Annotated[str, typer.Option(help="control-plane URL")],
) -> None:
    """Run one investigation (token from NIGHTSHIFT_WORKER_TOKEN, never argv)."""
    from nightshift.runtime.worker import main

    raise typer.Exit(main(investigation, api))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to the newest revision."""
    from nightshift.store import migrate
    from nightshift.store.database import Database

    cfg = settings()
    db = Database(cfg.database_url)
    migrate.upgrade(db.engine)
    out.print(f"database at revision {migrate.current_revision(db.engine)}")
    db.dispose()


@app.command()
def scenarios(as_json: JsonOpt = False) -> None:
    """List the simulated incident scenarios shipped with Nightshift."""
    from nightshift.scenarios import list_scenarios

    items = list_scenarios()
    if as_json:
        out.print_json(json.dumps([
            {"name": s.name, "title": s.title, "tier": str(s.tier),
             "domains": [str(d) for d in s.domains]} for s in items
        ]))  # fmt: skip
        return
    rows = [(s.name, str(s.tier), ", ".join(str(d) for d in s.domains), s.title) for s in items]
    out.print(table(("name", "tier", "domains", "title"), rows))
