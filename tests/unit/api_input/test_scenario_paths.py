"""A scenario is named, never a path: neither the control plane nor the
worker reads a file a request points at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nightshift.scenarios import ScenarioError, load_installed, load_scenario
from nightshift.scenarios.loader import data_dir
from nightshift.sources.context import SourceContext
from nightshift.sources.simulated import build
from nightshift.worker_spec import simulated_source
from tests.support.control_plane import World


@pytest.fixture
def evil(tmp_path: Path) -> Path:
    """A perfectly valid scenario file outside the installed set."""
    path = tmp_path / "evil.yaml"
    shutil.copy(data_dir() / "two-am-cascade.yaml", path)
    assert load_scenario(path).metadata.name  # the trusted Python API still reads files
    return path


def _refused(client: TestClient, world: World, scenario: str) -> None:
    resp = client.post(
        "/v1/investigations",
        json={"agent": "triage", "scenario": scenario},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 422, resp.text
    assert "scenario" in resp.json()["message"]
    page = client.get("/v1/investigations", headers=world.auth("viewer")).json()
    assert page["items"] == []


def test_the_api_refuses_a_scenario_path(client: TestClient, world: World, evil: Path) -> None:
    _refused(client, world, str(evil))


@pytest.mark.parametrize(
    "name", ["../data/two-am-cascade", "two-am-cascade.yaml", "./two-am-cascade", "Two-AM"]
)
def test_the_api_refuses_anything_but_a_bare_installed_name(
    client: TestClient, world: World, name: str
) -> None:
    _refused(client, world, name)


def test_the_worker_refuses_a_scenario_path(evil: Path) -> None:
    context = SourceContext(investigation_id="i", namespaces=frozenset({"*"}))
    with pytest.raises(ScenarioError, match="paths are not accepted"):
        build(simulated_source(str(evil)), context)
    with pytest.raises(ScenarioError, match="paths are not accepted"):
        load_installed(str(evil))
    assert build(simulated_source("two-am-cascade"), context) is not None
