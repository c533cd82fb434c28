"""The control plane's side of the worker template (see ``local_zygote``).

``WorkerTemplate`` starts the template process, asks it to fork one child per
investigation and hands each child's exit (status and rusage, from the
template's wait4) to a callback. When the template is not up (still
importing, crashed, never started) ``fork`` raises ``TemplateUnavailable`` and
the executor spawns instead; a dead template is restarted on a later fork.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nightshift.runtime.executors.local_zygote import MAX_PACKET
from nightshift.worker_settings import WORKER_ENV

log = logging.getLogger("nightshift.executor.template")
WORKER_ENTRY = "nightshift.runtime.worker:main"
_REPLY_SECONDS = 10.0
_RESTART_AFTER_SECONDS = 30.0


class TemplateUnavailable(RuntimeError):
    """The template cannot fork now; the caller spawns the worker instead."""


@dataclass(frozen=True, slots=True)
class ChildExit:
    pid: int
    status: int  # as from wait4
    cpu_seconds: float
    max_rss_kb: int


@dataclass(frozen=True, slots=True)
class ForkRequest:
    investigation_id: str
    api_url: str
    env: Mapping[str, str]
    cwd: Path
    memory_bytes: int
    cpu_seconds: int


ExitCallback = Callable[[ChildExit], None]
# The template's death: the pids it had forked that had not exited yet.
LostCallback = Callable[[list[int]], None]


class WorkerTemplate:
    def __init__(
        self,
        python: str,
        env: Mapping[str, str],
        log_path: Path,
        on_exit: ExitCallback,
        on_lost: LostCallback,
        *,
        entry: str = WORKER_ENTRY,
        wrap: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        self._python, self._env, self._log_path, self._entry = python, dict(env), log_path, entry
        self._wrap = wrap  # the sandbox the template (and so every child) starts in
        self._on_exit, self._on_lost = on_exit, on_lost
        self._lock = threading.Lock()  # one fork request in flight at a time
        self._state = threading.Condition()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._replies: dict[int, dict[str, Any]] = {}
        self._abandoned: set[int] = set()  # requests given up on (spawned instead)
        self._children: set[int] = set()
        # A sandboxed template forks in its own PID namespace: its pids are not ours.
        # Each child announces itself and the kernel tells us its pid here.
        self._outer: dict[int, int] = {}
        self._next_req = 0
        self._last_start = 0.0
        self._closing = False
        self.forks = 0

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start the template in the background; forks are refused until it is ready."""
        with self._state:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._last_start = time.monotonic()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            argv = [
                self._python, "-m", "nightshift.runtime.executors.local_zygote",
                str(theirs.fileno()), self._entry,
            ]  # fmt: skip
            if self._wrap is not None:
                argv = self._wrap(argv)
            with open(self._log_path, "ab") as out:
                self._proc = subprocess.Popen(
                    argv,
                    env=self._env,
                    cwd="/",
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                    pass_fds=(theirs.fileno(),),
                )
            theirs.close()
            self._sock, self._ready = ours, False
            proc = self._proc
        threading.Thread(
            target=self._read, args=(ours, proc), name="worker-template", daemon=True
        ).start()

    def _starting(self, limit: float) -> bool:
        """Connected but not yet ready, started less than ``limit`` seconds ago (the
        reader drops the socket when the template dies). Called with the lock held."""
        recent = time.monotonic() - self._last_start < limit
        return self._sock is not None and not self._ready and recent

    def starting(self, limit: float) -> bool:
        """Still importing, and started less than ``limit`` seconds ago."""
        with self._state:
            return self._starting(limit)

    def wait_while_starting(self, limit: float) -> bool:
        """Wait for a template still importing, until ``limit`` seconds after its
        start at most (its imports take ~1 s; a spawn would take as long). Returns
        whether it is ready: at once when it is, has died, or has been starting for
        longer."""
        with self._state:
            remaining = self._last_start + limit - time.monotonic()
            if remaining > 0:
                self._state.wait_for(lambda: not self._starting(limit), remaining)
            return self._ready

    @property
    def started(self) -> bool:
        return self._proc is not None

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        with self._state:
            self._closing = True
            sock, proc, self._ready = self._sock, self._proc, False
            self._sock = None
        if sock is not None:
            sock.close()  # EOF: the template exits; its running children do not
        if proc is not None:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- forking ---------------------------------------------------------------

    def fork(self, req: ForkRequest, log_fd: int, secrets_fd: int) -> int:
        """The pid of a child that is already its own process group under its limits."""
        with self._state:
            if not self._ready or self._sock is None:
                dead = self._proc is None or self._proc.poll() is not None
                if dead and time.monotonic() - self._last_start > _RESTART_AFTER_SECONDS:
                    threading.Thread(target=self.start, daemon=True).start()
                raise TemplateUnavailable("worker template not running")
            sock = self._sock
            self._next_req += 1
            n = self._next_req
        msg = {
            "op": "fork",
            "req": n,
            "investigation": req.investigation_id,
            "api": req.api_url,
            "env": dict(req.env),
            "cwd": str(req.cwd),
            "memory_bytes": req.memory_bytes,
            "cpu_seconds": req.cpu_seconds,
        }
        with self._lock:
            try:
                socket.send_fds(sock, [json.dumps(msg).encode()], [log_fd, secrets_fd])
            except OSError as exc:
                raise TemplateUnavailable(f"worker template unreachable: {exc}") from exc
            with self._state:
                self._state.wait_for(lambda: n in self._replies or not self._ready, _REPLY_SECONDS)
                reply = self._replies.pop(n, None)
                if reply is not None and reply.get("op") == "started":
                    pid = int(reply["pid"])
                    self._children.add(pid)
                    self.forks += 1
                    return pid
                if reply is None:  # a late child must not run beside the spawned one
                    self._abandoned.add(n)
        why = reply.get("error") if reply else "no answer"
        raise TemplateUnavailable(f"worker template did not fork: {why}")

    # -- the reader thread -----------------------------------------------------

    def _read(self, sock: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        try:
            while True:
                data, anc, _, _ = sock.recvmsg(MAX_PACKET, socket.CMSG_SPACE(12))
                if not data:
                    break
                self._handle(json.loads(data), _sender_pid(anc))
        except OSError:
            pass
        with self._state:
            if self._sock is sock:
                self._sock, self._ready = None, False
            lost, self._children = sorted(self._children), set()
            self._state.notify_all()
        sock.close()
        try:
            proc.wait(5)  # it exits on EOF by itself
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if not self._closing:
            log.warning(
                "worker template (pid %s) ended with %s; %d running worker(s) lost; "
                "new workers are spawned until it is back",
                proc.pid,
                proc.returncode,
                len(lost),
            )
        if lost:
            self._on_lost(lost)

    def _handle(self, msg: dict[str, Any], sender: int | None) -> None:
        op = msg.get("op")
        if op == "exit":
            with self._state:
                pid = self._outer.pop(int(msg["pid"]), int(msg["pid"]))
                self._children.discard(pid)
            done = ChildExit(pid, int(msg["status"]), float(msg["cpu"]), int(msg["maxrss_kb"]))
            # on_exit records the end (database writes): not on this thread,
            # which must keep answering forks.
            threading.Thread(target=self._on_exit, args=(done,), daemon=True).start()
            return
        with self._state:
            if op == "ready":
                self._ready = True
                log.info("worker template ready (pid %s)", msg.get("pid"))
            elif op in ("started", "refused"):
                if op == "started":  # sent by the child itself: the sender is its pid
                    outer = sender if sender is not None else int(msg["pid"])
                    self._outer[int(msg["pid"])] = outer
                    msg = {**msg, "pid": outer}
                req = int(msg["req"])
                if req not in self._abandoned:
                    self._replies[req] = msg
                elif op == "started":
                    self._abandoned.discard(req)
                    with contextlib.suppress(OSError):
                        os.killpg(int(msg["pid"]), signal.SIGKILL)
            self._state.notify_all()


def _sender_pid(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    """The sending process's pid in our PID namespace (SO_PASSCRED credentials)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(data) >= 12:
            pid, _uid, _gid = struct.unpack("3i", data[:12])
            return int(pid)
    return None


def template_env(base: Mapping[str, str]) -> dict[str, str]:
    """The template's own environment: the bare worker one, nothing per investigation."""
    env = {**WORKER_ENV, **base}
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("NIGHTSHIFT_WORKER_SECRETS_FD", None)
    return env
