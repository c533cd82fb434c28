"""The closed vocabularies of the domain (see docs/concepts.md).

Every enum here is a string enum so that values round-trip through JSON, the
database and YAML unchanged; ordering helpers live beside the enums whose
order carries meaning (authority class, trust phase).
"""

from __future__ import annotations

from enum import StrEnum


class Domain(StrEnum):
    """An operational domain an investigation may gather evidence from."""

    NETWORK = "network"
    DATABASE = "database"
    APPLICATION = "application"
    SECURITY = "security"
    KUBERNETES = "kubernetes"


class AuthorityClass(StrEnum):
    """How much autonomous decision-making an identity may exercise (a ceiling)."""

    ADVISORY = "advisory"
    SUPERVISED = "supervised"
    AUTONOMOUS = "autonomous"
    SELF_MODIFYING = "self-modifying"

    @property
    def rank(self) -> int:
        return _AUTHORITY_ORDER.index(self)


_AUTHORITY_ORDER = (
    AuthorityClass.ADVISORY,
    AuthorityClass.SUPERVISED,
    AuthorityClass.AUTONOMOUS,
    AuthorityClass.SELF_MODIFYING,
)


class TrustPhase(StrEnum):
    """Where an agent stands now on the evidence-gated promotion ladder."""

    SHADOW = "shadow"
    ASSIST = "assist"
    LIMITED_REMEDIATION = "limited-remediation"
    AUTONOMOUS_L1 = "autonomous-l1"

    @property
    def rank(self) -> int:
        return _PHASE_ORDER.index(self)

    def next(self) -> TrustPhase | None:
        i = self.rank + 1
        return _PHASE_ORDER[i] if i < len(_PHASE_ORDER) else None

    def previous(self) -> TrustPhase | None:
        i = self.rank - 1
        return _PHASE_ORDER[i] if i >= 0 else None


_PHASE_ORDER = (
    TrustPhase.SHADOW,
    TrustPhase.ASSIST,
    TrustPhase.LIMITED_REMEDIATION,
    TrustPhase.AUTONOMOUS_L1,
)


class Tier(StrEnum):
    """Complexity tier of an investigation; it sizes limits and breakers."""

    SINGLE_DOMAIN = "single-domain"
    MULTI_DOMAIN = "multi-domain"


class Role(StrEnum):
    """Roles a human (or service) token may carry."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    OPS_LEAD = "ops-lead"
    PLATFORM_OWNER = "platform-owner"
    ADMIN = "admin"
    # A service principal that may only submit alerts (Alertmanager's webhook).
    ALERT_SENDER = "alert-sender"
    # A service principal that may only post to the change feed (CI/CD, firewall automation).
    CHANGE_SENDER = "change-sender"


class PrincipalKind(StrEnum):
    """What kind of principal a user record is. Only humans may own agents."""

    HUMAN = "human"
    SERVICE = "service"


class InvestigationStatus(StrEnum):
    """Lifecycle of one investigation. Terminal states carry a reason."""

    QUEUED = "queued"
    HELD = "held"  # owner inactive or agent suspended: kept, not dispatched
    DISPATCHED = "dispatched"  # a worker unit was started, not yet reporting
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    ESCALATED = "escalated"  # finished without a confident answer, handed to humans
    FAILED = "failed"
    CANCELLED = "cancelled"
    DEADLINE_EXCEEDED = "deadline_exceeded"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        InvestigationStatus.SUCCEEDED,
        InvestigationStatus.ESCALATED,
        InvestigationStatus.FAILED,
        InvestigationStatus.CANCELLED,
        InvestigationStatus.DEADLINE_EXCEEDED,
    }
)
