"""The authorization matrix: every state-changing operation in the OpenAPI
document, called as no token, a garbage token, a token with no role, each
role, its own investigation's worker and another investigation's worker.
Who may pass the role gate is data (authz_matrix.yaml), reviewed with the
code; an operation missing from it fails here, so a new endpoint cannot
escape the matrix. Prints the matrix's size and result."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from nightshift.api.app import create_app
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.errors import Invalid
from nightshift.web.session import COOKIE
from tests.support.control_plane import World, make_world

MATRIX = Path(__file__).with_name("authz_matrix.yaml")
STATE_CHANGING = ("post", "put", "patch", "delete")
REFUSED = (401, 403)
# Every role has a token; "own-worker" and "other-worker" are worker tokens.
ROLES = tuple(r.value for r in Role)
NO_SUCH_ID = "00000000000000000000000000000000"


@dataclass
class Plane:
    world: World
    client: TestClient
    tokens: dict[str, str]  # principal -> bearer token
    victim: str  # an investigation whose worker is "own-worker"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    world = make_world(tmp_path_factory.mktemp("authz"))
    p = world.container.principals
    tokens = {"admin": world.tokens["admin"], "ops-lead": world.tokens["lead"],
              "operator": world.tokens["operator"], "viewer": world.tokens["viewer"]}  # fmt: skip
    for role in ROLES:
        if role not in tokens:
            kind = PrincipalKind.SERVICE if role.endswith("-sender") else PrincipalKind.HUMAN
            p.create_user(role, kind=kind, roles=frozenset({Role(role)}), contact="x@example.org")
            tokens[role] = p.create_token(role)
    p.create_user("nobody", kind=PrincipalKind.HUMAN, roles=frozenset(), contact="n@example.org")
    tokens["no-role"] = p.create_token("nobody")
    with TestClient(create_app(world.container, background=False)) as client:
        submit = {"agent": "triage", "title": "checkout latency above SLO"}
        ids = []
        for _ in range(2):
            resp = client.post("/v1/investigations", json=submit, headers=world.auth("operator"))
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()["id"])
        world.container.dispatcher.dispatch_once()
        workers = {x.investigation_id: x.token for x in world.executor.launches}
        tokens["own-worker"], tokens["other-worker"] = workers[ids[0]], workers[ids[1]]
        yield Plane(world, client, tokens, ids[0])
    world.container.db.dispose()


def operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in STATE_CHANGING
    ]


def expected() -> dict[str, list[str]]:
    doc = yaml.safe_load(MATRIX.read_text())
    assert isinstance(doc, dict)
    return {str(k): list(v) for k, v in doc.items()}


def _url(path: str, victim: str) -> str:
    # The worker's operations name the victim's investigation; the rest an id that
    # does not exist, so an allowed call is refused later (404/422) and changes nothing.
    if "/worker/" in path:
        return path.replace("{inv_id}", victim)
    return re.sub(r"\{[^}]+\}", NO_SUCH_ID, path)


def test_every_state_changing_operation_is_in_the_reviewed_matrix(plane: Plane) -> None:
    listed = expected()
    ops = {f"{m} {p}" for m, p in operations(plane.client)}
    assert ops - listed.keys() == set(), "add these operations to authz_matrix.yaml"
    assert listed.keys() - ops == set(), "these matrix rows name no operation any more"
    for op, allowed in listed.items():
        unknown = set(allowed) - {*ROLES, "own-worker"}
        assert not unknown, f"{op}: {unknown}"


def test_no_principal_outside_the_matrix_passes_any_operation(
    plane: Plane, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = expected()
    calls, leaks = 0, []
    principals = (*ROLES, "no-role", "own-worker", "other-worker")
    for method, path in operations(plane.client):
        op = f"{method} {path}"
        url = _url(path, plane.victim)
        for header in ({}, {"Authorization": "Bearer nsh_garbage"}):
            status = plane.client.request(method, url, json={}, headers=header).status_code
            calls += 1
            if status != 401:
                leaks.append(f"{op} without a valid token: {status}")
        for who in principals:
            if who in listed.get(op, []):
                continue
            auth = {"Authorization": f"Bearer {plane.tokens[who]}"}
            status = plane.client.request(method, url, json={}, headers=auth).status_code
            calls += 1
            if status != 403:
                leaks.append(f"{op} as {who}: {status}")
    with capsys.disabled():
        print(f"\nauthz matrix: {len(listed)} operations x {len(principals) + 2} callers, "
              f"{calls} refusals checked, {len(leaks)} leaks")  # fmt: skip
    assert leaks == []


def test_every_principal_in_the_matrix_passes_the_role_gate(plane: Plane) -> None:
    """The matrix is no wider than needed only if it is also not narrower:
    each listed principal gets past authorization (to a 404 or 422 here)."""
    refused = []
    for method, path in operations(plane.client):
        for who in expected()[f"{method} {path}"]:
            auth = {"Authorization": f"Bearer {plane.tokens[who]}"}
            url = _url(path, plane.victim)
            status = plane.client.request(method, url, json={}, headers=auth).status_code
            if status in REFUSED:
                refused.append(f"{method} {path} as {who}: {status}")
    assert refused == []


CONSOLE = Path(__file__).with_name("authz_console.yaml")


def app_routes(plane: Plane) -> set[str]:
    """Every state-changing route the app serves, walked from its router (so a
    route left out of the OpenAPI document cannot escape either)."""
    found: set[str] = set()

    def walk(routes: Sequence[Any], prefix: str) -> None:
        for route in routes:
            if type(route).__name__ == "_IncludedRouter":  # FastAPI's lazily included router
                walk(route.original_router.routes, prefix + (route.include_context.prefix or ""))
            elif isinstance(route, Route):
                for method in sorted((route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
                    found.add(f"{method} {prefix}{route.path}")
            elif hasattr(route, "routes"):
                walk(route.routes, prefix + getattr(route, "path", ""))

    asgi: Any = plane.client.app
    while not isinstance(asgi, FastAPI):
        asgi = asgi.app  # through the body-limit and strict-JSON wrappers
    walk(asgi.routes, "")
    return found


def console_expected() -> dict[str, list[str]]:
    doc = yaml.safe_load(CONSOLE.read_text())
    return {str(k): list(v) for k, v in doc.items()}


def test_every_state_changing_route_of_the_app_is_in_a_reviewed_matrix(plane: Plane) -> None:
    listed = set(expected()) | set(console_expected())
    assert app_routes(plane) - listed == set(), "add these routes to a matrix file"


def test_the_consoles_forms_refuse_every_session_outside_the_matrix(plane: Plane) -> None:
    sessions = plane.world.container.console_sessions
    leaks = []
    for op, allowed in console_expected().items():
        if allowed == ["public"]:
            continue
        method, path = op.split(" ", 1)
        url = re.sub(r"\{[^}]+\}", "triage" if "{name}" in path else NO_SUCH_ID, path)
        anonymous = plane.client.request(method, url, data={"csrf": "x"}, follow_redirects=False)
        if anonymous.status_code != 303 or anonymous.headers["location"] != "/login":
            leaks.append(f"{op} without a session: {anonymous.status_code}")
        for who in ROLES:
            try:
                opened = sessions.sign_in(plane.tokens[who])
            except Invalid:  # service tokens get no console session at all
                assert who.endswith("-sender") and who not in allowed, who
                continue
            cookie = {"Cookie": f"{COOKIE}={opened.secret}"}
            forged = plane.client.request(
                method, url, data={"csrf": "forged"}, headers=cookie, follow_redirects=False
            )
            if forged.status_code != 403:
                leaks.append(f"{op} as {who} with a wrong CSRF token: {forged.status_code}")
            sent = plane.client.request(
                method, url, data={"csrf": opened.session.csrf}, headers=cookie,
                follow_redirects=False,
            )  # fmt: skip
            if (sent.status_code == 403) == (who in allowed):
                leaks.append(f"{op} as {who}: {sent.status_code}")
    assert leaks == []
