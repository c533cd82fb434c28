"""Control plane with 1, 2 and 3 replicas on one PostgreSQL.

    .venv/bin/python -m bench.replicas [--quick] [--investigations N]

For each replica count, against real `nightshift up` processes, real worker
processes and a real PostgreSQL server on this machine:
1. admission: a burst of submissions from 16 clients spread over the replicas'
   APIs while the agent is suspended (each is accepted and held, so no worker
   competes for the cores): accepted submissions per second;
2. dispatch: submissions paced at 8 per second over the replicas, caps high
   enough that nothing waits for a slot: submission -> dispatch latency (the
   row's ``dispatched_at`` minus its ``created_at``; median and p99), which
   replica dispatched each one, and that each was dispatched exactly once.
All replicas share the machine's cores with each other, their workers and the
database, so the ratio between the rows, not the absolute figures, is what
carries over to replicas on their own machines.
Writes bench/results/replicas.md and replicas.png.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.publish import (
    RESULTS,
    Check,
    figure,
    machine,
    percentile,
    reference,
    target_table,
    write_report,
)
from tests.support import postgres
from tests.support.server import TERMINAL, ControlPlane

SCENARIO = "cart-errors-after-release"


def _run(server: postgres.PostgresServer, replicas: int, n: int) -> dict[str, Any]:
    url = server.create_database(f"bench_replicas_{replicas}")
    with tempfile.TemporaryDirectory() as d:
        planes = []
        for i in range(replicas):
            (Path(d) / f"r{i}").mkdir()
            planes.append(ControlPlane(Path(d) / f"r{i}", url, env_overrides={
                "NIGHTSHIFT_REPLICA_ID": f"r{i}",
                "NIGHTSHIFT_MAX_RUNNING": str(n),
                "NIGHTSHIFT_MAX_RUNNING_PER_AGENT": str(n),
                "NIGHTSHIFT_QUEUE_CAPACITY": str(4 * n),
            }))  # fmt: skip
        planes[0].provision()
        for plane in planes:
            plane.token = planes[0].token
            plane.start()
        clients = [plane.client() for plane in planes]
        try:

            def one(i: int) -> str:
                resp = clients[i % replicas].post(
                    "/v1/investigations",
                    json={"agent": "triage", "title": f"burst {i}", "scenario": SCENARIO},
                )
                resp.raise_for_status()
                return str(resp.json()["id"])

            lead = clients[0]
            hold = {"reason": "bench: hold every submission"}
            lead.post("/v1/agents/triage/suspend", json=hold).raise_for_status()
            t0 = time.monotonic()
            with ThreadPoolExecutor(max_workers=16) as pool:
                held = list(pool.map(one, range(n)))
            submit_s = time.monotonic() - t0
            for inv_id in held:
                lead.post(f"/v1/investigations/{inv_id}/cancel", json={"reason": "bench"})
            lead.post("/v1/agents/triage/resume").raise_for_status()
            ids = []
            for i in range(n):
                ids.append(one(i))
                time.sleep(1 / 8)
            rows = _wait_terminal(url, ids, timeout=900)
        finally:
            for client in clients:
                client.close()
            for plane in planes:
                plane.stop()
    latency = [(r["dispatched_at"] - r["created_at"]).total_seconds() * 1000 for r in rows.values()]
    return {
        "replicas": replicas,
        "submitted": n,
        "accepted_per_second": n / submit_s,
        "dispatch_p50_ms": statistics.median(latency),
        "dispatch_p99_ms": percentile(latency, 0.99),
        "by_replica": dict(sorted(Counter(r["replica"] for r in rows.values()).items())),
        "dispatched_more_than_once": sum(1 for r in rows.values() if r["attempts"] != 1),
        "statuses": dict(Counter(r["status"] for r in rows.values())),
    }


def _wait_terminal(url: str, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            got = conn.execute(
                "SELECT id, status, replica, attempts, created_at, dispatched_at"
                " FROM investigations WHERE id = ANY(%s)",
                (ids,),
            ).fetchall()
            rows = {
                r[0]: {"status": r[1], "replica": r[2], "attempts": r[3], "created_at": r[4],
                       "dispatched_at": r[5]}
                for r in got
            }  # fmt: skip
            if all(r["status"] in TERMINAL for r in rows.values()):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError("investigations did not finish in time")
            time.sleep(0.5)


def checks(results: list[dict[str, Any]]) -> list[Check]:
    """Issue 21: each investigation started exactly once; the speeds carry no target."""
    base = results[0]
    out = [
        Check(
            f"{r['replicas']} replica(s): every investigation dispatched exactly once",
            f"{r['dispatched_more_than_once']} dispatched more than once",
            r["dispatched_more_than_once"] == 0,
        )
        for r in results
    ]
    for r in results[1:]:
        out.append(
            reference(
                f"{r['replicas']} replicas vs one: accepted/s "
                f"x{r['accepted_per_second'] / base['accepted_per_second']:.2f}, dispatch p99 "
                f"x{r['dispatch_p99_ms'] / max(base['dispatch_p99_ms'], 1e-9):.2f}"
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--investigations", type=int, default=0, help="per replica count")
    args = parser.parse_args()
    n = args.investigations or (20 if args.quick else 60)
    counts = (1, 2) if args.quick else (1, 2, 3)
    reason = postgres.available()
    if reason:
        raise SystemExit(reason)
    server = postgres.start()
    try:
        results = [_run(server, k, n) for k in counts]
    finally:
        postgres.stop(server)
    base = results[0]
    lines = [
        "# Control plane with several replicas on one PostgreSQL",
        "",
        f"Machine: {machine()}; the replicas, their workers and PostgreSQL share it, so "
        "read the ratios to one replica, not the absolute figures. Command: "
        f"`python -m bench.replicas{' --quick' if args.quick else ''}` "
        f"({n} investigations per row, 16 clients spread over the replicas' APIs).",
        "",
        "Every submission's queue-capacity check takes one PostgreSQL advisory lock "
        "(services/investigations.py), so admission is serialized across replicas by "
        "design; dispatch is spread over them (each starts its own workers).",
        "",
        "| replicas | accepted submissions/s (x one) | dispatch p50 / p99 ms (p99 x one) "
        "| dispatched by | dispatched more than once | outcomes |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        by = ", ".join(f"{k}: {v}" for k, v in r["by_replica"].items())
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        lines.append(
            f"| {r['replicas']} | {r['accepted_per_second']:.1f} "
            f"({r['accepted_per_second'] / base['accepted_per_second']:.2f}) "
            f"| {r['dispatch_p50_ms']:.0f} / {r['dispatch_p99_ms']:.0f} "
            f"({r['dispatch_p99_ms'] / max(base['dispatch_p99_ms'], 1e-9):.2f}) "
            f"| {by} | {r['dispatched_more_than_once']} | {outcomes} |"
        )
    lines += ["", *target_table(checks(results))]
    print(write_report("replicas", lines), end="")
    with figure(RESULTS / "replicas.png", 1, 2, figsize=(9, 3.5)) as (left, right):
        xs = [r["replicas"] for r in results]
        left.bar(xs, [r["accepted_per_second"] for r in results])
        left.set_xlabel("replicas")
        left.set_ylabel("accepted submissions / s")
        left.set_xticks(xs)
        right.bar([x - 0.2 for x in xs], [r["dispatch_p50_ms"] for r in results], 0.4,
                  label="p50")  # fmt: skip
        right.bar([x + 0.2 for x in xs], [r["dispatch_p99_ms"] for r in results], 0.4,
                  label="p99")  # fmt: skip
        right.set_xlabel("replicas")
        right.set_ylabel("submit -> dispatched, ms")
        right.set_xticks(xs)
        right.legend()


if __name__ == "__main__":
    main()
