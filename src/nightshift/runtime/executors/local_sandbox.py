"""The local workers' sandbox: bubblewrap around the worker (or its template).

A worker reads text an attacker may write (logs, alerts, change entries), so it
runs confined, deny by default. Its root is an empty read-only tmpfs into which
only these are mounted, read-only:
- the operating system (/usr and its /bin, /lib links) and the few /etc files
  that name resolution, TLS and time need;
- the Python it runs: the interpreter's prefixes and import paths;
- the files the worker's sources and settings name (CA files, kubeconfigs and
  what they refer to, an MCP server's program), given by the control plane.
It gets a fresh /tmp, /dev and /proc, its own PID, IPC and UTS namespaces, no
capabilities (a root control plane's worker would otherwise keep them), and it
dies with its parent. Only the unit's scratch directory is writable. Home
directories, other processes and the control plane's data are not there; the
data directory, database and keys are also mounted over where one of the paths
above would have shown them.

The network namespace is shared on purpose: a worker must reach the control
plane's API and the declared sources, both often on loopback, which a new
network namespace would cut. Where a worker may connect is decided by policy
(network tools' destinations are checked against the agent's boundaries); on
Kubernetes the phase's NetworkPolicy egress adds the network barrier.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("nightshift.executor.sandbox")

# Links at the top of a merged-/usr system, or directories on an older one.
_SYSTEM_TOP = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What a worker reads in /etc: users and groups (getpwuid), name resolution,
# TLS trust and OpenSSL's configuration, the time zone, the dynamic linker's cache.
_ETC = (
    "passwd", "group", "nsswitch.conf", "hosts", "host.conf", "resolv.conf", "gai.conf",
    "services", "protocols", "networks", "ssl", "ca-certificates", "pki", "crypto-policies",
    "localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
    "mime.types", "os-release",
)  # fmt: skip


class SandboxUnavailable(RuntimeError):
    """The sandbox was required (``NIGHTSHIFT_WORKER_SANDBOX=bwrap``) but cannot run."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    bwrap: str
    hidden: tuple[Path, ...]  # directories and files the worker must not see
    readable: tuple[Path, ...] = ()  # files the worker's sources and settings name

    def command(
        self,
        argv: Sequence[str],
        writable: Sequence[Path],
        cwd: Path,
        env: Mapping[str, str] | None = None,
    ) -> list[str]:
        """``argv`` run inside the sandbox, with only ``writable`` writable; ``env``
        is the process's environment (its PYTHONPATH is made readable)."""
        args = [self.bwrap, "--tmpfs", "/"]
        for top in _SYSTEM_TOP:
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for name in _ETC:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]  # noqa: S108
        shown = [Path("/usr"), *_python_paths(env or {})]
        for path in _outermost(shown):
            args += ["--ro-bind", str(path), str(path)]
        named = [p for p in self.readable if not _within(p.resolve(), self.hidden)]
        for path in named:
            args += ["--ro-bind-try", str(path), str(path)]
        for path in self.hidden:
            # Hidden by name only where something above would show it.
            if not _within(path, [*shown, *named]):
                continue
            if path.is_dir():
                args += ["--tmpfs", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        for path in writable:
            args += ["--bind", str(path), str(path)]
        args += [
            "--remount-ro", "/",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--cap-drop", "ALL",
            "--die-with-parent",
            "--chdir", str(cwd),
        ]  # fmt: skip
        return [*args, "--", *argv]


def _python_paths(env: Mapping[str, str]) -> list[Path]:
    """Where the worker's Python and its imports live: this interpreter's prefixes
    and import path (the worker runs the same one), and the process's PYTHONPATH.
    The current directory is not among them: it is wherever the plane was started."""
    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    found.append(os.path.dirname(os.path.realpath(sys.executable)))
    found += [p for p in sys.path if p and os.path.isabs(p)]
    found += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if os.path.isabs(p)]
    return [p for raw in found for p in _both(Path(raw)) if p.exists() and not _everything(p)]


def _both(path: Path) -> list[Path]:
    """A path as given and as resolved: the process uses the first, through links
    the sandbox does not have."""
    given = Path(os.path.normpath(path))
    return list(dict.fromkeys((given, path.resolve())))


def _everything(path: Path) -> bool:
    """A path whose binding would show all of the system or a home directory."""
    home = Path.home()
    return path in (Path("/"), home, home.resolve())


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without those inside another one (bound once, parent first)."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not _within(path, kept):
            kept.append(path)
    return kept


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def hidden_paths(data_dir: Path, database_url: str, extra: Sequence[Path] = ()) -> tuple[Path, ...]:
    """What a worker must never read: the data dir and what sits beside it."""
    paths = [data_dir, *extra]
    if database_url.startswith("sqlite:///"):
        paths.append(Path(database_url.removeprefix("sqlite:///")))
    return tuple(dict.fromkeys(p.resolve() for p in paths))


def detect(mode: str, hidden: tuple[Path, ...], readable: Sequence[Path] = ()) -> Sandbox | None:
    """The sandbox for ``mode`` (auto | bwrap | off): auto uses bubblewrap where it
    runs and warns loudly where it does not; bwrap fails instead. ``readable``: the
    files the worker's sources and settings name."""
    if mode == "off":
        return None
    bwrap = shutil.which("bwrap")
    why = "bwrap is not installed (Debian package bubblewrap)"
    if bwrap is not None:
        probe = Sandbox(bwrap, ()).command(["true"], (), Path("/"))
        done = subprocess.run(probe, capture_output=True, check=False, timeout=10)
        if done.returncode == 0:
            named = tuple(dict.fromkeys(q for p in readable for q in _both(p.absolute())))
            refused = [p for p in named if _within(p.resolve(), hidden)]
            if refused:
                log.warning(
                    "not shown to sandboxed workers (inside the control plane's data or keys): %s",
                    ", ".join(map(str, refused)),
                )
            return Sandbox(bwrap, hidden, named)
        why = f"bwrap cannot create a sandbox here: {done.stderr.decode(errors='replace')[:200]}"
    if mode == "bwrap":
        raise SandboxUnavailable(f"NIGHTSHIFT_WORKER_SANDBOX=bwrap but {why}")
    log.warning(
        "LOCAL WORKERS RUN UNSANDBOXED: %s; a steered worker can read what the "
        "control plane's user can read",
        why,
    )
    return None
