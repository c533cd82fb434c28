"""The console's pages get their services as the API's routes do, from the declared
providers (nightshift.api.deps), and share no code with the route modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nightshift.web

MODULES = sorted(Path(nightshift.web.__file__).parent.glob("*.py"))


def _imported(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_a_console_module_reads_no_app_state(path: Path) -> None:
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


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_a_console_module_imports_no_api_route_module(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert [m for m in _imported(tree) if m.startswith("nightshift.api.routes")] == []


def test_the_walk_sees_the_console_modules() -> None:
    assert {"pages", "actions", "forms", "session", "responses"} <= {p.stem for p in MODULES}
