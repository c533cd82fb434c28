"""Settings: read once from the environment (``NIGHTSHIFT_`` prefix) and passed down.

Nothing else in the package reads the environment; tests build a
``Settings(...)`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, PositiveInt, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nightshift.domain.vocabulary import Tier
from nightshift.worker_settings import WorkerSettings


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("nightshift", appauthor=False))


class TierLimits(BaseModel):
    """Resource limits of one worker unit for a complexity tier."""

    memory_mb: int = Field(ge=64)
    cpu_seconds: int = Field(ge=1)
    deadline_seconds: int = Field(ge=1)


def _default_tier_limits() -> dict[Tier, TierLimits]:
    return {
        Tier.SINGLE_DOMAIN: TierLimits(memory_mb=768, cpu_seconds=120, deadline_seconds=300),
        Tier.MULTI_DOMAIN: TierLimits(memory_mb=1024, cpu_seconds=300, deadline_seconds=900),
    }


class LlmPrice(BaseModel):
    """A model's price in USD per million tokens (used when a call reports no cost)."""

    input: float = Field(default=0.0, ge=0)
    output: float = Field(default=0.0, ge=0)
    cached: float = Field(default=0.0, ge=0)


def _default_depth_ceilings() -> dict[Tier, PositiveInt]:
    return {Tier.SINGLE_DOMAIN: 8, Tier.MULTI_DOMAIN: 15}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NIGHTSHIFT_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""  # empty: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""  # URL workers use to reach the API; empty: http://host:port

    executor: Literal["local", "kubernetes"] = "local"
    # Local executor: fork workers from a template that has imported the worker
    # (docs/control-plane.md, "Worker start-up"); off: spawn each one.
    worker_template: bool = True
    # Local executor: start the template with `nightshift up`, so the first
    # investigation is forked too; off: with the first unit (which waits ~1 s).
    worker_template_at_start: bool = True
    # Local executor: confine workers (and the template) with bubblewrap
    # (docs/control-plane.md, "Worker sandbox"); auto: where bwrap runs, else a loud
    # warning; bwrap: required (startup fails without it); off: never.
    worker_sandbox: Literal["auto", "bwrap", "off"] = "auto"
    secrets_backend: Literal["local", "vault"] = "local"
    reasoner: Literal["offline"] = "offline"
    # Evidence sources (see docs/sources.md): the YAML file declaring the real systems
    # investigations read. Empty: only simulated scenarios can be investigated.
    sources_file: Path | None = None
    # Governance gateway (docs/mcp.md): a tools/call without a stated intent is refused.
    gateway_intent_required: bool = True
    # Who executes approved actions: "auto" picks the cluster when a kubernetes source
    # is declared (the simulated world always for simulated scenarios).
    remediator: Literal["auto", "simulated", "kubernetes"] = "auto"
    # GitOps (docs/gitops.md): the working copy that declares the cluster's objects,
    # this deployment's environment, and the mode per action ("*" for the rest):
    # live | git | live+git. Production defaults to live+git for declared objects.
    environment: Literal["dev", "staging", "production"] = "dev"
    gitops_repo: Path | None = None
    gitops_modes: dict[str, Literal["live", "git", "live+git"]] = Field(default_factory=dict)
    # Where the chart's values-<environment>-<phase>.yaml live in gitops_repo (relative
    # to it; empty: the one directory holding this environment's files). An automatic
    # demotion is committed there too (docs/deploy.md, "Promotion is a Git change").
    gitops_values_dir: Path | None = None
    # Fault injection for the recovery tests only: the control plane SIGKILLs itself
    # at this point of an execution (runtime/remediation/crash_point.py). Never in prod.
    test_crash_at: Literal[
        "", "remediation.before_execute", "remediation.after_execute", "remediation.mid_rollback"
    ] = ""

    max_running: int = Field(default=8, ge=1, description="global concurrency cap")
    max_running_per_agent: int = Field(default=4, ge=1)
    queue_capacity: int = Field(default=200, ge=1, description="queued investigations")
    retry_after_seconds: int = Field(default=5, ge=1)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    tier_limits: dict[Tier, TierLimits] = Field(default_factory=_default_tier_limits)
    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    # Several replicas on one PostgreSQL (docs/control-plane.md, "Several replicas"):
    # this replica's name (empty: hostname-pid; give a stable one, e.g. the pod name,
    # so a restarted replica recovers its own work at once) and the TTL of its
    # heartbeat and of the leader lease.
    replica_id: str = Field(default="", max_length=128)
    lease_seconds: float = Field(default=15.0, ge=1.0)
    log_retention_days: int = Field(default=30, ge=1)

    # Operator workflow (see docs/workflow.md).
    approval_ttl_seconds: int = Field(default=3600, ge=1, description="approval request TTL")
    approval_rate_per_hour: int = Field(default=20, ge=1, description="new approvals per agent")
    notify_webhook_url: str = ""  # empty: escalations are recorded, not pushed
    notify_timeout_seconds: float = Field(default=5.0, gt=0)
    notify_retries: int = Field(default=3, ge=1)
    notify_async: bool = True  # deliver notifications off the request thread
    oncall_contact: str = ""  # the on-call operator every escalation is routed to

    # Alert intake (see docs/alerts.md).
    alerts_max_investigations_per_minute: int = Field(
        default=10, ge=1, description="investigations started from alerts per minute, globally"
    )
    alerts_cancel_on_resolve: bool = False  # end an investigation once all its alerts resolve

    # Web console (see docs/console.md).
    console_session_minutes: int = Field(default=720, ge=1, description="console sign-in lifetime")
    # Mark the session cookie Secure: "auto" when the request came over https.
    console_cookie_secure: Literal["auto", "always", "never"] = "auto"

    # Observability (see docs/observability.md).
    metrics_token: SecretStr = SecretStr("")  # empty: /metrics is open, like /healthz
    otlp_endpoint: str = ""  # OTLP/HTTP collector, e.g. http://otel-collector:4318; empty: off
    otlp_headers: str = ""  # "key=value,..." for the control plane's exporter
    trace_service_name: str = "nightshift"
    cost_cpu_second_usd: float = Field(default=0.0000125, ge=0)
    cost_gb_second_usd: float = Field(default=0.0000014, ge=0)
    cost_tool_call_usd: float = Field(default=0.00001, ge=0)
    cost_storage_gb_month_usd: float = Field(default=0.10, ge=0)
    cost_llm_prices: dict[str, LlmPrice] = Field(default_factory=dict)  # USD per 1M tokens
    depth_adaptive: bool = True  # reasoning-depth bound learned from successful runs
    depth_window_days: int = Field(default=30, ge=1)
    depth_min_samples: int = Field(default=20, ge=1)
    depth_ceilings: dict[Tier, PositiveInt] = Field(default_factory=_default_depth_ceilings)
    gate_metrics_refresh_seconds: float = Field(default=60.0, ge=0)

    # Kubernetes executor (see docs/kubernetes.md).
    k8s_kubeconfig: str = ""  # empty: in-cluster config, else ~/.kube/config
    k8s_context: str = ""
    k8s_namespace: str = "nightshift-agents"
    k8s_worker_image: str = "nightshift:latest"
    k8s_job_ttl_seconds: int = Field(default=3600, ge=0)
    k8s_kueue_queue: str = ""  # empty: no Kueue; the control plane's own caps apply
    k8s_kueue_priority: dict[Tier, str] = Field(default_factory=dict)

    # Audit anchors (see docs/governance.md): outside the data directory on purpose,
    # so whoever can rewrite the database does not also hold the signing key.
    audit_anchor_key: Path | None = None  # default: <data_dir>-audit.key beside it
    audit_anchor_file: Path | None = None  # default: <data_dir>-audit-anchors.jsonl
    # The running server anchors the head this often when records were added; -1: never
    # (then run `nightshift audit anchor` from cron).
    audit_anchor_interval_seconds: float = Field(default=300.0, ge=-1)
    # With the Vault broker the head is signed by this transit key instead of the key
    # file (the private key never leaves Vault/OpenBao).
    audit_transit_key: str = "nightshift-audit"

    # Secret broker (see docs/secrets.md).
    secrets_dir: Path | None = None  # default: <data_dir>/secrets
    secrets_handoff_ttl: float = Field(default=300.0, gt=0)
    secrets_revoke_attempts: int = Field(default=5, ge=1)
    secrets_revoke_backoff: float = Field(default=0.2, ge=0)
    vault_addr: str = ""
    vault_auth_method: Literal["token", "jwt", "kubernetes"] = "token"
    vault_token: SecretStr = SecretStr("")
    vault_auth_role: str = ""
    vault_auth_mount: str = ""
    vault_jwt_path: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    vault_cacert: str = ""
    vault_tls_verify: bool = True
    vault_namespace: str = ""
    vault_timeout: float = Field(default=5.0, gt=0)
    vault_kv_mount: str = "secret"
    vault_prefix: str = "nightshift"
    vault_database_mount: str = "database"
    vault_token_role: str = "nightshift-investigation"  # noqa: S105 - a role name
    vault_transit_mount: str = "transit"  # the transit engine signing audit anchors
    vault_dynamic_sources: str = ""  # e.g. "database/orders,database/incidents"

    def worker_settings(self) -> WorkerSettings:
        """What a worker needs to reach its secret backend (the hand-off comes per unit)."""
        return WorkerSettings(
            secrets_backend=self.secrets_backend,
            vault_addr=self.vault_addr,
            vault_cacert=self.vault_cacert,
            vault_namespace=self.vault_namespace,
            vault_kv_mount=self.vault_kv_mount,
            vault_prefix=self.vault_prefix,
            vault_database_mount=self.vault_database_mount,
            vault_dynamic_sources=self.vault_dynamic_sources,
        )

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'nightshift.db'}"
        if self.secrets_backend == "vault" and not self.vault_addr:
            raise ValueError(
                "NIGHTSHIFT_VAULT_ADDR is required when NIGHTSHIFT_SECRETS_BACKEND=vault"
            )
        if not self.public_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
            self.public_url = f"http://{host}:{self.port}"
        return self

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def audit_anchor_key_path(self) -> Path:
        return self.audit_anchor_key or self.data_dir.with_name(f"{self.data_dir.name}-audit.key")

    @property
    def audit_anchor_path(self) -> Path:
        default = self.data_dir.with_name(f"{self.data_dir.name}-audit-anchors.jsonl")
        return self.audit_anchor_file or default

    @property
    def secrets_path(self) -> Path:
        return self.secrets_dir or self.data_dir / "secrets"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
