"""The sandboxed spawn's accountant reports its worker's exact usage and ends as it ended."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from nightshift.runtime.executors.local import RUSAGE_MODULE


def _account(*command: str) -> tuple[int, dict[str, float]]:
    read_end, write_end = os.pipe()
    done = subprocess.run(
        [sys.executable, "-m", RUSAGE_MODULE, str(write_end), "--", *command],
        pass_fds=(write_end,),
        check=False,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as got:
        return done.returncode, json.loads(got.read() or b"{}")


def test_it_reports_the_cpu_its_child_used_and_keeps_its_exit_code() -> None:
    code, usage = _account(sys.executable, "-c", "sum(range(3_000_000)); raise SystemExit(7)")
    assert code == 7
    assert usage["cpu"] > 0.02 and usage["maxrss_kb"] > 1000


def test_a_child_killed_by_a_signal_ends_it_with_the_same_signal() -> None:
    code, usage = _account(sys.executable, "-c", "import os, signal; os.kill(os.getpid(), 9)")
    assert code == -signal.SIGKILL
    assert "cpu" in usage


def test_the_stop_signal_reaches_the_worker_but_not_the_accountant() -> None:
    read_end, write_end = os.pipe()
    worker = "import signal, time; time.sleep(30)"
    proc = subprocess.Popen(
        [sys.executable, "-m", RUSAGE_MODULE, str(write_end), "--", sys.executable, "-c", worker],
        pass_fds=(write_end,),
        start_new_session=True,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as got:
        # The group's SIGTERM: the worker dies of it, the accountant reports first.
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == -signal.SIGTERM
        assert "cpu" in json.loads(got.read())
