"""``python -m bench.gateway``: the gateway's cost per allowed call, measured in one run
against a direct connection to the same upstream MCP server (the tests' SDK server
over streamable HTTP), and the calls per second one gateway process sustains with
concurrent clients. Both connections keep one MCP session open, so the difference
is the gateway: identity and kill-switch reads, decide(), the audit write with the
intent, redaction and the extra hop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.publish import Check, figure, reference, target_table
from nightshift.bootstrap import build_container
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.gateway import GatewayService
from nightshift.settings import Settings
from tests.integration.mcp.conftest import SERVER, _wait_for_port
from tests.support.postgres import free_port

NIGHTSHIFT = str(Path(sys.executable).with_name("nightshift"))
TARGET_ADDED_P99_MS = 2.0  # issue 22: the gateway's added latency per allowed call, locally
LIMITS = {"max_tool_calls": 10**7, "max_calls_per_minute": 10**7, "max_wall_seconds": 10**7}


def _q(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


Side = tuple[str, dict[str, str], dict[str, Any]]  # url, headers, arguments


async def _sequential(sides: list[Side], n: int) -> list[list[float]]:
    """``n`` calls on each side, interleaved call by call, so a loaded machine
    slows every side alike and the differences stay the gateway's."""
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for url, headers, _ in sides:
            http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=60))
            clients.append(
                await stack.enter_async_context(
                    Client(streamable_http_client(url, http_client=http))
                )
            )
        for _ in range(20):  # warm-up: sessions, caches, the upstream connection
            for client, (_, _, args) in zip(clients, sides, strict=True):
                await client.call_tool("service_status", args)
        out: list[list[float]] = [[] for _ in sides]
        for _ in range(n):
            for times, client, (_, _, args) in zip(out, clients, sides, strict=True):
                started = time.perf_counter()
                result = await client.call_tool("service_status", args)
                times.append(time.perf_counter() - started)
                assert not result.is_error, result.content
        return out


async def _throughput(url: str, headers: dict[str, str], args: dict[str, Any], clients: int,
                      per_client: int) -> float:  # fmt: skip
    async def one() -> None:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=120) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            for _ in range(per_client):
                assert not (await client.call_tool("service_status", args)).is_error

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    return clients * per_client / (time.perf_counter() - started)


def _added(name: str, gated: list[float], direct: list[float]) -> str:
    return (
        f"| **added by {name}** | {_q(gated, 0.5) - _q(direct, 0.5):.2f} | "
        f"{_q(gated, 0.99) - _q(direct, 0.99):.2f} |"
    )


def checks(rows: list[tuple[str, list[float]]], rates: list[tuple[str, float]]) -> list[Check]:
    """Issue 22's target on the gateway (the first gated row); throughput has none."""
    (_, direct), (name, gated) = rows[0], rows[1]
    added_p99 = _q(gated, 0.99) - _q(direct, 0.99)
    return [
        Check(
            f"{name}: added latency per allowed call p99 < {TARGET_ADDED_P99_MS:.0f} ms",
            f"{added_p99:.2f} ms",
            added_p99 < TARGET_ADDED_P99_MS,
        ),
        *(reference(f"{n}: {rate:.0f} calls/s sustained") for n, rate in rates),
    ]


def _report(
    rows: list[tuple[str, list[float]]], rates: list[tuple[str, float]], clients: int, out: Path
) -> None:
    direct = rows[0][1]
    lines = [
        "# Governance gateway: added latency and throughput",
        "",
        f"{len(direct)} sequential allowed reads each (one open MCP session per side, calls "
        "interleaved across sides, SQLite control-plane database, the audit write included), "
        f"same run, same upstream; load average at the end {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs.",
        "",
        "| path | p50 ms | p99 ms |",
        "|---|---|---|",
        *(f"| {name} | {_q(v, 0.5):.2f} | {_q(v, 0.99):.2f} |" for name, v in rows),
        *(_added(name, v, direct) for name, v in rows[1:]),
        "",
        *(
            f"Sustained through one {name} process with {clients} concurrent clients: "
            f"**{rate:.0f} calls/s**."
            for name, rate in rates
        ),
        "",
        *target_table(checks(rows, rates)),
        "",
    ]
    (out / "gateway.md").write_text("\n".join(lines), encoding="utf-8")
    with figure(out / "gateway.png", figsize=(6, 3.5)) as ax:
        ax.boxplot([[x * 1000 for x in v] for _, v in rows], showfliers=False)
        ax.set_xticks(list(range(1, len(rows) + 1)), [name for name, _ in rows])
        ax.set_ylabel("ms per call")
        ax.set_title("allowed read: direct vs through the gateway")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="also run a gateway from this source tree (e.g. a git worktree of an older "
        "commit's src/), interleaved with the current one, to compare in one run",
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        up_port = free_port()
        upstream = subprocess.Popen(
            [sys.executable, str(SERVER), "http", str(up_port)],
            env={"OPS_MARKS": "/dev/null", "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        gateways: list[subprocess.Popen[bytes]] = []
        try:
            _wait_for_port(up_port, upstream, time.monotonic() + 30)
            up_url = f"http://127.0.0.1:{up_port}/mcp"
            (tmp / "sources.yaml").write_text(
                f"version: 1\nsources:\n  - {{name: ops, kind: mcp, domain: application, "
                f"url: '{up_url}'}}\n",
                encoding="utf-8",
            )
            env = {"PATH": "/usr/bin:/bin", "NIGHTSHIFT_DATA_DIR": str(tmp),
                   "NIGHTSHIFT_DATABASE_URL": f"sqlite:///{tmp / 'nightshift.db'}",
                   "NIGHTSHIFT_SOURCES_FILE": str(tmp / "sources.yaml")}  # fmt: skip
            c = build_container(Settings(data_dir=tmp, database_url=env["NIGHTSHIFT_DATABASE_URL"]))
            c.principals.create_user(
                "olivia", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPS_LEAD}), contact="o@x"
            )
            c.agents.register(
                "bench-bot", owner="olivia", authority_class="supervised", trust_phase="assist",
                boundaries={"domains": ["application"], "namespaces": ["*"], **LIMITS},
            )  # fmt: skip
            operator = Caller("bench", PrincipalKind.HUMAN, frozenset())
            token = GatewayService(c.db, c.audit, c.kill_switch).issue_token("bench-bot", operator)
            c.db.dispose()
            names = ["gateway"]
            envs = [env]
            if opts.baseline_src is not None:  # its nightshift package shadows the installed one
                names.append("baseline gateway")
                envs.append({**env, "PYTHONPATH": str(opts.baseline_src.resolve())})
            urls = []
            for gw_env in envs:
                gw_port = free_port()
                gateways.append(subprocess.Popen(
                    [NIGHTSHIFT, "gateway", "serve", "--port", str(gw_port)],
                    env=gw_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))  # fmt: skip
                _wait_for_port(gw_port, gateways[-1], time.monotonic() + 90)
                urls.append(f"http://127.0.0.1:{gw_port}/mcp")
            # the transport floor: the same SDK proxying with no governance at all
            null_port = free_port()
            gateways.append(subprocess.Popen(
                [sys.executable, "-m", "bench.gateway.null_proxy", str(null_port), up_url],
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
            _wait_for_port(null_port, gateways[-1], time.monotonic() + 60)
            names.append("null proxy (transport only)")
            urls.append(f"http://127.0.0.1:{null_port}/mcp")
            auth = {"Authorization": f"Bearer {token}"}
            args = {"service": "checkout", "intent": "bench: is checkout healthy?"}
            sides: list[Side] = [(up_url, {}, {"service": "checkout"})]
            sides += [(url, auth, args) for url in urls]
            times = asyncio.run(_sequential(sides, opts.calls))
            rows = list(zip(["direct", *names], times, strict=True))
            per_client = max(1, opts.calls // opts.clients)
            rates = [
                (name, asyncio.run(_throughput(url, auth, args, opts.clients, per_client)))
                for name, url in zip(names, urls, strict=True)
            ]
        finally:
            for proc in (*gateways, upstream):
                proc.terminate()
                proc.wait(timeout=10)
    opts.out.mkdir(parents=True, exist_ok=True)
    _report(rows, rates, opts.clients, opts.out)
    print((opts.out / "gateway.md").read_text(encoding="utf-8"))
    return 0
