"""Local workers run inside bubblewrap: a worker steered by what it reads cannot
reach the control plane's database, data directory or secrets, cannot write
outside its scratch directory, and a normal investigation still completes,
whether the worker is forked by the sandboxed template or spawned on its own.

The data directory is put outside /tmp on purpose: the sandbox's fresh /tmp
would hide it anyway, and the point is that it is hidden by name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.local_sandbox import detect, hidden_paths
from tests.support.server import TERMINAL, ControlPlane, worker_pid
from tests.unit.runtime.executors.test_local_template import PROBE, REPO, Exits, launch

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    if shutil.which("bwrap") is None:
        if os.environ.get("CI"):
            pytest.fail("bwrap is missing (scripts/setup-dev installs bubblewrap)")
        pytest.skip("bwrap is not installed")


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="ns-sandbox-", dir="/var/tmp"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _data(base: Path) -> tuple[Path, Path]:
    data = base / "data"
    (data / "secrets").mkdir(parents=True)
    (data / "secrets" / "secrets.key").write_text("the-plane-key")
    db = base / "elsewhere.db"
    db.write_text("SQLite format 3 plane rows")
    return data, db


@pytest.fixture
def in_home() -> Iterator[Path]:
    """A file of the control plane's user's home, as its credentials would be."""
    path = Path.home() / f".nightshift-sandbox-probe-{os.getpid()}"
    path.write_text("home secret")
    yield path
    path.unlink(missing_ok=True)


def test_sandboxed_worker_sees_only_what_it_is_given_and_writes_only_its_scratch(
    outside_tmp: Path, tmp_path: Path, in_home: Path
) -> None:
    data, db = _data(outside_tmp)
    named_ca = tmp_path / "certs" / "ca.crt"  # under /tmp, which the sandbox replaces
    named_ca.parent.mkdir()
    named_ca.write_text("the source's CA")
    (named_ca.parent / "client.key").write_text("not named")
    in_data = data / "ca-in-data.crt"  # named, but inside the plane's data: refused
    in_data.write_text("inside the data dir")
    sandbox = detect("bwrap", hidden_paths(data, f"sqlite:///{db}"), [named_ca, in_data])
    assert sandbox is not None
    exits = Exits()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(REPO))
        ex = LocalExecutor(
            tmp_path / "logs", exits, template=True, template_entry=PROBE, sandbox=sandbox
        )
    base = launch(tmp_path, mode="escape")
    reads = [db, data, data / "secrets" / "secrets.key", in_data, in_home, named_ca]
    reads += [named_ca.parent / "client.key", REPO / "README.md"]
    unit = dataclasses.replace(
        base,
        extra_env={
            **base.extra_env,
            "PROBE_READ": os.pathsep.join(map(str, reads)),
            "PROBE_OUTSIDE": str(outside_tmp / "planted.txt"),
        },
    )
    sibling = launch(tmp_path, mode="sleep")  # another investigation, running
    try:
        ex.start(sibling)
        ref = ex.start(unit)
        exit_ = exits.wait(unit.investigation_id)
        log = ex.read_log(unit.investigation_id) or ""
        ex.stop(sibling.investigation_id, "test over")
    finally:
        ex.shutdown()
    line = next((x for x in log.splitlines() if x.startswith("ESCAPE ")), None)
    assert line is not None, (exit_, log)
    seen = json.loads(line.removeprefix("ESCAPE "))
    assert seen[str(named_ca)] == "the source's CA"
    # Not there at all, or mounted over with nothing.
    for path in (db, data / "secrets" / "secrets.key", in_data, in_home):
        assert seen[str(path)] in ("", "denied: No such file or directory"), path
    assert seen[str(data)] in ([], "denied: No such file or directory")
    assert seen[str(named_ca.parent / "client.key")] == "denied: No such file or directory"
    # The repository is on the worker's PYTHONPATH (its code), read-only.
    assert seen[str(REPO / "README.md")] == (REPO / "README.md").read_text()
    assert str(seen[str(outside_tmp / "planted.txt")]).startswith("denied")
    assert not (outside_tmp / "planted.txt").exists()
    scratch = [k for k in seen if k.endswith("scratch.txt")]
    assert scratch and seen[scratch[0]] == "written"
    # Its own PID namespace: its pid there is not ours for it.
    assert seen["pid"] != int(ref.split(":")[1])
    # The running sibling is visible, but its environment is not readable (workers
    # are not dumpable); only the sandbox's init, with the bare template's, is.
    assert [p for p in seen["others"] if p != 1], seen["others"]
    assert set(seen["others_environ_read"]) <= {1}, seen
    assert db.read_text() == "SQLite format 3 plane rows"


@pytest.mark.parametrize("template", ["true", "false"], ids=["template", "spawned"])
def test_investigation_completes_in_the_sandbox_and_hides_the_database(
    outside_tmp: Path, template: str
) -> None:
    db_url = f"sqlite:///{outside_tmp / 'data' / 'nightshift.db'}"
    plane = ControlPlane(
        outside_tmp / "data",
        db_url,
        env_overrides={
            "NIGHTSHIFT_WORKER_SANDBOX": "bwrap",
            "NIGHTSHIFT_WORKER_TEMPLATE": template,
        },
    )
    plane.provision()
    plane.start()
    try:
        with plane.client() as client:
            inv = plane.submit(client, scenario="two-am-cascade", title="sandbox")
            pid = worker_pid(plane.database_url, str(inv["id"]))
            inside_db, inside_ns = _worker_view(pid, outside_tmp / "data" / "nightshift.db")
            done = plane.wait_for(client, str(inv["id"]), TERMINAL, timeout=120)
            for _ in range(100):  # the unit's exit (and its usage) follows the result
                if done.get("resources"):
                    break
                time.sleep(0.1)
                done = client.get(f"/v1/investigations/{inv['id']}").json()
    finally:
        plane.stop()
    assert done["status"] in {"succeeded", "escalated"}, done
    assert done["result"]["root_causes"], done  # type: ignore[index]
    # Exact accounting either way: the worker's own usage, not bwrap's (a spawned
    # unit's wait4 on bwrap read 0.002 CPU-seconds for a whole investigation).
    resources = done["resources"]
    assert resources["cpu_seconds"] > 0.05 and resources["max_rss_mb"] > 30, resources
    if inside_db is not None:
        assert inside_db in (b"", b"unreadable")
        assert inside_ns != os.readlink("/proc/self/ns/pid")


def _worker_view(pid: int, db: Path) -> tuple[bytes | None, str | None]:
    """The database file as the running worker sees it (through its root), and its
    PID namespace; (None, None) when it finished before we looked.

    The unit's reference is the worker itself when forked, and the accountant
    outside the sandbox when spawned: it becomes bwrap, whose children set the
    sandbox up before they run the worker. Only the worker's own view counts, so
    the tree below the reference is searched for the process running the worker
    (``agent run``); any process above it may still see the host's root."""
    deadline = time.monotonic() + 20
    ns: str | None = None
    while time.monotonic() < deadline:
        try:
            worker = _find_worker(pid)
            if worker is None:
                time.sleep(0.005)
                continue
            ns = os.readlink(f"/proc/{worker}/ns/pid")
            try:
                return Path(f"/proc/{worker}/root{db}").read_bytes(), ns
            except FileNotFoundError:
                # Hidden (not there in its root), unless the worker itself is gone.
                return (b"", ns) if Path(f"/proc/{worker}/ns/pid").exists() else (None, None)
        except PermissionError:
            return b"unreadable", ns
        except OSError:
            return None, None  # the unit ended before we looked
    raise AssertionError(f"no worker process appeared below {pid}")


def _find_worker(pid: int) -> int | None:
    """The first process at or below ``pid`` running worker code: a spawned worker
    (``python -m nightshift agent run``) or a child forked from the template (which
    keeps the template's command line). bwrap, the accountant and prlimit are not."""
    queue = [pid]
    while queue:
        current = queue.pop(0)
        argv = Path(f"/proc/{current}/cmdline").read_bytes().split(b"\0")
        spawned = argv[1:5] == [b"-m", b"nightshift", b"agent", b"run"]
        if spawned or argv[1:3] == [b"-m", b"nightshift.runtime.executors.local_zygote"]:
            return current
        for task in Path(f"/proc/{current}/task").iterdir():
            queue += [int(c) for c in (task / "children").read_text().split()]
    return None
