"""Secret-broker commands: the Vault/OpenBao policies Nightshift expects, and
the local broker's encrypted store (values are never printed back)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nightshift.cli.client import fail
from nightshift.domain.vocabulary import Domain
from nightshift.settings import Settings

out = Console()
vault_app = typer.Typer(help="Vault / OpenBao integration.", no_args_is_help=True)
secrets_app = typer.Typer(help="The local broker's encrypted secret store.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(vault_app, name="vault")
    app.add_typer(secrets_app, name="secrets")


@vault_app.command("policies")
def vault_policies() -> None:
    """Print every HCL policy Nightshift expects (control plane, with transit sign/verify
    on the audit key; per phase; per domain)."""
    from nightshift.bootstrap import vault_layout
    from nightshift.secrets.policies import render_policies

    print(render_policies(vault_layout(Settings())))


@secrets_app.command("set")
def secrets_set(
    domain: Domain,
    source: Annotated[str, typer.Option(help="data source name within the domain")] = "default",
    from_file: Annotated[
        Path | None, typer.Option(help="JSON object of key: value; '-' reads stdin")
    ] = None,
) -> None:
    """Store (or rotate) a data-source credential; the next investigation gets it.

    Values are read from a JSON file or stdin, never from the command line,
    so they do not end up in shell history or the process list.
    """
    from nightshift.secrets.local_store import LocalSecretStore

    if from_file is None:
        fail("give --from-file PATH (a JSON object) or --from-file - to read stdin", code=2)
    raw = sys.stdin.read() if str(from_file) == "-" else from_file.read_text()
    try:
        values = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"not a JSON object: {exc.msg} at line {exc.lineno}", code=2)
    if not isinstance(values, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in values.items()
    ):
        fail("expected a JSON object of string keys to string values", code=2)
    LocalSecretStore(Settings().secrets_path).put(domain, source, values)
    out.print(f"stored {len(values)} value(s) for {domain.value}/{source} (encrypted at rest)")


@secrets_app.command("list")
def secrets_list() -> None:
    """Which domain/source credentials are stored (names only)."""
    from nightshift.secrets.local_store import LocalSecretStore

    store = LocalSecretStore(Settings().secrets_path)
    for domain in Domain:
        for source in store.sources(domain):
            print(f"{domain.value}/{source}")
