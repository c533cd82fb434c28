"""Composition root: settings in, concrete adapters wired together out.

The only place that chooses implementations; everything else receives them.
``build.py`` builds the container in dependency order; the other modules each
wire one part (workers, secret brokers, telemetry, the workflow, alerts,
remediation).
"""

from nightshift.bootstrap.brokers import (
    audit_signer,
    make_broker,
    vault_auth,
    vault_endpoint,
    vault_layout,
)
from nightshift.bootstrap.build import build_container, replica_id
from nightshift.bootstrap.container import Container
from nightshift.bootstrap.remediation import make_remediator
from nightshift.bootstrap.scenarios import ShippedScenarios
from nightshift.bootstrap.telemetry import make_telemetry
from nightshift.bootstrap.workers import (
    EXECUTORS,
    ExecutorFactory,
    kubernetes_executor,
    load_sources,
    local_executor,
    worker_env,
    worker_files,
)

__all__ = [
    "EXECUTORS",
    "Container",
    "ExecutorFactory",
    "ShippedScenarios",
    "audit_signer",
    "build_container",
    "kubernetes_executor",
    "load_sources",
    "local_executor",
    "make_broker",
    "make_remediator",
    "make_telemetry",
    "replica_id",
    "vault_auth",
    "vault_endpoint",
    "vault_layout",
    "worker_env",
    "worker_files",
]
