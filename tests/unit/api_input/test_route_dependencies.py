"""Routes are thin: they name the services they use as declared dependencies
(nightshift.api.deps) and share nothing with each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nightshift.api.routes

ROUTES = sorted(
    p for p in Path(nightshift.api.routes.__file__).parent.glob("*.py") if p.name != "__init__.py"
)


def _imported(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.stem)
def test_a_route_module_imports_no_other_route_module(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert [m for m in _imported(tree) if m.startswith("nightshift.api.routes")] == []


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.stem)
def test_a_route_takes_its_services_as_dependencies_not_from_app_state(path: Path) -> None:
    tree = ast.parse(path.read_text())
    reads = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "state"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "app"
    ]
    assert reads == [], f"{path.name} reads app.state at lines {reads}: use nightshift.api.deps"


def test_the_walk_sees_the_route_modules() -> None:
    assert {"approvals", "investigations", "worker"} <= {p.stem for p in ROUTES}
