"""Local executor: one OS process per investigation.

Each worker gets its own process group (so a kill takes its children too),
address-space and CPU-time limits by tier, a wall-clock deadline enforced
from outside, a fresh temp dir as cwd and HOME (removed afterwards), a
minimal environment (the control plane's own settings and secrets are not
inherited) and its own log file. One watcher thread per worker blocks in
wait4() so exit status and resource usage are exact, not polled.

With ``template=True`` a worker template (``local_template``/``local_zygote``)
that has already imported the worker forks each unit instead: same isolation,
set up in the child before any worker code, for a start-up near fork's cost.
The template's wait4 reports exit and usage. When it is not up, units are
spawned as above and the log says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.local_sandbox import Sandbox
from nightshift.runtime.executors.local_template import (
    WORKER_ENTRY,
    ChildExit,
    ForkRequest,
    TemplateUnavailable,
    WorkerTemplate,
    template_env,
)
from nightshift.runtime.executors.protocol import (
    EXIT_OUT_OF_MEMORY,
    SECRETS_FD_ENV,
    ExitHandler,
    WorkerExit,
    WorkerLaunch,
)

log = logging.getLogger("nightshift.executor")

RUSAGE_MODULE = "nightshift.runtime.executors.local_rusage"
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TZ")
_TERM_GRACE_SECONDS = 5.0
_TEMPLATE_FIRST_READY_SECONDS = 15.0


@dataclass
class _Unit:
    launch: WorkerLaunch
    pid: int
    proc: subprocess.Popen[bytes] | None  # None when the template forked it
    workdir: Path
    started: float
    deadline_timer: threading.Timer
    log_path: Path
    stop_reason: str | None = None
    deadline_hit: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    usage_fd: int | None = None  # a sandboxed spawn's exact usage arrives here


class LocalExecutor:
    def __init__(
        self,
        logs_dir: Path,
        on_exit: ExitHandler,
        *,
        python: str | None = None,
        template: bool = False,
        template_entry: str = WORKER_ENTRY,
        sandbox: Sandbox | None = None,
    ) -> None:
        self._logs_dir = logs_dir
        self.sandbox = sandbox
        # Sandboxed units' scratch dirs live under one root of ours: the template's
        # sandbox can make that root writable and nothing else. Made with the first
        # unit: a control plane built for one CLI command never runs a worker.
        self._scratch_root: Path | None = None
        self._scratch_lock = threading.Lock()
        if sandbox is not None:
            _remove_dead_scratch_roots()
        self._logs_dir.mkdir(parents=True, exist_ok=True)
        self._on_exit = on_exit
        self._python = python or sys.executable
        self._units: dict[str, _Unit] = {}
        self._by_pid: dict[int, _Unit] = {}
        self._early_exits: dict[int, ChildExit] = {}  # exits that beat their registration
        self._lock = threading.Lock()
        self.template: WorkerTemplate | None = None
        self._template_env = template_env(_base_env())
        if template:
            self.template = WorkerTemplate(
                sys.executable if python is None else python,
                self._template_env,
                logs_dir / "worker-template.txt",
                self._template_exit,
                self._template_lost,
                entry=template_entry,
                wrap=None if sandbox is None else self._wrap_template,
            )

    # WarmsUp: `nightshift up` starts the template with the server.
    def warm_up(self) -> None:
        if self.template is not None:
            self.template.start()

    @property
    def warming(self) -> bool:
        return self.template is not None and self.template.starting(_TEMPLATE_FIRST_READY_SECONDS)

    def _wrap_template(self, argv: list[str]) -> list[str]:
        assert self.sandbox is not None
        root = self._scratch()
        assert root is not None
        return self.sandbox.command(argv, [root], Path("/"), self._template_env)

    def _scratch(self) -> Path | None:
        """The sandboxed units' scratch root (None unsandboxed: the system temp dir)."""
        if self.sandbox is None:
            return None
        with self._scratch_lock:
            if self._scratch_root is None:
                prefix = f"{_SCRATCH_ROOT_PREFIX}{os.getpid()}-"
                self._scratch_root = Path(tempfile.mkdtemp(prefix=prefix))
            return self._scratch_root

    def log_path(self, investigation_id: str) -> Path:
        return self._logs_dir / f"{investigation_id}.log"

    def start(self, launch: WorkerLaunch) -> str:
        workdir = _workdir(launch.investigation_id, self._scratch())
        env = _base_env()
        env.update(
            HOME=str(workdir),
            TMPDIR=str(workdir),
            PYTHONUNBUFFERED="1",
            NIGHTSHIFT_SECRETS_BACKEND=launch.secrets_backend,
        )
        env.update(launch.extra_env)
        # The token and hand-off go on a pipe, not in the environment: any process
        # of the same uid reads /proc/<pid>/environ, and popping a variable later
        # does not change what it shows.
        secrets_fd = _secrets_pipe(launch)
        proc: subprocess.Popen[bytes] | None = None
        usage_fd: int | None = None
        try:
            with open(self.log_path(launch.investigation_id), "ab") as log_file:
                pid = self._fork(launch, env, workdir, log_file.fileno(), secrets_fd)
                if pid is None:
                    proc, usage_fd = self._spawn(launch, env, workdir, log_file, secrets_fd)
                    pid = proc.pid
        finally:
            os.close(secrets_fd)
        timer = threading.Timer(launch.limits.deadline_seconds, self._deadline, [launch])
        timer.daemon = True
        unit = _Unit(
            launch,
            pid,
            proc,
            workdir,
            time.monotonic(),
            timer,
            self.log_path(launch.investigation_id),
            usage_fd=usage_fd,
        )
        with self._lock:
            self._units[launch.investigation_id] = unit
            self._by_pid[pid] = unit
            early = self._early_exits.pop(pid, None)
        timer.start()
        if proc is not None:
            threading.Thread(
                target=self._watch, args=(unit,), name=f"watch-{pid}", daemon=True
            ).start()
        elif early is not None:
            self._template_exit(early)
        return f"pid:{pid}:{_start_ticks(pid)}"

    def _fork(
        self, launch: WorkerLaunch, env: dict[str, str], workdir: Path, log_fd: int, secrets_fd: int
    ) -> int | None:
        """The pid the template forked, or None: spawn instead (and say why)."""
        if self.template is None:
            return None
        req = ForkRequest(
            launch.investigation_id,
            launch.api_url,
            env,
            workdir,
            launch.limits.memory_mb * 1024 * 1024,
            launch.limits.cpu_seconds,
        )
        if not self.template.started:
            # Started by `nightshift up`, else with the first unit, not with the
            # executor: a control plane built in-process (tests) never pays its
            # imports unless it runs a local unit.
            self.template.start()
        # A unit that meets the template still importing (just started, or
        # restarted) waits for it rather than spawn: a spawn takes as long.
        self.template.wait_while_starting(_TEMPLATE_FIRST_READY_SECONDS)
        try:
            return self.template.fork(req, log_fd, secrets_fd)
        except TemplateUnavailable as exc:
            log.warning("%s; spawning the worker for %s", exc, launch.investigation_id)
            return None

    def _spawn(
        self,
        launch: WorkerLaunch,
        env: dict[str, str],
        workdir: Path,
        log_file: Any,
        secrets_fd: int,
    ) -> tuple[subprocess.Popen[bytes], int | None]:
        """The spawned unit, and where its exact usage will be reported (sandboxed)."""
        env = {**env, SECRETS_FD_ENV: str(secrets_fd)}
        argv = [
            self._python, "-m", "nightshift", "agent", "run",
            "--investigation", launch.investigation_id,
            "--api", launch.api_url,
        ]  # fmt: skip
        if self.sandbox is not None:
            # Limits inside the sandbox: set on bwrap after spawn they could miss
            # the worker it already forked.
            mem = launch.limits.memory_mb * 1024 * 1024
            cpu = launch.limits.cpu_seconds
            limits = ["prlimit", f"--as={mem}:{mem}", f"--cpu={cpu}:{cpu + 5}", "--"]
            # bwrap's PID namespace hides the worker's usage from wait4 on bwrap:
            # the accountant inside reports it (runtime/executors/local_rusage.py).
            usage_r, usage_w = os.pipe()
            accountant = [self._python, "-m", RUSAGE_MODULE, str(usage_w), "--"]
            sandboxed = self.sandbox.command([*accountant, *limits, *argv], [workdir], workdir, env)
            argv = [self._python, "-m", RUSAGE_MODULE, "exec", "--", *sandboxed]
            try:
                proc = self._popen(argv, env, workdir, log_file, (secrets_fd, usage_w))
            except BaseException:
                os.close(usage_r)
                raise
            finally:
                os.close(usage_w)
            return proc, usage_r
        proc = self._popen(argv, env, workdir, log_file, (secrets_fd,))
        _apply_limits(proc.pid, launch)
        return proc, None

    @staticmethod
    def _popen(
        argv: list[str], env: dict[str, str], workdir: Path, log_file: Any, fds: tuple[int, ...]
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            pass_fds=fds,
        )

    def stop(self, investigation_id: str, reason: str) -> None:
        with self._lock:
            unit = self._units.get(investigation_id)
        if unit is None:
            return
        with unit.lock:
            if unit.stop_reason is None:
                unit.stop_reason = reason
        _signal_group(unit.pid, signal.SIGTERM)
        killer = threading.Timer(_TERM_GRACE_SECONDS, _signal_group, [unit.pid, signal.SIGKILL])
        killer.daemon = True
        killer.start()

    def adopt_or_kill_orphan(self, worker_ref: str) -> bool:
        """A worker outlived a control-plane crash: nobody watches it, so end it."""
        try:
            _, pid_s, ticks = worker_ref.split(":")
            pid = int(pid_s)
        except ValueError:
            return False
        if _start_ticks(pid) != ticks or ticks == "":
            return False  # gone, or the pid now belongs to someone else
        workdir = _own_workdir(pid)  # read before the kill: /proc/<pid>/cwd goes with it
        _signal_group(pid, signal.SIGKILL)
        if workdir is not None:  # its watcher died with the old control plane
            shutil.rmtree(workdir, ignore_errors=True)
        return True

    def tracks(self, investigation_id: str) -> bool:
        with self._lock:
            return investigation_id in self._units

    def read_log(self, investigation_id: str, tail_bytes: int = 1_000_000) -> str | None:
        path = self.log_path(investigation_id)
        if not path.exists():
            return None
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - tail_bytes))
            return fh.read().decode("utf-8", errors="replace")

    def running(self) -> int:
        with self._lock:
            return len(self._units)

    def shutdown(self) -> None:
        with self._lock:
            units = list(self._units.values())
        for unit in units:
            self.stop(unit.launch.investigation_id, "control plane shutting down")
        if self.template is not None:
            self.template.close()
        with self._scratch_lock:
            if self._scratch_root is not None:
                shutil.rmtree(self._scratch_root, ignore_errors=True)
                self._scratch_root = None

    def purge_logs(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self._logs_dir.glob("*.log"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- internals -----------------------------------------------------------

    def _deadline(self, launch: WorkerLaunch) -> None:
        with self._lock:
            unit = self._units.get(launch.investigation_id)
        if unit is None:
            return
        with unit.lock:
            unit.deadline_hit = True
        _signal_group(unit.pid, signal.SIGKILL)

    def _watch(self, unit: _Unit) -> None:
        _, status, usage = os.wait4(unit.pid, 0)
        cpu, maxrss_kb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
        if unit.usage_fd is not None:
            reported = _reported_usage(unit.usage_fd)
            if reported is not None:  # none when the unit was SIGKILLed whole
                cpu, maxrss_kb = reported
        self._finish(unit, status, cpu, maxrss_kb)

    def _template_exit(self, done: ChildExit) -> None:
        with self._lock:
            unit = self._by_pid.get(done.pid)
            if unit is None:
                self._early_exits[done.pid] = done
                return
        self._finish(unit, done.status, done.cpu_seconds, done.max_rss_kb)

    def _template_lost(self, pids: list[int]) -> None:
        """The template died: its children's exits will never be reported, so end them."""
        for pid in pids:
            with self._lock:
                unit = self._by_pid.get(pid)
            if unit is None:
                continue
            with unit.lock:
                stopped = unit.stop_reason is not None
            _signal_group(pid, signal.SIGKILL)
            self._finish(unit, signal.SIGKILL, 0.0, 0, lost=not stopped)

    def _finish(
        self, unit: _Unit, status: int, cpu: float, maxrss_kb: int, *, lost: bool = False
    ) -> None:
        if unit.proc is not None and self.sandbox is not None and os.WIFEXITED(status):
            # bwrap reports a worker killed by signal N as exit code 128 + N.
            code = os.WEXITSTATUS(status)
            if code > 128 and code - 128 in signal.valid_signals():
                status = code - 128
        if unit.proc is not None:
            unit.proc.returncode = os.waitstatus_to_exitcode(status)
        unit.deadline_timer.cancel()
        _signal_group(unit.pid, signal.SIGKILL)  # reap stragglers left in the group
        wall = time.monotonic() - unit.started
        shutil.rmtree(unit.workdir, ignore_errors=True)
        resources = {
            "cpu_seconds": round(cpu, 3),
            "max_rss_mb": round(maxrss_kb / 1024, 1),
            "wall_seconds": round(wall, 3),
        }
        exit_ = _classify(unit, status, resources)
        if lost:
            exit_ = WorkerExit(unit.launch.investigation_id, InvestigationStatus.FAILED,
                               "worker template died; worker stopped", resources)  # fmt: skip
        try:
            self._on_exit(exit_)
        finally:
            # Tracked until its exit is handed over, so the reconciler never takes a
            # unit being reported for one whose end went unrecorded.
            with self._lock:
                self._units.pop(unit.launch.investigation_id, None)
                self._by_pid.pop(unit.pid, None)


def _base_env() -> dict[str, str]:
    return {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}


def _classify(unit: _Unit, status: int, resources: dict[str, float]) -> WorkerExit:
    limits = unit.launch.limits
    inv = unit.launch.investigation_id
    S = InvestigationStatus  # noqa: N806 - the enum under a short name
    if unit.deadline_hit:
        return WorkerExit(
            inv,
            S.DEADLINE_EXCEEDED,
            f"wall-clock deadline of {limits.deadline_seconds}s exceeded; worker killed",
            resources,
        )
    if unit.stop_reason is not None:
        return WorkerExit(inv, S.CANCELLED, unit.stop_reason, resources)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (
            sig == signal.SIGKILL and resources["cpu_seconds"] >= limits.cpu_seconds
        ):
            why = f"CPU-time limit of {limits.cpu_seconds}s exceeded"
        else:
            why = f"worker killed by signal {signal.Signals(sig).name}"
        return WorkerExit(inv, S.FAILED, why, resources)
    code = os.WEXITSTATUS(status)
    if code == EXIT_OUT_OF_MEMORY or (code != 0 and _log_mentions_memory_error(unit)):
        why = f"worker ran out of memory (limit {limits.memory_mb} MB)"
    elif code == 0:
        why = "worker exited without reporting a result"
    else:
        why = f"worker crashed with exit code {code}; see its log"
    return WorkerExit(inv, S.FAILED, why, resources)


def _log_mentions_memory_error(unit: _Unit) -> bool:
    # A MemoryError raised before the worker's own handler is installed (at
    # import time, say) still ends as a plain traceback in the log.
    log = unit.log_path
    try:
        with open(log, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 4096))
            return b"MemoryError" in fh.read()
    except OSError:
        return False


def _reported_usage(fd: int) -> tuple[float, int] | None:
    """What the sandbox's accountant wrote (CPU-seconds, max RSS in KiB), if anything."""
    try:
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        got = json.loads(raw)
        return float(got["cpu"]), int(got["maxrss_kb"])
    except (ValueError, KeyError, TypeError):
        return None


def _apply_limits(pid: int, launch: WorkerLaunch) -> None:
    # Set from outside right after spawn (prlimit is thread-safe, unlike a
    # preexec_fn in a threaded server); limits survive the exec.
    mem = launch.limits.memory_mb * 1024 * 1024
    cpu = launch.limits.cpu_seconds
    with contextlib.suppress(ProcessLookupError):
        resource.prlimit(pid, resource.RLIMIT_AS, (mem, mem))
        resource.prlimit(pid, resource.RLIMIT_CPU, (cpu, cpu + 5))


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


_WORKDIR_PREFIX = "nightshift-"
_SCRATCH_ROOT_PREFIX = "nightshift-workers-"


def _remove_dead_scratch_roots() -> None:
    """Scratch roots of control planes that died: their sandboxed workers died with
    them (bwrap --die-with-parent), so nobody else would remove what they left.
    A root names its control plane's pid; one whose process lives is left alone."""
    for root in Path(tempfile.gettempdir()).glob(f"{_SCRATCH_ROOT_PREFIX}*"):
        owner = root.name.removeprefix(_SCRATCH_ROOT_PREFIX).split("-", 1)[0]
        if not owner.isdigit() or not root.is_dir():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(root, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


def _secrets_pipe(launch: WorkerLaunch) -> int:
    """A pipe holding the worker's secrets, written and closed on our side; the
    read end is returned for the child (a few hundred bytes: never blocks)."""
    read_end, write_end = os.pipe()
    payload = json.dumps({"token": launch.token, "handoff": launch.secrets_handoff})
    try:
        os.write(write_end, payload.encode())
    finally:
        os.close(write_end)
    return read_end


def _workdir(investigation_id: str, root: Path | None = None) -> Path:
    prefix = f"{_WORKDIR_PREFIX}{investigation_id[-8:]}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


def _own_workdir(pid: int) -> Path | None:
    """The temp dir ``start`` made for this worker, if its cwd is one; nothing else."""
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None
    tmp = Path(tempfile.gettempdir()).resolve()
    parent_ok = cwd.parent == tmp or (
        cwd.parent.parent == tmp and cwd.parent.name.startswith(_SCRATCH_ROOT_PREFIX)
    )
    return cwd if parent_ok and cwd.name.startswith(_WORKDIR_PREFIX) else None


def _start_ticks(pid: int) -> str:
    """Process start time (clock ticks since boot), to tell a pid's reuse apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]
