"""The console's investigation page at storm size.

    .venv/bin/python -m bench.console [--renders N] [--updates N]

An investigation seeded through the API (its worker is played by this bench)
and the database: 300 alerts in its alert group, 15 reasoning cycles, 1,000
tool calls with their events, and a result with 1,000 evidence items of about
1.5 KB of tool text each (1.5 MB in all). Served over real HTTP by uvicorn from
an in-process control plane (SQLite). Measured: the server's answer for the
page (time to the whole body over loopback, bytes), Chromium's first
contentful paint of it, and the live-update latency: an event posted by the
worker of a running investigation until its row is in the open page's DOM.
Writes bench/results/console.md and console.png.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.publish import NO_TARGET, RESULTS, figure, machine, mark, percentile, write_report

ALERTS, CYCLES, EVIDENCE, TEXT = 300, 15, 1000, 1500
TARGET_MS, TARGET_BYTES, TARGET_LIVE_S = 300.0, 1_500_000, 1.0


def _evidence(i: int) -> dict[str, Any]:
    line = f"pod checkout-{i % 40} restarted; upstream 10.0.{i % 250}.7 refused after 30s"
    return {"id": f"E{i}", "tool": ("pods", "logs_search", "firewall_rules")[i % 3],
            "params": {"namespace": "shop", "since": "15m", "limit": 50},
            "status": "ok", "summary": f"{line[:60]}", "domain": "kubernetes",
            "findings": [line] * (TEXT // len(line))}  # fmt: skip


def _result() -> dict[str, Any]:
    change = {"kind": "Change", "name": "FW-3141", "namespace": None}
    hyps = [{"id": f"H{i}", "fault": f"fault-{i}", "confidence": round(0.9 - i * 0.02, 2),
             "state": "confirmed" if i == 0 else ("rejected" if i % 3 == 0 else "open"),
             "parent_id": None if i < 5 else f"H{i % 5}", "resource": change,
             "supporting": [f"E{j}" for j in range(i, EVIDENCE, 25)], "refuting": [],
             "rationale": "seen before onset"} for i in range(30)]  # fmt: skip
    return {"summary": "FW-3141 denied 443 to checkout's upstream", "hypotheses": hyps,
            "evidence": [_evidence(i) for i in range(EVIDENCE)], "cycles": CYCLES,
            "tool_calls": EVIDENCE, "root_causes": [], "causal_chain": [
                {"hypothesis_id": "H0", "resource": change, "fault": "fault-0",
                 "role": "root-cause", "confidence": 0.9, "title": "the change"}]}  # fmt: skip


def _events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    per = EVIDENCE // CYCLES + 1
    for i in range(EVIDENCE):
        e = _evidence(i)
        out.append({"kind": "tool.requested", "data": {"id": e["id"], "tool": e["tool"],
                    "params": e["params"], "intent": "look for what changed"}})  # fmt: skip
        out.append({"kind": "tool.answered", "data": {k: e[k] for k in ("id", "tool", "params",
                    "status", "summary")}})  # fmt: skip
        if i % per == per - 1 or i == EVIDENCE - 1:
            cycle = len([x for x in out if x["kind"] == "cycle.finished"]) + 1
            top = {"fault": "fault-0", "confidence": 0.5 + cycle / 40}
            out.append({"kind": "cycle.finished", "data": {"cycle": cycle, "top": top}})
    return out


def _seed_alerts(world: Any, inv_id: str) -> None:
    from nightshift.store.tables import AlertGroupMemberRow, AlertGroupRow, AlertRow

    t0 = datetime.now(UTC) - timedelta(minutes=20)
    group = str(uuid.uuid4())
    with world.container.db.transaction() as s:
        s.add(AlertGroupRow(id=group, rule="paging", group_key="bench", state="started",
                            investigation_id=inv_id))  # fmt: skip
        s.flush()
        for i in range(ALERTS):
            at = t0 + timedelta(seconds=i * 2)
            aid = str(uuid.uuid4())
            name = ("Http5xx", "LatencyHigh", "PodRestarts")[i // 100]
            s.add(AlertRow(id=aid, fingerprint=f"bench-{i}", status="firing",
                           labels={"alertname": name, "pod": f"checkout-{i % 40}"},
                           annotations={"summary": f"{name} on checkout-{i % 40}"},
                           starts_at=at, first_received_at=at, last_received_at=at,
                           investigation_id=inv_id))  # fmt: skip
            s.flush()
            s.add(AlertGroupMemberRow(group_id=group, alert_id=aid))


@contextmanager
def _served(tmp: Path) -> Iterator[tuple[Any, httpx.Client, str]]:
    import uvicorn

    from nightshift.api.app import create_app
    from tests.support.control_plane import make_world
    from tests.support.postgres import free_port

    world = make_world(tmp, notify_async=False)
    port = free_port()
    app = create_app(world.container, background=False)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=60) as api:
            yield world, api, url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        world.container.db.dispose()


def _seed(world: Any, api: httpx.Client) -> tuple[str, str, dict[str, str]]:
    """The big finished investigation, and a running one to follow live."""
    from tests.unit.workflow.flow import agent, finish, start

    agent(world, "night", "limited-remediation")
    inv_id, worker = start(api, world, "night")  # type: ignore[arg-type]
    events = _events()
    for i in range(0, len(events), 500):
        api.post(f"/v1/investigations/{inv_id}/worker/events", json={"events": events[i:i + 500]},
                 headers=worker).raise_for_status()  # fmt: skip
    small = {**_result(), "evidence": [], "hypotheses": []}
    finish(api, inv_id, worker, result=small)  # type: ignore[arg-type]
    # The whole result is written to the row: the worker's POST caps a body at
    # 256 KiB, and this one is ~1.9 MB (the page must cope with what is stored).
    from nightshift.store.tables import InvestigationRow

    with world.container.db.transaction() as s:
        row = s.get(InvestigationRow, inv_id)
        assert row is not None
        row.result = _result()
    _seed_alerts(world, inv_id)
    live_id, live_worker = start(api, world, "night")  # type: ignore[arg-type]
    return inv_id, live_id, live_worker


def _session(api: httpx.Client, world: Any) -> str:
    resp = api.post("/login", data={"token": world.tokens["operator"]}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return str(resp.cookies["nightshift_console"])


def _renders(api: httpx.Client, cookie: str, inv_id: str, n: int) -> tuple[list[float], int, str]:
    times: list[float] = []
    body = ""
    for _ in range(n):
        t0 = time.perf_counter()
        resp = api.get(f"/investigations/{inv_id}", cookies={"nightshift_console": cookie})
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, resp.text[:500]
        body = resp.text
    return times, len(body.encode()), body


# Marks the page when a timeline row carrying ``marker`` is inserted (wall clock, ms).
WATCH = """(marker) => { window.__seen = window.__seen || {};
  new MutationObserver(() => {
    for (const td of document.querySelectorAll('#timeline td:last-child')) {
      const m = (td.textContent.match(/live-(\\d+)/) || [])[0];
      if (m && !window.__seen[m]) window.__seen[m] = Date.now();
    }
  }).observe(document.getElementById('timeline'), {childList: true}); }"""


def _browser(url: str, world: Any, inv_id: str, live_id: str, live_worker: dict[str, str],
             api: httpx.Client, paints: int, updates: int) -> dict[str, Any]:  # fmt: skip
    from tests.integration.console.browser import browser_context, sign_in

    out: dict[str, Any] = {"fcp": [], "live": []}
    with tempfile.TemporaryDirectory() as profile, browser_context(Path(profile)) as ctx:
        page: Any = ctx.new_page()  # type: ignore[attr-defined]
        sign_in(page, url, world.tokens["operator"])
        for _ in range(paints):
            page.goto(f"{url}/investigations/{inv_id}")
            # The entry is recorded at the paint, which can come after "load".
            page.wait_for_function(
                "() => performance.getEntriesByName('first-contentful-paint').length > 0"
            )
            out["fcp"].append(
                page.evaluate(
                    "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
                )
            )
        # An evidence row past the inline budget loads its text when unfolded.
        folded = page.locator(f"details[data-src$='/E{EVIDENCE - 1}']")
        folded.locator("summary").click()
        page.wait_for_function(
            f"() => document.querySelector(\"details[data-src$='/E{EVIDENCE - 1}'] pre\")"
            ".textContent.includes('refused after 30s')")  # fmt: skip
        out["on_demand"] = True
        # axe-core (scripts/axe-core-env) on the storm-size page, every row unfolded.
        from tests.integration.console.axe import axe_source, serious_violations

        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        out["axe"] = serious_violations(page, axe_source())
        page.goto(f"{url}/investigations/{live_id}")
        page.wait_for_function("() => document.getElementById('facts').dataset.live === '1'")
        page.evaluate(WATCH, "")
        time.sleep(1.0)  # the stream is open
        sent: dict[str, float] = {}
        for i in range(updates):
            marker = f"live-{i}"
            sent[marker] = time.time() * 1000
            api.post(f"/v1/investigations/{live_id}/worker/events", headers=live_worker,
                     json={"events": [{"kind": "tool.requested", "data": {
                         "id": f"L{i}", "tool": "pods", "params": {},
                         "intent": marker}}]}).raise_for_status()  # fmt: skip
            page.wait_for_function(f"() => (window.__seen || {{}})['{marker}']", timeout=10_000)
            time.sleep(0.2)
        seen = page.evaluate("() => window.__seen")
        out["live"] = [(seen[m] - t) / 1000 for m, t in sent.items()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.console")
    ap.add_argument("--renders", type=int, default=20)
    ap.add_argument("--paints", type=int, default=5)
    ap.add_argument("--updates", type=int, default=20)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="bench-console-") as tmp,
        _served(Path(tmp)) as (world, api, url),
    ):
        t0 = time.perf_counter()
        inv_id, live_id, live_worker = _seed(world, api)
        seed_s = time.perf_counter() - t0
        cookie = _session(api, world)
        times, size, body = _renders(api, cookie, inv_id, args.renders)
        inline = body.count('<pre class="out" tabindex="0">') - body.count("data-src=")
        lazy = body.count("data-src=")
        browser = _browser(url, world, inv_id, live_id, live_worker, api, args.paints,
                           args.updates)  # fmt: skip
    browser["load_end"] = os.getloadavg()[0]
    _report(args, load, seed_s, times, size, inline, lazy, browser)


def _report(args: Any, load: float, seed_s: float, times: list[float], size: int, inline: int,
            lazy: int, browser: dict[str, Any]) -> None:  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()  # fmt: skip
    p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
    fcp, live = browser["fcp"], browser["live"]
    lp50, lmax = percentile(live, 0.5), max(live)

    lines = [
        "# The console's investigation page at storm size",
        "",
        f"Commit {commit}; {machine()}; load average (1 min) at start / end {load:.2f} / "
        f"{browser['load_end']:.2f} (the machine is shared: times scale with it). Command: "
        "`python -m bench.console`. One investigation with "
        f"{ALERTS} alerts, {CYCLES} cycles and {EVIDENCE:,} evidence items (~{TEXT} B of tool "
        f"text each) seeded through the API and the database (SQLite, {seed_s:.1f} s), served "
        "by uvicorn in process; Chromium from Debian through Playwright.",
        "",
        "| measure | samples | p50 | p95 / max |",
        "|---|---|---|---|",
        f"| server: GET the investigation page, whole body over loopback | {len(times)} | "
        f"{p50:.0f} ms | {p95:.0f} ms |",
        f"| Chromium: first contentful paint | {len(fcp)} | {percentile(fcp, 0.5):.0f} ms | "
        f"{max(fcp):.0f} ms |",
        f"| live update: worker POSTs an event -> its row is in the page's DOM (SSE) | "
        f"{len(live)} | {lp50 * 1000:.0f} ms | {lmax * 1000:.0f} ms |",
        "",
        f"Page: {size:,} bytes (uncompressed); tool text inlined for {inline} evidence items "
        f"(the first 128 KiB), loaded on unfold for the other {lazy} "
        f"({'checked in Chromium' if browser.get('on_demand') else 'not checked'}).",
        "",
        "| target | value | |",
        "|---|---|---|",
        f"| server render < {TARGET_MS:.0f} ms (p95) | {p95:.0f} ms | {mark(p95 < TARGET_MS)} |",
        f"| page < 1.5 MB | {size / 1e6:.2f} MB | {mark(size < TARGET_BYTES)} |",
        f"| evidence text loaded on demand | {lazy} of {EVIDENCE} | {mark(lazy > 0)} |",
        f"| live update < 1 s (max) | {lmax * 1000:.0f} ms | {mark(lmax < TARGET_LIVE_S)} |",
        f"| axe-core: no serious or critical violation on this page | "
        f"{len(browser['axe'])} | {mark(not browser['axe'])} |",
        f"| {NO_TARGET} | first contentful paint p50 {percentile(fcp, 0.5):.0f} ms | "
        f"{mark(None)} |",
    ]
    lines += [f"- {v}" for v in browser["axe"]]
    print(write_report("console", lines), end="")
    with figure(RESULTS / "console.png", 1, 2, figsize=(9, 3.6)) as (left, right):
        left.boxplot([times, fcp], tick_labels=["server render", "first paint"])
        left.axhline(TARGET_MS, color="red", linestyle=":", label=f"{TARGET_MS:.0f} ms target")
        left.set_ylabel("ms")
        left.legend()
        left.set_title(f"Investigation page ({EVIDENCE:,} evidence, {ALERTS} alerts)")
        right.plot(range(1, len(live) + 1), [x * 1000 for x in live], marker="o")
        right.axhline(TARGET_LIVE_S * 1000, color="red", linestyle=":", label="1 s target")
        right.set_xlabel("event")
        right.set_ylabel("ms")
        right.set_title("Live update: event -> DOM")
        right.legend()


if __name__ == "__main__":
    main()
