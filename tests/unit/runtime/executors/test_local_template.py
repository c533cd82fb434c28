"""A worker forked from the template keeps every isolation property of a spawned one.

The template runs a probe entry (``zygote_probe``) instead of the real worker:
each child reports what it sees, so every property is checked on a real
forked process. No timing is asserted.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.protocol import UnitLimits, WorkerExit, WorkerLaunch
from nightshift.scenarios import list_scenarios, load_installed

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[4]
PROBE = "tests.unit.runtime.executors.zygote_probe:main"
MB = 1024 * 1024
_CASCADE = load_installed("two-am-cascade")


class Exits:
    def __init__(self) -> None:
        self.got: dict[str, WorkerExit] = {}
        self.cond = threading.Condition()

    def __call__(self, exit_: WorkerExit) -> None:
        with self.cond:
            self.got[exit_.investigation_id] = exit_
            self.cond.notify_all()

    def wait(self, inv: str) -> WorkerExit:
        with self.cond:
            assert self.cond.wait_for(lambda: inv in self.got, 60), "the unit never ended"
            return self.got[inv]


@pytest.fixture(scope="module")
def exits() -> Exits:
    return Exits()


def _executor(logs: Path, exits: Exits) -> Iterator[LocalExecutor]:
    with pytest.MonkeyPatch.context() as mp:
        # A control-plane secret in our own environment: no worker may inherit it.
        mp.setenv("NIGHTSHIFT_DATABASE_URL", "postgresql://plane:hunter2@db/x")
        mp.setenv("PYTHONPATH", str(REPO))
        ex = LocalExecutor(logs, exits, template=True, template_entry=PROBE)
    assert ex.template is not None
    ex.template.start()
    assert ex.template.wait_while_starting(60), "template never came up"
    yield ex
    ex.shutdown()


@pytest.fixture(scope="module")
def executor(tmp_path_factory: pytest.TempPathFactory, exits: Exits) -> Iterator[LocalExecutor]:
    """One template for the module: every test's children come from the same one,
    which is also what the no-leak tests need."""
    yield from _executor(tmp_path_factory.mktemp("logs"), exits)


@pytest.fixture
def own_executor(tmp_path: Path, exits: Exits) -> Iterator[LocalExecutor]:
    yield from _executor(tmp_path / "logs", exits)


def _dead(pid: int) -> bool:
    """Gone, or a zombie nobody reaps yet (orphans go to init): not running."""
    for _ in range(200):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        threading.Event().wait(0.05)
    return False


_ids = iter(range(1, 1_000_000))


def launch(
    tmp: Path, *, mode: str = "report", memory_mb: int = 1024, cpu: int = 30, deadline: int = 60
) -> WorkerLaunch:
    n = next(_ids)
    return WorkerLaunch(
        investigation_id=f"{n:032x}",
        agent="triage",
        trust_phase="assist",
        tier=Tier.SINGLE_DOMAIN,
        api_url="http://127.0.0.1:9",
        token=f"nsw_token-of-{n}",
        secrets_handoff=f"nsh_handoff-of-{n}",
        limits=UnitLimits(memory_mb, cpu, deadline),
        extra_env={"PROBE_OUT": str(tmp / f"report-{n}.json"), "PROBE_MODE": mode},
    )


def probe(
    ex: LocalExecutor, exits: Exits, tmp: Path, memory_mb: int = 1024, cpu: int = 30
) -> dict[str, Any]:
    lx = launch(tmp, memory_mb=memory_mb, cpu=cpu)
    ex.start(lx)
    exits.wait(lx.investigation_id)
    report: dict[str, Any] = json.loads(Path(lx.extra_env["PROBE_OUT"]).read_text())
    return report


def test_the_child_is_forked_by_the_template_not_spawned(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    assert executor.template is not None
    before = executor.template.forks
    got = probe(executor, exits, tmp_path)
    assert got["ppid"] == executor.template.pid
    assert executor.template.forks == before + 1
    assert len(got["inv"]) == 32 and got["api"] == "http://127.0.0.1:9"


def test_the_child_is_its_own_session_and_process_group(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    got = probe(executor, exits, tmp_path)
    assert got["pgid"] == got["pid"] == got["sid"]
    assert executor.template is not None
    assert executor.template.pid is not None
    assert got["pgid"] != os.getpgid(executor.template.pid)


def test_stop_kills_the_whole_group(executor: LocalExecutor, exits: Exits, tmp_path: Path) -> None:
    lx = launch(tmp_path, mode="sleep")
    ref = executor.start(lx)
    pid = int(ref.split(":")[1])
    assert os.getpgid(pid) == pid  # isolated before start() returned
    executor.stop(lx.investigation_id, "operator cancelled")
    got = exits.wait(lx.investigation_id)
    assert got.status is InvestigationStatus.CANCELLED and got.reason == "operator cancelled"


def test_memory_and_cpu_limits_are_the_tiers(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    got = probe(executor, exits, tmp_path, memory_mb=900, cpu=17)
    assert got["rlimit_as"] == [900 * MB, 900 * MB]
    assert got["rlimit_cpu"] == [17, 22]


def test_the_memory_limit_is_enforced(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    lx = launch(tmp_path, mode="eat", memory_mb=400)
    executor.start(lx)
    got = exits.wait(lx.investigation_id)
    assert got.status is InvestigationStatus.FAILED
    assert got.reason == "worker ran out of memory (limit 400 MB)"


def test_the_cpu_limit_is_enforced_and_accounted(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    lx = launch(tmp_path, mode="burn", cpu=1)
    executor.start(lx)
    got = exits.wait(lx.investigation_id)
    assert got.reason == "CPU-time limit of 1s exceeded"
    # The child's own usage, from the template's wait4 (sampled, so not exactly 1 s).
    assert got.resources["cpu_seconds"] > 0.5


def test_the_wall_deadline_is_enforced(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    lx = launch(tmp_path, mode="sleep", deadline=1)
    executor.start(lx)
    got = exits.wait(lx.investigation_id)
    assert got.status is InvestigationStatus.DEADLINE_EXCEEDED


def test_the_environment_is_minimal(executor: LocalExecutor, exits: Exits, tmp_path: Path) -> None:
    env = probe(executor, exits, tmp_path)["env"]
    assert "NIGHTSHIFT_DATABASE_URL" not in env
    allowed = {"PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TZ", "HOME", "TMPDIR",
               "PYTHONUNBUFFERED", "NIGHTSHIFT_SECRETS_BACKEND", "NIGHTSHIFT_WORKER_SECRETS_FD",
               "PROBE_OUT", "PROBE_MODE"}  # fmt: skip
    assert set(env) <= allowed
    assert not any("nsw_" in v or "nsh_" in v for v in env.values())


def test_each_child_gets_a_fresh_temp_dir_removed_afterwards(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    one, two = probe(executor, exits, tmp_path), probe(executor, exits, tmp_path)
    for got in (one, two):
        assert got["cwd"] == got["env"]["HOME"] == got["env"]["TMPDIR"] == got["gettempdir"]
        assert Path(got["cwd"]).name.startswith("nightshift-")
        assert not Path(got["cwd"]).exists()
    assert one["cwd"] != two["cwd"]


def test_only_stdio_and_the_secrets_pipe_are_open(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    got = probe(executor, exits, tmp_path)
    fds = {int(k): v for k, v in got["fds"].items()}
    assert set(fds) == {0, 1, 2, 3}
    assert fds[0] == "/dev/null"
    assert fds[1] == fds[2] == str(executor.log_path(got["inv"]))
    assert fds[3].startswith("pipe:")
    assert "probe done" in (executor.read_log(got["inv"]) or "")


def test_each_child_reads_its_own_token_and_the_template_holds_none(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    one, two = probe(executor, exits, tmp_path), probe(executor, exits, tmp_path)
    for got in (one, two):
        n = int(got["inv"], 16)
        assert got["secrets"] == {"token": f"nsw_token-of-{n}", "handoff": f"nsh_handoff-of-{n}"}
    assert one["secrets"] != two["secrets"]
    assert executor.template is not None
    template_env = Path(f"/proc/{executor.template.pid}/environ").read_bytes()
    assert b"nsw_" not in template_env and b"hunter2" not in template_env
    assert len(os.listdir(f"/proc/{executor.template.pid}/fd")) <= 6  # no pipe kept


def test_no_state_leaks_from_one_investigation_to_the_next(
    executor: LocalExecutor, exits: Exits, tmp_path: Path
) -> None:
    one, two = probe(executor, exits, tmp_path), probe(executor, exits, tmp_path)
    assert one["taint_seen"] is None and two["taint_seen"] is None
    assert one["random"] != two["random"]  # RNG re-seeded per child
    # The scenarios the template parsed once (every shipped one): the first
    # child spoiled its copy of one of them.
    assert one["parsed_at_start"] == two["parsed_at_start"] == len(list_scenarios())
    assert two["scenario_title"] == one["scenario_title"] == _CASCADE.metadata.title
    assert two["scenario_pods"] == one["scenario_pods"] == len(_CASCADE.pods) > 0


def test_a_dead_template_fails_its_running_workers_and_new_ones_are_spawned(
    own_executor: LocalExecutor, exits: Exits, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert own_executor.template is not None and own_executor.template.pid is not None
    running = launch(tmp_path, mode="sleep")
    pid = int(own_executor.start(running).split(":")[1])
    os.kill(own_executor.template.pid, signal.SIGKILL)
    lost = exits.wait(running.investigation_id)
    assert lost.status is InvestigationStatus.FAILED
    assert lost.reason == "worker template died; worker stopped"
    assert _dead(pid)
    # The next one is spawned (today's path: the real worker, which finds no
    # control plane at 127.0.0.1:9 and fails), and the log says so.
    with caplog.at_level(logging.WARNING, logger="nightshift.own_executor"):
        nxt = launch(tmp_path)
        own_executor.start(nxt)
    assert "spawning the worker" in caplog.text
    spawned = exits.wait(nxt.investigation_id)
    assert spawned.status is InvestigationStatus.FAILED
    assert own_executor.template.forks == 1  # only the first one was forked
