"""Administration commands that work on the database directly: users, tokens,
agents. They bootstrap access, so they cannot need a token themselves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from nightshift.cli.client import EXIT_API, fail
from nightshift.cli.tables import JsonOpt, table
from nightshift.domain.vocabulary import Domain, PrincipalKind, Role
from nightshift.services.errors import ServiceError
from nightshift.settings import Settings

if TYPE_CHECKING:
    from nightshift.bootstrap import Container

out = Console()
users_app = typer.Typer(help="Humans and service principals.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
agents_app = typer.Typer(help="Agent identities and their owners.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(agents_app, name="agents")


def _container() -> Container:
    from nightshift.bootstrap import build_container

    return build_container(Settings())


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[list[Role], typer.Option(help="repeatable")] = [Role.VIEWER],  # noqa: B006
    kind: Annotated[PrincipalKind, typer.Option()] = PrincipalKind.HUMAN,
    contact: Annotated[str, typer.Option(help="e-mail / pager (required for humans)")] = "",
) -> None:
    """Create a user."""
    c = _container()
    try:
        user = c.principals.create_user(name, kind=kind, roles=frozenset(role), contact=contact)
    except ServiceError as exc:
        fail(str(exc), code=EXIT_API)
    out.print(
        f"created {user.kind.value} {user.name} with roles "
        f"{', '.join(sorted(r.value for r in user.roles))}"
    )


@users_app.command("list")
def users_list() -> None:
    """All users."""
    rows = [
        (
            u.name,
            u.kind.value,
            ", ".join(sorted(r.value for r in u.roles)),
            u.contact,
            str(u.active),
        )
        for u in _container().principals.list_users()
    ]
    out.print(table(("name", "kind", "roles", "contact", "active"), rows))


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="user the token acts as")],
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Create an API token for a user; printed once, on stdout alone."""
    try:
        token = _container().principals.create_token(user, description=description)
    except ServiceError as exc:
        fail(str(exc), code=EXIT_API)
    print(token)


@agents_app.command("register")
def agents_register(
    name: str,
    owner: Annotated[str, typer.Option(help="accountable human owner (user name)")],
    authority_class: Annotated[str, typer.Option("--class", help="advisory|supervised|...")],
    phase: Annotated[str, typer.Option(help="initial trust phase")] = "shadow",
    description: Annotated[str, typer.Option()] = "",
    domain: Annotated[list[Domain], typer.Option(help="domain it may read; repeatable")] = [],  # noqa: B006
    namespace: Annotated[list[str], typer.Option(help="namespace ('*' = all); repeatable")] = [],  # noqa: B006
    action: Annotated[list[str], typer.Option(help="action type it may propose; repeatable")] = [],  # noqa: B006
) -> None:
    """Register an agent identity with its accountable owner and its boundaries.

    Boundaries are deny-by-default: an agent registered without --domain and
    --namespace may read nothing until `nightshift agents boundaries` widens them.
    """
    boundaries = {
        "domains": [d.value for d in domain],
        "namespaces": namespace,
        "action_types": action,
    }
    try:
        view = _container().agents.register(
            name,
            owner=owner,
            authority_class=authority_class,
            trust_phase=phase,
            description=description,
            boundaries=boundaries,
        )
    except ServiceError as exc:
        fail(str(exc), code=EXIT_API)
    out.print(
        f"registered {view.name}: owner {view.owner}, class {view.authority_class.value}, "
        f"phase {view.trust_phase.value}"
    )
    if not domain or not namespace:
        out.print(
            "[yellow]note:[/yellow] no domains/namespaces granted: every tool call will be "
            "denied until `nightshift agents boundaries` widens them"
        )


@agents_app.command("list")
def agents_list(as_json: JsonOpt = False) -> None:
    """All agents with owner, class, phase and status."""
    views = _container().agents.list()
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "name": v.name,
                        "owner": v.owner,
                        "authority_class": v.authority_class.value,
                        "trust_phase": v.trust_phase.value,
                        "status": v.status,
                    }
                    for v in views
                ]
            )
        )
        return
    rows = [
        (v.name, v.owner, v.authority_class.value, v.trust_phase.value, v.status) for v in views
    ]
    out.print(table(("name", "owner", "class", "phase", "status"), rows, whole=("name", "owner")))
