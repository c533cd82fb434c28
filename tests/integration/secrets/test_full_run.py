"""A whole investigation through the control plane with each secret broker:
the worker gets only its investigation's credentials, everything is revoked
when it ends, and no secret value lands in the database, the logs or the
event stream (we scan them all)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import hvac  # type: ignore[import-untyped]
import psycopg
import pytest
from sqlalchemy import inspect, text

from nightshift.domain.vocabulary import Domain
from nightshift.secrets import vault_setup
from nightshift.secrets.local_store import LocalSecretStore
from nightshift.store.database import Database
from tests.integration.secrets.conftest import DATASOURCE_SECRETS, Bao
from tests.support import prometheus
from tests.support.postgres import PostgresServer
from tests.support.server import TERMINAL, ControlPlane

pytestmark = pytest.mark.slow
_names = itertools.count()
LOCAL_SECRETS = {
    (Domain.NETWORK, "default"): {"api_token": "local-net-tok-9f31c2aa"},
    (Domain.DATABASE, "default"): {"password": "local-db-pw-4be07d12"},
}


def _dump_database(url: str) -> str:
    """Every row of every table, as text."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            chunks = []
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    chunks.append(repr(tuple(row)))
            return "\n".join(chunks)
    finally:
        db.dispose()


def _everything(plane: ControlPlane, client: object, inv_id: str) -> str:
    import httpx

    assert isinstance(client, httpx.Client)
    logs = "\n".join(p.read_text(errors="replace") for p in plane.data_dir.rglob("*.log"))
    events = client.get(f"/v1/investigations/{inv_id}/events?follow=false").text
    return "\n".join([_dump_database(plane.database_url), logs, events])


def _run(plane: ControlPlane) -> tuple[str, str]:
    plane.start()
    with plane.client() as client:
        inv = plane.submit(client, scenario="two-am-cascade", title="2 AM storm")
        done = plane.wait_for(client, inv["id"], TERMINAL, timeout=120)
        assert done["status"] in {"succeeded", "escalated"}, (done, plane.log_text())
        return inv["id"], _everything(plane, client, inv["id"])


def test_local_broker_run_revokes_everything_and_leaks_nothing(
    tmp_path: Path, pg_server: PostgresServer
) -> None:
    url = pg_server.create_database(f"fullrun_local_{next(_names)}")
    plane = ControlPlane(tmp_path, url)
    plane.provision()
    store = LocalSecretStore(tmp_path / "secrets")
    for (domain, source), values in LOCAL_SECRETS.items():
        store.put(domain, source, values)
    try:
        inv_id, seen = _run(plane)
    finally:
        plane.stop()
    for values in LOCAL_SECRETS.values():
        for secret in values.values():
            assert secret not in seen
    assert "local-db-pw" not in (tmp_path / "secrets" / "secrets.enc").read_text(errors="replace")
    with psycopg.connect(pg_server.admin_dsn.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]) as c:
        states = c.execute(
            "select kind, domain, state from credential_leases where investigation_id = %s",
            (inv_id,),
        ).fetchall()
    assert states, "no leases were recorded"
    assert {state for _, _, state in states} == {"revoked"}
    assert {domain for kind, domain, _ in states if kind == "domain"} == {"network", "database"}


def test_vault_run_uses_a_per_investigation_identity_revoked_at_the_end(
    tmp_path: Path, pg_server: PostgresServer, bao: Bao
) -> None:
    url = pg_server.create_database(f"fullrun_vault_{next(_names)}")
    plane = ControlPlane(
        tmp_path,
        url,
        env_overrides={
            "NIGHTSHIFT_SECRETS_BACKEND": "vault",
            "NIGHTSHIFT_VAULT_ADDR": bao.addr,
            "NIGHTSHIFT_VAULT_TOKEN": bao.control_token,
        },
    )
    plane.provision()
    try:
        inv_id, seen = _run(plane)
    finally:
        plane.stop()
    for values in DATASOURCE_SECRETS.values():
        for secret in values.values():
            assert secret not in seen
    assert bao.control_token not in seen
    # Vault's own audit log attributes the worker's reads to this investigation.
    reads = [
        e
        for e in bao.audit_entries()
        if e.get("type") == "response"
        and (e.get("auth") or {}).get("metadata", {}).get("investigation_id") == inv_id
        and "datasources" in (e.get("request") or {}).get("path", "")
    ]
    assert reads, "no datasource read was attributed to the investigation"
    # Every lease of the investigation is revoked, checked against the server.
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("select id, kind, state from credential_leases where investigation_id=:i"),
                {"i": inv_id},
            ).all()
    finally:
        db.dispose()
    assert "worker" in {kind for _, kind, _ in rows}
    assert {state for _, _, state in rows} == {"revoked"}
    admin = bao.endpoint.client("ROOT")
    for lease_id, kind, _ in rows:
        if kind in ("control", "worker"):
            accessor = lease_id.removeprefix("token:")
            with pytest.raises(hvac.exceptions.InvalidRequest):
                admin.auth.token.lookup_accessor(accessor)


def test_vault_run_reads_real_sources_with_their_leased_credentials_and_leaks_nothing(
    tmp_path: Path, pg_server: PostgresServer, bao: Bao
) -> None:
    """The sources' own credentials come from OpenBao: Prometheus refuses anonymous
    queries (basic auth), so an answered query proves the worker read them; none of
    them lands in the database, the logs or the event stream."""
    monitor_password = "orders-monitor-pw-5e21b7"
    vault_setup.put_datasource_secret(
        bao.admin, Domain.APPLICATION, "prom-basic",
        {"username": prometheus.TEST_USER, "password": prometheus.TEST_PASSWORD},
    )  # fmt: skip
    vault_setup.put_datasource_secret(
        bao.admin, Domain.DATABASE, "orders-monitor",
        {"username": "postgres", "password": monitor_password},
    )  # fmt: skip
    prom = prometheus.start(basic_auth=True)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"""version: 1
sources:
  - name: metrics
    kind: prometheus
    domain: application
    url: {prom.url}
    credential: prom-basic
  - name: orders-db
    kind: postgresql
    domain: database
    url: postgresql://127.0.0.1:{pg_server.port}/postgres
    credential: orders-monitor
"""
    )
    url = pg_server.create_database(f"fullrun_sources_{next(_names)}")
    plane = ControlPlane(
        tmp_path,
        url,
        env_overrides={
            "NIGHTSHIFT_SECRETS_BACKEND": "vault",
            "NIGHTSHIFT_VAULT_ADDR": bao.addr,
            "NIGHTSHIFT_VAULT_TOKEN": bao.control_token,
            "NIGHTSHIFT_SOURCES_FILE": str(sources),
        },
    )
    plane.provision()
    try:
        plane.start()
        with plane.client() as client:
            inv = plane.submit(client, title="checkout is slow and orders-db refuses connections")
            done = plane.wait_for(client, inv["id"], TERMINAL, timeout=120)
            seen = _everything(plane, client, inv["id"])
            events = client.get(f"/v1/investigations/{inv['id']}/events?follow=false").text
    finally:
        plane.stop()
        prometheus.stop(prom)
    assert done["status"] in {"succeeded", "escalated"}, (done, plane.log_text()[-3000:])
    answered = [json.loads(line[5:]) for line in events.splitlines() if '"tool.answered"' in line]
    by_tool = {e["data"]["tool"]: e["data"] for e in answered}
    assert "prometheus_query" in by_tool, sorted(by_tool)
    # an empty answer is an answer: anonymous queries get HTTP 401 (an error)
    assert by_tool["prometheus_query"]["status"] in {"ok", "no_data"}, by_tool
    assert by_tool["db_stats"]["status"] == "ok", by_tool
    for secret in (prometheus.TEST_PASSWORD, monitor_password, bao.control_token):
        assert secret not in seen
