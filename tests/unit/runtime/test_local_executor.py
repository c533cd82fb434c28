"""The local executor gives each investigation its own bounded OS process.

A stand-in "python" (a script) plays the worker so each test controls how the
unit behaves: exits, crashes, hangs, eats memory or CPU.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.local_sandbox import Sandbox
from nightshift.runtime.executors.protocol import UnitLimits, WorkerExit, WorkerLaunch

pytestmark = pytest.mark.slow


class Exits:
    def __init__(self) -> None:
        self.got: list[WorkerExit] = []
        self.done = threading.Event()

    def __call__(self, exit_: WorkerExit) -> None:
        self.got.append(exit_)
        self.done.set()

    def wait(self) -> WorkerExit:
        assert self.done.wait(30), "the unit never ended"
        return self.got[-1]


def fake_python(tmp: Path, body: str) -> str:
    """A script standing in for the interpreter; ``body`` is Python code."""
    code = tmp / "worker_body.py"
    code.write_text(body)
    script = tmp / "fake-python"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} {code} "$@"\n')
    script.chmod(0o755)
    return str(script)


def launch(
    inv: str = "0000000000000000000000000000abcd",
    memory_mb: int = 512,
    cpu: int = 30,
    deadline: int = 30,
) -> WorkerLaunch:
    return WorkerLaunch(
        investigation_id=inv,
        agent="triage",
        trust_phase="assist",
        tier=Tier.SINGLE_DOMAIN,
        api_url="http://127.0.0.1:9",
        token="nsw_secret-token-value",
        secrets_handoff="nsh_handoff-code-value",
        limits=UnitLimits(memory_mb, cpu, deadline),
    )


def run(tmp_path: Path, body: str, **limits: int) -> tuple[WorkerExit, LocalExecutor, str]:
    exits = Exits()
    ex = LocalExecutor(tmp_path / "logs", exits, python=fake_python(tmp_path, body))
    lx = launch(**limits)
    ex.start(lx)
    return exits.wait(), ex, lx.investigation_id


def test_a_clean_exit_without_a_result_fails_with_that_reason(tmp_path: Path) -> None:
    got, _, _ = run(tmp_path, "print('bye')")
    assert got.status is InvestigationStatus.FAILED
    assert got.reason == "worker exited without reporting a result"
    assert got.resources["wall_seconds"] >= 0


def test_a_crash_names_the_exit_code(tmp_path: Path) -> None:
    got, ex, inv = run(tmp_path, "import sys; print('boom'); sys.exit(7)")
    assert got.reason == "worker crashed with exit code 7; see its log"
    assert "boom" in (ex.read_log(inv) or "")


def test_sigkill_of_the_worker_is_reported_as_such(tmp_path: Path) -> None:
    got, _, _ = run(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert got.status is InvestigationStatus.FAILED
    assert got.reason == "worker killed by signal SIGKILL"


def test_a_worker_hanging_past_its_deadline_is_killed(tmp_path: Path) -> None:
    # The worker would sleep for 120 s; the unit ends within Exits.wait's 30 s
    # only if the deadline killed it, and the process is gone afterwards.
    body = "import os, time; print(os.getpid(), flush=True); time.sleep(120)"
    got, ex, inv = run(tmp_path, body, deadline=1)
    assert got.status is InvestigationStatus.DEADLINE_EXCEEDED
    assert "deadline of 1s" in got.reason
    assert not _alive(int((ex.read_log(inv) or "").split()[0]))


def test_memory_beyond_the_limit_is_reported_as_out_of_memory(tmp_path: Path) -> None:
    got, _, _ = run(tmp_path, "x = bytearray(600 * 1024 * 1024)", memory_mb=256)
    assert got.status is InvestigationStatus.FAILED
    assert "out of memory" in got.reason


def test_cpu_time_beyond_the_limit_is_reported(tmp_path: Path) -> None:
    got, _, _ = run(tmp_path, "while True: pass", cpu=1)
    assert got.status is InvestigationStatus.FAILED
    assert "CPU-time limit of 1s" in got.reason


def test_the_unit_runs_in_its_own_group_with_a_clean_env_and_temp_dir(tmp_path: Path) -> None:
    os.environ["NIGHTSHIFT_DATABASE_URL"] = "postgresql://admin:hunter2@db/prod"
    try:
        body = (
            "import os, sys, json\n"
            "from nightshift.runtime.worker import read_worker_secrets\n"
            "environ = open('/proc/self/environ', 'rb').read().decode()\n"
            "token, settings = read_worker_secrets()\n"
            "print(json.dumps({'pgid': os.getpgid(0), 'pid': os.getpid(), 'cwd': os.getcwd(),"
            " 'env': sorted(os.environ), 'argv': sys.argv, 'environ': environ,"
            " 'token': token, 'handoff': settings.secrets_handoff}))\n"
        )
        _, ex, inv = run(tmp_path, body)
    finally:
        del os.environ["NIGHTSHIFT_DATABASE_URL"]
    import json

    seen = json.loads((ex.read_log(inv) or "").strip().splitlines()[-1])
    assert seen["pgid"] == seen["pid"]  # its own process group
    assert "NIGHTSHIFT_DATABASE_URL" not in seen["env"]
    assert seen["token"] == "nsw_secret-token-value"  # handed over on a pipe...
    assert seen["handoff"] == "nsh_handoff-code-value"
    assert all("nsw_" not in arg for arg in seen["argv"])  # ...never by argv
    # ...nor in the environment, which any process of the same uid can read
    # from /proc/<pid>/environ for as long as the worker runs.
    assert "nsw_" not in seen["environ"] and "nsh_" not in seen["environ"]
    assert "nightshift-" in seen["cwd"]
    assert not Path(seen["cwd"]).exists()  # removed afterwards


def test_stop_terminates_the_whole_process_group(tmp_path: Path) -> None:
    exits = Exits()
    body = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    ex = LocalExecutor(tmp_path / "logs", exits, python=fake_python(tmp_path, body))
    lx = launch()
    ex.start(lx)
    log = ex.log_path(lx.investigation_id)
    deadline = time.monotonic() + 10
    while not log.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child_pid = int(log.read_text().split()[0])
    ex.stop(lx.investigation_id, "cancelled by operator")
    got = exits.wait()
    assert got.status is InvestigationStatus.CANCELLED
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_an_orphan_from_a_previous_control_plane_is_killed(tmp_path: Path) -> None:
    exits = Exits()
    ex = LocalExecutor(
        tmp_path / "logs", exits, python=fake_python(tmp_path, "import time; time.sleep(60)")
    )
    ref = ex.start(launch())
    fresh = LocalExecutor(tmp_path / "logs", Exits())  # "after a restart"
    assert fresh.adopt_or_kill_orphan(ref) is True
    assert exits.wait().reason == "worker killed by signal SIGKILL"
    assert fresh.adopt_or_kill_orphan(ref) is False  # gone now
    assert fresh.adopt_or_kill_orphan("pid:1:0") is False  # a reused pid is left alone


def test_an_orphans_temp_dir_is_removed_when_it_is_killed(tmp_path: Path) -> None:
    """After a control-plane crash nobody watches the orphan, so nobody would remove
    its temp dir: killing it removes the dir too (the executor's own dirs only)."""
    workdir = Path(tempfile.mkdtemp(prefix="nightshift-orphan01-"))
    (workdir / "scratch").write_text("left by the worker")
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], cwd=workdir, start_new_session=True
    )
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], cwd=tmp_path, start_new_session=True
    )
    try:
        fresh = LocalExecutor(tmp_path / "logs", Exits())
        assert fresh.adopt_or_kill_orphan(f"pid:{orphan.pid}:{_ticks(orphan.pid)}") is True
        orphan.wait(10)
        assert not workdir.exists()
        assert fresh.adopt_or_kill_orphan(f"pid:{other.pid}:{_ticks(other.pid)}") is True
        other.wait(10)
        assert tmp_path.exists()  # not one of the executor's temp dirs: left alone
    finally:
        for proc in (orphan, other):
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_dead_control_planes_sandbox_scratch_is_removed_a_live_ones_kept(
    tmp_path: Path,
) -> None:
    """Sandboxed workers die with their control plane, so their scratch dirs would
    stay forever: the next sandboxed executor removes the roots of dead planes, and
    makes its own only when it runs a unit (a CLI command's never does)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    tmp = Path(tempfile.gettempdir())
    dead = Path(tempfile.mkdtemp(prefix=f"nightshift-workers-{gone.pid}-", dir=tmp))
    (dead / "nightshift-0001-x").mkdir()
    (dead / "nightshift-0001-x" / "left.txt").write_text("by a killed worker")
    alive = Path(tempfile.mkdtemp(prefix=f"nightshift-workers-{os.getppid()}-", dir=tmp))
    ex = LocalExecutor(tmp_path / "logs", Exits(), sandbox=Sandbox("bwrap", ()))
    try:
        assert not dead.exists()
        assert alive.is_dir()
        # Its own root comes with its first unit: none yet.
        assert not list(tmp.glob(f"nightshift-workers-{os.getpid()}-*"))
    finally:
        ex.shutdown()
        shutil.rmtree(alive, ignore_errors=True)
        shutil.rmtree(dead, ignore_errors=True)


def _ticks(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False
