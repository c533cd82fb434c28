"""The sandboxed spawn's accountant: runs the worker as its child and reports
the worker's exact resource usage on an inherited descriptor.

    python -m nightshift.runtime.executors.local_rusage exec -- bwrap ... \
        python -m nightshift.runtime.executors.local_rusage FD -- ARGV...

Why it exists: bwrap with its own PID namespace never passes its children's
usage up, so wait4() on the bwrap the executor spawned reads ~0 CPU-seconds
for a worker that used seconds. This process sits inside the sandbox as the
worker's parent, wait4()s it and writes ``{"cpu": s, "maxrss_kb": k}`` to FD,
which the worker never holds (closed before the exec). It then ends as the
worker ended: the same exit code, or the same signal.

Standard library only, imported by nothing: it starts in milliseconds.
"""

from __future__ import annotations

import json
import os
import signal
import sys

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: local_rusage FD|exec -- ARGV...", file=sys.stderr)
        return 2
    command = argv[2:]
    # The executor stops a unit by signalling its process group: the worker
    # handles that; this process outlives it to report what it used.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if argv[0] == "exec":
        # Outside the sandbox: bwrap itself then ignores the stop (an ignored
        # signal stays ignored across exec), so it does not die first and take
        # the accountant with it (--die-with-parent) before the report is out.
        os.execvp(command[0], command)  # noqa: S606 - the executor's own argv, no shell
    report = int(argv[0])
    pid = os.fork()
    if pid == 0:
        os.close(report)
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)  # noqa: S606 - the executor's own argv, no shell
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    payload = {"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}
    os.write(report, json.dumps(payload).encode())
    os.close(report)
    if os.WIFSIGNALED(status):
        ended_by = os.WTERMSIG(status)
        if ended_by not in (signal.SIGKILL, signal.SIGSTOP):  # those have no handler
            signal.signal(ended_by, signal.SIG_DFL)
        os.kill(os.getpid(), ended_by)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
