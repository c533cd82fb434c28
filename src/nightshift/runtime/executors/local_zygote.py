"""The worker template ("zygote"): a process that has imported the worker once
and forks one child per investigation.

Run as ``python -m nightshift.runtime.executors.local_zygote FD ENTRY``: FD is
its end of a SOCK_SEQPACKET socket pair to the control plane, ENTRY the
``module:function`` each child runs (``nightshift.runtime.worker:main``).

The template holds no investigation data, no credentials and no open
connections: it is started with the bare worker environment, never reads a
child's secrets pipe (it only passes the descriptor on) and stays single
threaded, so fork() copies nothing half-locked. Each child enters its own
isolation before it runs any worker code (``_become_worker``); the template
tells the control plane the pid only after that, so a stop or a deadline never
targets a process that is not yet its own group. The template wait4()s its
children and reports exit status and resource usage exactly.

Messages (one JSON object per packet; descriptors as SCM_RIGHTS):
  template -> plane: {"op": "ready"}, {"op": "refused", "req": n, "error": "..."},
  child -> plane:    {"op": "started", "req": n, "pid": p} (p in the template's PID
                     namespace; the control plane takes its own from the credentials)
  template -> plane: {"op": "exit", "pid": p, "status": s, "cpu": c, "maxrss_kb": k}
  plane -> template: {"op": "fork", "req": n, "investigation": ..., "api": ...,
                      "env": {...}, "cwd": ..., "memory_bytes": m, "cpu_seconds": c}
                     with fds [log, secrets]
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import io
import json
import os
import random
import resource
import select
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import Any

# Modules every worker imports sooner or later: loaded once here, shared
# copy-on-write by every child. Code and package data (worker.prewarm), nothing
# of any investigation.
_PRELOAD = (
    "nightshift.runtime.worker",
    "nightshift.sources.registry",
    "nightshift.scenarios",
)
MAX_PACKET = 1 << 20
_PR_SET_DUMPABLE = 4
_SECRETS_FD_IN_CHILD = 3  # the secrets pipe always lands on fd 3 in the child


def _preload(entry: str) -> Callable[[str, str], int]:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # see nightshift.__main__
    for name in _PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    worker = sys.modules.get("nightshift.runtime.worker")
    prewarm = getattr(worker, "prewarm", None)
    if prewarm is not None:
        prewarm()
    module, _, func = entry.partition(":")
    target: Callable[[str, str], int] = getattr(importlib.import_module(module), func)
    return target


def _send(sock: socket.socket, msg: dict[str, Any]) -> None:
    sock.send(json.dumps(msg).encode())


def _become_worker(sock: socket.socket, ready_w: int, req: dict[str, Any], fds: list[int]) -> None:
    """In the child, before any worker code: every isolation property of a spawned unit."""
    log_fd, secrets_fd = fds
    os.setsid()  # own session and process group: a killpg takes its children too
    mem = int(req["memory_bytes"])
    cpu = int(req["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    # Not dumpable: a sibling unit of the same uid cannot read this one's memory,
    # descriptors or environment through /proc, nor ptrace it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    # Announced by the child itself: in a sandbox's PID namespace the template's
    # pid for it is not the control plane's, and the kernel translates the sender's.
    _send(sock, {"op": "started", "req": req["req"], "pid": os.getpid()})
    os.close(ready_w)  # isolated: the template may now go on
    # The template's signal plumbing is not the worker's.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Standard streams: stdin from /dev/null, stdout+stderr to its own log.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.dup2(secrets_fd, _SECRETS_FD_IN_CHILD)
    os.set_inheritable(_SECRETS_FD_IN_CHILD, False)
    # Nothing else survives: the control-plane socket, the wake pipe, any other
    # descriptor. detach() first, so the socket object never closes a reused fd.
    sock.detach()
    os.closerange(_SECRETS_FD_IN_CHILD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    # A fresh environment, temp dir and RNG state: nothing from the template
    # or an earlier sibling (random is also re-seeded by CPython at fork).
    os.environ.clear()
    os.environ.update(req["env"])
    os.environ["NIGHTSHIFT_WORKER_SECRETS_FD"] = str(_SECRETS_FD_IN_CHILD)
    os.chdir(req["cwd"])
    tempfile.tempdir = None  # gettempdir() cached the template's; re-read TMPDIR
    random.seed()
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(write_through=True)


def _run_child(target: Callable[[str, str], int], req: dict[str, Any]) -> int:
    try:
        return int(target(req["investigation"], req["api"]) or 0)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1


def _fork(
    sock: socket.socket,
    target: Callable[[str, str], int],
    req: dict[str, Any],
    fds: list[int],
) -> None:
    ready_r, ready_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the template's loop
        code = 1
        try:
            os.close(ready_r)
            _become_worker(sock, ready_w, req, fds)
            code = _run_child(target, req)
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    os.close(ready_w)
    for fd in fds:
        os.close(fd)
    os.read(ready_r, 1)  # EOF once the child is isolated and has announced itself
    os.close(ready_r)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(
            sock,
            {
                "op": "exit",
                "pid": pid,
                "status": status,
                "cpu": usage.ru_utime + usage.ru_stime,
                "maxrss_kb": usage.ru_maxrss,
            },
        )


def serve(sock: socket.socket, target: Callable[[str, str], int]) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wake fd fires
    poller = select.poll()  # holds no descriptor of its own (unlike epoll)
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    _send(sock, {"op": "ready", "pid": os.getpid()})
    while True:
        for fd, _ in poller.poll(1000):
            if fd == wake_r:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 512)
                continue
            data, fds, _, _ = socket.recv_fds(sock, MAX_PACKET, 2)
            if not data:
                return  # the control plane went away: so does the template
            req = json.loads(data)
            if req.get("op") != "fork" or len(fds) != 2:
                for fd_ in fds:
                    os.close(fd_)
                _send(sock, {"op": "refused", "req": req.get("req"), "error": "bad request"})
                continue
            try:
                _fork(sock, target, req, fds)
            except OSError as exc:
                _send(sock, {"op": "refused", "req": req["req"], "error": str(exc)})
        _reap(sock)


def main(argv: list[str]) -> int:
    fd, entry = int(argv[0]), argv[1]
    sock = socket.socket(fileno=fd)
    target = _preload(entry)
    # Everything imported so far lives as long as the template: frozen out of the
    # collector, a child's collections never walk (and so never copy) those pages.
    gc.collect()
    gc.freeze()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        serve(sock, target)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
