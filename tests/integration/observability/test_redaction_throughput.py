"""Redaction throughput on a busy worker's log volume: a timing bound, so it
lives with the integration suite (unit tests assert no wall-clock times)."""

from __future__ import annotations

import time

from nightshift.observability.redaction import Redactor


def test_redaction_keeps_up_with_a_busy_worker() -> None:
    r = Redactor([f"handed-secret-{i:03d}" for i in range(50)])
    lines = [
        f'2026-11-22T02:00:{i % 60:02d}Z level=info msg="GET /api/v1/pods/checkout-{i} 200" '
        f"latency_ms={i % 97} node=ip-10-0-{i % 255}-1"
        + (" password=hunter2 Authorization: Bearer abcdefghijklmnop" if i % 10 == 0 else "")
        for i in range(20_000)
    ]
    started = time.perf_counter()
    out = [r.redact(line) for line in lines]
    elapsed = time.perf_counter() - started
    assert "hunter2" not in "".join(out)
    # ~0.15 s on a 2-core CI box; the bound catches a regression to a
    # backtracking pattern (that was 2.6 s), not noise.
    assert elapsed < 1.5
