"""``python -m nightshift``: the CLI, with a fast path for the agent worker.

Workers start once per investigation, so their start-up is on the
submission-to-running path: they skip importing the CLI framework.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def _worker_args(argv: list[str]) -> tuple[str, str] | None:
    if argv[:2] != ["agent", "run"]:
        return None
    opts = dict(zip(argv[2::2], argv[3::2], strict=False))
    inv, api = opts.get("--investigation"), opts.get("--api")
    if inv and api and len(argv) == 6:
        return inv, api
    return None


def worker_imports() -> Callable[[str, str], int]:
    """The worker's entry, imported without what it never uses: httpx's own
    command-line tool (click, rich, pygments) loads with httpx whenever those
    happen to be installed; a None in sys.modules makes httpx skip it."""
    from nightshift.worker_settings import WORKER_ENV

    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    for name, value in WORKER_ENV.items():
        os.environ.setdefault(name, value)
    from nightshift.runtime.worker import main as worker_main

    return worker_main


def main() -> None:
    fast = _worker_args(sys.argv[1:])
    if fast is not None:
        sys.exit(worker_imports()(*fast))
    from nightshift.cli.main import app

    app(prog_name="nightshift")


if __name__ == "__main__":
    main()
