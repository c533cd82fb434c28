"""A real `nightshift up` forks its workers from the worker template: each
investigation is a child of the template (not of the control plane), reaches
a diagnosis, and one investigation leaves nothing to the next; with the
template off every worker is spawned by the control plane itself (in either
case through the worker sandbox where bubblewrap runs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.server import TERMINAL, ControlPlane, worker_pid

pytestmark = pytest.mark.slow
SCENARIO = "two-am-cascade"
MakePlane = Callable[..., ControlPlane]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _between(pid: int, ancestor: int) -> list[int]:
    """The processes between ``pid`` and its ``ancestor`` (which must be one)."""
    chain: list[int] = []
    parent = _ppid(pid)
    while parent != ancestor:
        assert parent not in (None, 0, 1), f"{ancestor} is not an ancestor of {pid}"
        chain.append(parent)
        parent = _ppid(parent)
    return chain


def _run(plane: ControlPlane, **extra: object) -> tuple[dict[str, object], int | None]:
    """One investigation: its final view, and its worker's parent while it ran."""
    with plane.client() as client:
        inv = plane.submit(
            client, scenario=SCENARIO, title="template", tier="multi-domain", **extra
        )
        pid = worker_pid(plane.database_url, str(inv["id"]))
        parent = _ppid(pid)
        done = plane.wait_for(client, str(inv["id"]), TERMINAL, timeout=120)
    return done, parent


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_workers_are_forked_by_the_template_and_share_nothing(make_plane: MakePlane) -> None:
    plane = make_plane()
    plane.start()
    assert plane.proc is not None
    first, parent_1 = _run(plane)
    second, parent_2 = _run(plane)
    # Both diagnosed the same incident the same way: the second child did not
    # start from what the first one had seen.
    for done in (first, second):
        assert done["status"] in {"succeeded", "escalated"}, done
    assert first["result"]["root_causes"] == second["result"]["root_causes"]  # type: ignore[index]
    # The template forked them (a worker that finished before we looked has no
    # parent to read; at least the slower of the two is caught running).
    parents = {p for p in (parent_1, parent_2) if p is not None}
    assert parents, "no worker was seen running"
    for parent in parents:
        assert parent != plane.proc.pid
        assert "nightshift.runtime.executors.local_zygote" in _cmdline(parent)
        # Started by the control plane, directly or through the worker sandbox.
        between = _between(parent, plane.proc.pid)
        assert all(_cmdline(p).split(" ")[0].endswith("bwrap") for p in between), between


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_the_template_off_the_control_plane_spawns_each_worker(
    make_plane: MakePlane,
) -> None:
    plane = make_plane(NIGHTSHIFT_WORKER_TEMPLATE="false")
    plane.start()
    assert plane.proc is not None
    done, parent = _run(plane)
    assert done["status"] in {"succeeded", "escalated"}, done
    assert parent in (plane.proc.pid, None)
    assert not (plane.data_dir / "logs" / "worker-template.txt").exists()


def _templates_below(pid: int) -> list[int]:
    """The worker templates among ``pid``'s descendants (through the sandbox)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
            todo.append(int(child))
            if "nightshift.runtime.executors.local_zygote" in _cmdline(int(child)):
                found.append(int(child))
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_up_starts_the_template_with_the_server_so_the_first_investigation_is_forked(
    make_plane: MakePlane,
) -> None:
    plane = make_plane()
    plane.start()
    assert plane.proc is not None
    # Ready (plane.start waits for /readyz) only once `up` has the template up,
    # before any investigation.
    assert _templates_below(plane.proc.pid), plane.log_text()
    with plane.client() as client:
        assert client.get("/readyz").json()["executor_warming_up"] is False
    done, parent = _run(plane)
    assert done["status"] in {"succeeded", "escalated"}, done
    assert "spawning the worker" not in plane.log_text()
    if parent is not None:  # None: it finished before we looked
        assert "nightshift.runtime.executors.local_zygote" in _cmdline(parent)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_at_start_off_the_first_unit_starts_the_template(make_plane: MakePlane) -> None:
    plane = make_plane(NIGHTSHIFT_WORKER_TEMPLATE_AT_START="false")
    plane.start()
    assert plane.proc is not None
    time.sleep(2)  # as long as `up` needs to start one
    assert _templates_below(plane.proc.pid) == []
    done, _ = _run(plane)
    assert done["status"] in {"succeeded", "escalated"}, done
    assert "spawning the worker" not in plane.log_text()  # it waited for the template
