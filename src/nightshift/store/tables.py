"""Table models. Kept apart from the domain and API models on purpose:
rows are storage shapes; services translate them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite autoincrement wants INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # human | service
    roles: Mapped[list[str]] = mapped_column(JSON)
    contact: Mapped[str] = mapped_column(String(256), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    investigation_id: Mapped[str | None] = mapped_column(
        ForeignKey("investigations.id"), nullable=True, index=True
    )
    description: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AgentRow(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    authority_class: Mapped[str] = mapped_column(String(32))
    trust_phase: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    boundaries: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InvestigationRow(Base):
    __tablename__ = "investigations"
    __table_args__ = (
        Index("ix_investigations_status_priority_id", "status", "priority", "id"),
        Index("ix_investigations_agent_status", "agent_id", "status"),
    )
    # Time-ordered ids (see domain/ids.py): ordering by id is FIFO submission order.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    title: Mapped[str] = mapped_column(String(512))
    scenario: Mapped[str | None] = mapped_column(String(128), nullable=True)
    tier: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 0 = most urgent
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    chain_id: Mapped[str] = mapped_column(String(36))
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    trust_phase: Mapped[str] = mapped_column(String(32))  # phase at submission
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(nullable=True)
    worker_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The control-plane replica that dispatched it and watches its unit (see
    # services/control_leases.py); when that replica's heartbeat lapses, the leader
    # recovers it. Kept after the end, as a record of who ran it.
    replica: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    resources: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Shadow-phase output stays hidden from operators until someone reviews it.
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)  # top fault category


class InvestigationEventRow(Base):
    """Append-only: rows are inserted, never updated or deleted by the app."""

    __tablename__ = "investigation_events"
    __table_args__ = (UniqueConstraint("investigation_id", "seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VerdictRow(Base):
    """An operator's judgment of a diagnosis, or the known outcome recorded later."""

    __tablename__ = "verdicts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # accept | reject | modify | outcome
    minimal_edit: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # vs known outcome
    phase: Mapped[str] = mapped_column(String(32))  # the agent's phase when it diagnosed
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionProposalRow(Base):
    __tablename__ = "action_proposals"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    action_type: Mapped[str] = mapped_column(String(64))
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    intent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confidence: Mapped[float] = mapped_column(default=0.0)
    phase: Mapped[str] = mapped_column(String(32))
    # proposed | recommended | pending_approval | approved | rejected | expired |
    # executing | executed | failed | rolled_back | denied | recorded
    status: Mapped[str] = mapped_column(String(32), index=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    batch_key: Mapped[str] = mapped_column(String(128), default="", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)  # optimistic concurrency
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    executed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rolled_back_at: Mapped[datetime | None] = mapped_column(nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. replicas
    # Approval fatigue: an identical pending request points at the one it joined.
    batched_into: Mapped[str | None] = mapped_column(String(36), nullable=True)
    batch_count: Mapped[int] = mapped_column(Integer, default=1)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)  # False in shadow


class EscalationRow(Base):
    """Handed to humans with the full evidence trail (breaker, low confidence, ...)."""

    __tablename__ = "escalations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investigation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    routed_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # judged later
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    notifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    proposal_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    phase: Mapped[str] = mapped_column(String(32), default="")  # the agent's phase then
    acked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")


class ReviewItemRow(Base):
    """The human-review queue: scope-widening requests, shadow output, demotion holds."""

    __tablename__ = "review_items"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    investigation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decision: Mapped[str] = mapped_column(Text, default="")


class PhaseChangeRow(Base):
    """Phase history: registration, promotions (with sign-offs), demotions."""

    __tablename__ = "phase_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # registered | promoted | demoted
    from_phase: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_phase: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SignOffRow(Base):
    __tablename__ = "signoffs"
    __table_args__ = (UniqueConstraint("agent_id", "target_phase", "user_id", "consumed_by"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    target_phase: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The promotion (phase_changes.id, as text) that used this sign-off; "" while open.
    consumed_by: Mapped[str] = mapped_column(String(32), default="")


class KillSwitchRow(Base):
    """``scope`` is "global" or "agent:<name>"."""

    __tablename__ = "kill_switches"
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    engaged: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ControlLeaseRow(Base):
    """Leases between control-plane replicas on one database.

    ``name`` is "leader" (the replica allowed to run the singletons; ``epoch``
    grows on every change of holder and fences its writes) or "replica:<id>" (that
    replica's heartbeat). A lease is live while ``expires_at`` is in the future,
    by the database's clock."""

    __tablename__ = "control_leases"
    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[int] = mapped_column(BigId, default=1)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditRecordRow(Base):
    """Append-only and hash-chained; ``body`` is the canonical record that was hashed."""

    __tablename__ = "audit_records"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    investigation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    decision: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The expected head of the chain, updated with every append: deleting the
    newest records (which no link after them would reveal) breaks this."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigId)


class CredentialLeaseRow(Base):
    """Lease metadata only; secret values are never stored."""

    __tablename__ = "credential_leases"
    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(String(36), index=True)
    domain: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: identity
    kind: Mapped[str] = mapped_column(String(16))  # domain | database | control | worker
    source: Mapped[str | None] = mapped_column(String(128), nullable=True)
    backend: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)  # active|revoked|revoke_pending
    issued_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(256), nullable=True)


class AlertRow(Base):
    """One alert, by fingerprint; a repeated notification updates it (docs/alerts.md)."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # firing | resolved
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    generator_url: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="generic")  # alertmanager | generic
    receiver: Mapped[str] = mapped_column(String(256), default="")
    group_key: Mapped[str] = mapped_column(String(512), default="")  # the sender's, if any
    # Bumped when a resolved alert fires again: a new occurrence may start a new group.
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    investigation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    received_count: Mapped[int] = mapped_column(Integer, default=1)
    first_received_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AlertRouteRow(Base):
    """A routing rule: Alertmanager matchers -> agent, tier, priority, grouping, limit."""

    __tablename__ = "alert_routes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    matchers: Mapped[list[str]] = mapped_column(JSON)
    agent: Mapped[str] = mapped_column(String(63))
    tier: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=2)
    group_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_window_seconds: Mapped[int] = mapped_column(Integer, default=300)
    max_per_minute: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    scenario: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertGroupRow(Base):
    """The alerts one rule groups under one key; starts at most one investigation.

    ``state``: pending (not started: storm, kill switch, full queue), starting
    (claimed, submission in flight) or started (``investigation_id`` set).
    """

    __tablename__ = "alert_groups"
    __table_args__ = (Index("ix_alert_groups_rule_key", "rule", "group_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rule: Mapped[str] = mapped_column(String(63))
    group_key: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    investigation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)  # every alert resolved
    escalation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_alert_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertGroupMemberRow(Base):
    __tablename__ = "alert_group_members"
    __table_args__ = (UniqueConstraint("group_id", "alert_id", "occurrence"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeRow(Base):
    """One entry of the change feed (POST /v1/changes): who changed what, when, where.

    ``ref`` is the sender's own id (a ticket, a commit, a firewall change number),
    unique so a retried POST does not record the change twice."""

    __tablename__ = "changes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), index=True)
    domain: Mapped[str] = mapped_column(String(16), index=True)
    target_kind: Mapped[str] = mapped_column(String(63), default="")
    target_name: Mapped[str] = mapped_column(String(253), default="")
    target_namespace: Mapped[str] = mapped_column(String(63), default="")
    # The display form ("ns/Kind/name" or the free-form target), what ?target= matches.
    target: Mapped[str] = mapped_column(String(400), index=True)
    link: Mapped[str] = mapped_column(String(2000), default="")
    submitted_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The target object's state before the change (what revert-change restores);
    # validated and redacted at the API, never a Secret.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class ConsoleSessionRow(Base):
    """A web-console session or a one-time sign-in link (docs/console.md).

    Only the SHA-256 of the secret is kept. A session remembers the API token
    it was opened with, so revoking that token ends the session too. A link
    (``kind`` = "link") is consumed on first use (``used_at``)."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # session | link
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    api_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)
    csrf: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
