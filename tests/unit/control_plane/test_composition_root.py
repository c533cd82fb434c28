"""The composition root builds every object once, in dependency order: the
container is whole when ``build_container`` returns, nothing is wired into it
afterwards, and the executor's exit handler reaches the reconciler and the
telemetry from the first unit on."""

from __future__ import annotations

from dataclasses import fields

from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from nightshift.bootstrap import Container
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.observability.metrics import tier_label
from nightshift.services.concealment import UNCONCEALED
from tests.support.control_plane import World


def test_every_container_field_is_given_at_construction() -> None:
    assert [f.name for f in fields(Container) if not f.init] == []


def test_a_built_container_is_whole(world: World) -> None:
    unset = [f.name for f in fields(Container) if not hasattr(world.container, f.name)]
    assert unset == []
    # Wired at construction, not later: start-up recovery settles interrupted executions.
    assert world.container.reconciler.executions is not None


def test_a_unit_exit_ends_the_investigation_and_is_counted(world: World) -> None:
    with TestClient(create_app(world.container, background=False)) as client:
        resp = client.post(
            "/v1/investigations",
            json={"agent": "triage", "title": "payments 5xx"},
            headers=world.auth("operator"),
        )
        inv_id = resp.json()["id"]
        world.container.dispatcher.dispatch_once()
        world.executor.exit(inv_id, S.FAILED, "worker killed by signal SIGKILL")
        got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert (got["status"], got["reason"]) == ("failed", "worker killed by signal SIGKILL")
    registry = world.container.telemetry.metrics.registry
    tier = tier_label(world.container.investigations.get(inv_id, UNCONCEALED).tier)
    cpu = registry.get_sample_value("nightshift_worker_cpu_seconds_total", {"tier": tier})
    assert cpu == 0.1  # the fake executor's exit report


def test_close_releases_what_the_container_holds(world: World) -> None:
    world.container.dispatcher.dispatch_once()
    world.container.close()
    assert world.executor.live == set()
