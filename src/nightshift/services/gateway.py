"""The governance gateway's use cases: agent tokens, who may call, and the record.

A third-party agent behind ``nightshift gateway`` is a registered agent identity.
It authenticates with a gateway token bound to that identity (``nsg_<agent>.<secret>``,
shown once, stored as a SHA-256 hash in the agent's settings): the agent's name
in the token makes the lookup one row, the secret makes it unguessable.

``resolve`` is read on every call, so a suspension, an owner's deactivation, a
review hold or a kill switch takes effect on the next call, not the next session.
It is the gateway's hot path, so it reads the agent, its owner and the engaged
kill switches as plain rows in one read transaction (no ORM objects), and
rebuilds the identity only when those rows changed since the last call.
Decisions and proposals are written to the hash-chained audit trail with the
intent the agent gave; a proposed write also opens a review item for a human.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from nightshift.domain import agent_codec
from nightshift.domain.access import Caller
from nightshift.domain.agents import AGENT_NAME, AgentIdentity, AgentStatus, Principal
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, Role, TrustPhase
from nightshift.governance.containment import KillSwitch
from nightshift.governance.decisions import Decision
from nightshift.observability.audit_chain import AuditEntry, decision_entry
from nightshift.services import review_queue
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Invalid, NotFound
from nightshift.services.identities import boundaries_from, load_agent
from nightshift.services.kill_switch import GLOBAL, KillSwitchService
from nightshift.services.review_queue import ReviewKind
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, KillSwitchRow, UserRow

GATEWAY_TOKEN_PREFIX = "nsg_"  # noqa: S105 - a public prefix
_TOKENS_KEY = "gateway_tokens"
_IDENTITIES_KEPT = 1024  # agents whose last identity is kept for the rows-unchanged case
_WHO = (
    select(
        AgentRow.name, AgentRow.authority_class, AgentRow.trust_phase, AgentRow.status,
        AgentRow.status_reason, AgentRow.boundaries, AgentRow.settings,
        UserRow.name, UserRow.kind, UserRow.roles, UserRow.contact, UserRow.active,
    )
    .join(UserRow, UserRow.id == AgentRow.owner_id)
)  # fmt: skip
_ENGAGED = select(KillSwitchRow.scope, KillSwitchRow.reason).where(KillSwitchRow.engaged.is_(True))
REVIEW_HOLD = "review_hold"  # the stored key of a demotion's review hold (services/phases.py)


class GatewayRefusal(Exception):
    """The caller may not use the gateway now; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class GatewayCaller:
    """An authenticated agent and the kill switch, read together for one call."""

    identity: AgentIdentity
    kill_switch: KillSwitch


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str] | None:
    if not token.startswith(GATEWAY_TOKEN_PREFIX) or len(token) > 160:
        return None
    agent, dot, secret = token[len(GATEWAY_TOKEN_PREFIX) :].partition(".")
    if not dot or not AGENT_NAME.match(agent) or len(secret) < 20:
        return None
    return agent, secret


def _on_hold(settings: Mapping[str, Any]) -> bool:
    hold = settings.get(REVIEW_HOLD)
    return bool(hold) and isinstance(hold, Mapping) and hold.get("reviewed_by") is None


def _refusal(
    identity: AgentIdentity, kill_switch: KillSwitch, on_hold: bool
) -> GatewayRefusal | None:
    """Why this identity may not act now, in ``decide()``'s order, plus the review hold."""
    name = identity.name
    killed = kill_switch.check(name)
    if killed is not None:
        return GatewayRefusal(killed.reason.value, killed.message)
    if not identity.owner.active:
        return GatewayRefusal(
            "owner_inactive",
            f"owner {identity.owner.id!r} of agent {name!r} is inactive; "
            "transfer ownership before it may act",
        )
    if not identity.may_act:
        why = identity.suspended_reason or "no reason given"
        return GatewayRefusal("agent_suspended", f"agent {name!r} is suspended ({why})")
    if on_hold:
        return GatewayRefusal(
            "review_hold",
            f"agent {name!r} was demoted and awaits human review; it may not act until then",
        )
    return None


def _identity(row: tuple[Any, ...]) -> AgentIdentity:
    """The identity from ``_WHO``'s columns, as services/identities.identity_of builds it."""
    (name, klass, phase, status, why, boundaries, settings,
     owner, kind, roles, contact, active) = row  # fmt: skip
    try:
        thresholds = agent_codec.thresholds_from((settings or {}).get("thresholds") or {})
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    principal = Principal(owner, owner, PrincipalKind(kind), frozenset(Role(r) for r in roles),
                          contact or None, active)  # fmt: skip
    return AgentIdentity(
        name=name, owner=principal, authority_class=AuthorityClass(klass),
        phase=TrustPhase(phase), boundaries=boundaries_from(boundaries or {}),
        status=AgentStatus(status), thresholds=thresholds, suspended_reason=why or None,
    )  # fmt: skip


def _kill_switch(rows: list[tuple[str, str]]) -> KillSwitch:
    """services/kill_switch.py's reading of the engaged switches."""
    agents = frozenset(s.split(":", 1)[1] for s, _ in rows if s.startswith("agent:"))
    glob = next((reason for s, reason in rows if s == GLOBAL), None)
    return KillSwitch(glob is not None, agents, glob or "")


def decision_record(
    identity: AgentIdentity,
    request: Mapping[str, Any],
    decision: Decision,
    *,
    intent: str,
    chain_id: str,
    extra: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """The audit record of one gateway decision, with the agent's intent."""
    entry = decision_entry(
        at=datetime.now(UTC),
        agent=identity,
        request=dict(request),
        decision=decision,
        intent=intent[:2000],
        chain_id=chain_id,
    )
    return replace(entry, extra={**entry.extra, "via": "gateway", **(extra or {})})


def _refusal_entry(identity: AgentIdentity, refused: GatewayRefusal, what: str) -> AuditEntry:
    return AuditEntry(
        at=datetime.now(UTC),
        actor=identity.name,
        owner=identity.owner.id,
        authority_class=identity.authority_class.value,
        phase=identity.phase.value,
        chain_id=None,
        intent="",
        request={"kind": "gateway", "mcp": what},
        decision="deny",
        reason=refused.reason,
        message=refused.message,
        extra={"via": "gateway"},
    )


class GatewayService:
    def __init__(self, db: Database, audit: AuditService, kill_switch: KillSwitchService) -> None:
        self._db = db
        self._audit = audit
        self._kill_switch = kill_switch
        self._known: dict[str, tuple[str, AgentIdentity]] = {}  # name -> (rows, identity)

    def issue_token(self, agent_name: str, caller: Caller, description: str = "") -> str:
        """A new gateway token for the agent, printed once; the issue is audited."""
        secret = secrets.token_urlsafe(32)
        token = f"{GATEWAY_TOKEN_PREFIX}{agent_name}.{secret}"
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            settings = dict(agent.settings or {})
            tokens = list(settings.get(_TOKENS_KEY) or [])
            tokens.append(
                {"id": new_id(), "hash": _hash(secret), "description": description,
                 "created_at": datetime.now(UTC).isoformat()}
            )  # fmt: skip
            settings[_TOKENS_KEY] = tokens
            agent.settings = settings
            entry = human_entry(
                caller,
                intent=description or "issue a gateway token",
                request={"gateway_token": agent_name},
                decision="issued",
            )
            self._audit.append_in(s, [entry])
        return token

    def revoke_tokens(self, agent_name: str, caller: Caller) -> int:
        """Revoke every gateway token of the agent; returns how many there were."""
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            settings = dict(agent.settings or {})
            count = len(settings.pop(_TOKENS_KEY, None) or [])
            agent.settings = settings
            entry = human_entry(
                caller,
                intent="revoke gateway tokens",
                request={"gateway_token": agent_name, "revoked": count},
                decision="revoked",
            )
            self._audit.append_in(s, [entry])
        return count

    def resolve(self, token: str, what: str = "") -> GatewayCaller:
        """The identity a token is bound to, if it may act now; else ``GatewayRefusal``.
        A known agent's refusal is audited (``what``: the MCP request it made)."""
        parsed = parse_token(token)
        if parsed is None:
            raise GatewayRefusal("unauthenticated", "send a Nightshift gateway token (nsg_...)")
        name, secret = parsed
        digest = _hash(secret)
        with self._db.read() as s:
            row = s.execute(_WHO.where(AgentRow.name == name)).first()
            engaged = [(str(a), str(b)) for a, b in s.execute(_ENGAGED).all()]
        if row is None:
            raise GatewayRefusal("unauthenticated", "unknown or revoked token")
        settings = row.settings or {}
        stored = [t.get("hash", "") for t in settings.get(_TOKENS_KEY) or []]
        if not any(hmac.compare_digest(h, digest) for h in stored):
            raise GatewayRefusal("unauthenticated", "unknown or revoked token")
        identity = self._identity_for(tuple(row))
        on_hold = _on_hold(settings)
        kill_switch = _kill_switch(engaged)
        refused = _refusal(identity, kill_switch, on_hold)
        if refused is not None:
            self._audit.append([_refusal_entry(identity, refused, what)])
            raise refused
        return GatewayCaller(identity, kill_switch)

    def _identity_for(self, row: tuple[Any, ...]) -> AgentIdentity:
        """Rebuilding an identity (boundaries, thresholds) costs more than reading it:
        kept per agent while its rows read the same."""
        seen, name = repr(row), str(row[0])
        known = self._known.get(name)
        if known is not None and known[0] == seen:
            return known[1]
        identity = _identity(row)
        if len(self._known) >= _IDENTITIES_KEPT:
            self._known.clear()
        self._known[name] = (seen, identity)
        return identity

    def record_decision(
        self,
        identity: AgentIdentity,
        request: Mapping[str, Any],
        decision: Decision,
        *,
        intent: str,
        chain_id: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        record = decision_record(
            identity, request, decision, intent=intent, chain_id=chain_id, extra=extra
        )
        self.append([record])

    def append(self, entries: Sequence[AuditEntry]) -> None:
        """Append records to the hash-chained trail in one transaction."""
        self._audit.append(entries)

    def record_proposal(
        self,
        identity: AgentIdentity,
        request: Mapping[str, Any],
        decision: Decision,
        *,
        status: str,
        intent: str,
        chain_id: str,
    ) -> str:
        """A write the agent asked for, recorded (never executed): an audit record
        and a review item, in one transaction. Returns the review item's id."""
        entry = decision_entry(
            at=datetime.now(UTC),
            agent=identity,
            request=dict(request),
            decision=decision,
            intent=intent[:2000],
            chain_id=chain_id,
        )
        item_id = new_id()
        more = {"via": "gateway", "proposal": status, "review_item": item_id}
        entry = replace(entry, extra={**entry.extra, **more})
        with self._db.transaction() as s:
            agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == identity.name))
            if agent_id is None:
                raise NotFound(f"no agent named {identity.name!r}")
            review_queue.enqueue(
                s,
                ReviewKind.GATEWAY_PROPOSAL,
                agent_id=agent_id,
                summary=f"{identity.name} proposed {request.get('tool')!r} ({status})",
                payload={**dict(request), "intent": entry.intent, "status": status,
                         "visible": decision.visible_to_operators},
                item_id=item_id,
            )  # fmt: skip
            self._audit.append_in(s, [entry])
        return item_id
