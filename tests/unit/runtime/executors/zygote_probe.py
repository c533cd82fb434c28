"""A stand-in worker entry for the template's children (``module:function``).

It reports what the child sees (its group, limits, environment, temp dir,
descriptors, secrets, RNG, module state) to the file named in PROBE_OUT, or
misbehaves as PROBE_MODE says, so each test checks one isolation property on
a real forked process.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import tempfile
import time

# Set by a "taint" child; a later child must not see it.
TAINT: str | None = None


def main(inv_id: str, api_url: str) -> int:
    global TAINT
    mode = os.environ.get("PROBE_MODE", "report")
    if mode == "sleep":
        time.sleep(120)
    elif mode == "eat":
        block = bytearray(4 * 1024**3)
        return len(block)
    elif mode == "burn":
        while True:
            pass
    elif mode == "escape":
        return _escape()
    from nightshift.scenarios import loader

    parsed_at_start = loader._parsed.cache_info().currsize  # before this child loads any
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        # the listing's own directory descriptor is closed by now
        with contextlib.suppress(OSError):
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    fd_secret = int(os.environ["NIGHTSHIFT_WORKER_SECRETS_FD"])
    with os.fdopen(fd_secret, "rb") as pipe:
        secrets = json.loads(pipe.read())
    report = {
        "inv": inv_id,
        "api": api_url,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "rlimit_as": list(resource.getrlimit(resource.RLIMIT_AS)),
        "rlimit_cpu": list(resource.getrlimit(resource.RLIMIT_CPU)),
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "gettempdir": tempfile.gettempdir(),
        "fds": fds,
        "secrets": secrets,
        "random": random.random(),
        "taint_seen": TAINT,
        "parsed_at_start": parsed_at_start,
        "scenario_title": _shipped_scenario().metadata.title,
        "scenario_pods": len(_shipped_scenario().pods),
    }
    TAINT = inv_id  # a leak would show in the next child's "taint_seen"
    # The template hands every child the shipped scenarios already parsed: this
    # child spoils its copy, and the next must still see the file's.
    spoiled = _shipped_scenario()
    spoiled.metadata.title = f"tainted by {inv_id}"
    spoiled.pods.clear()
    with open(os.environ["PROBE_OUT"], "w") as out:
        json.dump(report, out)
    print("probe done")
    return 0


def _shipped_scenario():  # type: ignore[no-untyped-def]
    from nightshift.scenarios import load_installed

    return load_installed("two-am-cascade")


def _escape() -> int:
    """What a steered worker would try: read the plane's secrets and the host's
    files (PROBE_READ, separated by os.pathsep), write outside its scratch dir."""
    seen: dict[str, object] = {}
    for path in os.environ["PROBE_READ"].split(os.pathsep):
        try:
            seen[path] = os.listdir(path) if os.path.isdir(path) else open(path).read()  # noqa: SIM115
        except OSError as exc:
            seen[path] = f"denied: {exc.strerror}"
    for target in (os.environ["PROBE_OUTSIDE"], os.path.join(os.getcwd(), "scratch.txt")):
        try:
            with open(target, "w") as out:
                out.write("x")
            seen[target] = "written"
        except OSError as exc:
            seen[target] = f"denied: {exc.strerror}"
    # Other processes it can see, and which of them give up their environment
    # (a sibling worker's would be another investigation's).
    others = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    others = [p for p in others if p not in (os.getpid(), os.getppid())]
    readable = []
    for pid in others:
        try:
            with open(f"/proc/{pid}/environ", "rb") as env:
                env.read()
            readable.append(pid)
        except OSError:
            pass
    seen["others"], seen["others_environ_read"] = others, readable
    seen["pid"] = os.getpid()
    print("ESCAPE " + json.dumps(seen), flush=True)
    return 0
