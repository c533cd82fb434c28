"""axe-core (npm, pinned by scripts/axe-core-env, cached outside the repo) run
in a Playwright page. With CI set, failing to fetch it fails the test, never
skips it."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "axe-core-env"
SERIOUS = ("serious", "critical")


@functools.cache
def _fetched() -> str:
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return f"scripts/axe-core-env failed ({done.returncode}): {done.stderr[-2000:]}"
    return Path(done.stdout.strip().splitlines()[-1]).read_text()


def axe_source() -> str:
    """axe.min.js; fails (CI) or skips (elsewhere) when it cannot be fetched."""
    src = _fetched()
    if src.startswith("scripts/axe-core-env failed"):
        if os.environ.get("CI"):
            pytest.fail(src)
        pytest.skip(src)
    return src


def serious_violations(page: Any, source: str) -> list[str]:
    """One line per serious or critical axe violation on the page as it stands.

    Injected through the DevTools protocol (page.evaluate), which the page's CSP
    does not govern: the console keeps its script-src 'self' under test.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    found = page.evaluate(
        "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [
        f"{v['impact']} {v['id']}: {', '.join(v['nodes'][:5])}"
        for v in found
        if v["impact"] in SERIOUS
    ]
