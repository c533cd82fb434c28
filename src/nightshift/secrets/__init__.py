"""Secret brokers: per-investigation, per-domain, deadline-bounded credentials.

Only the contract is exported here; import a backend (``local``, ``vault``,
``fake``) explicitly so that hvac is loaded only where Vault is used.
"""

from nightshift.secrets.protocol import (
    AccessDenied,
    BrokerUnavailable,
    Credential,
    DeadlineExceeded,
    HandoffRefused,
    InvestigationContext,
    InvestigationEnded,
    LeaseKind,
    LeaseNotFound,
    LeaseNotRenewable,
    LeaseRecord,
    LeaseRecorder,
    LeaseState,
    OutOfScopeDomain,
    RevocationIncomplete,
    SecretBroker,
    SecretBrokerError,
    SecretNotFound,
    WorkerHandoff,
)

__all__ = [
    "AccessDenied",
    "BrokerUnavailable",
    "Credential",
    "DeadlineExceeded",
    "HandoffRefused",
    "InvestigationContext",
    "InvestigationEnded",
    "LeaseKind",
    "LeaseNotFound",
    "LeaseNotRenewable",
    "LeaseRecord",
    "LeaseRecorder",
    "LeaseState",
    "OutOfScopeDomain",
    "RevocationIncomplete",
    "SecretBroker",
    "SecretBrokerError",
    "SecretNotFound",
    "WorkerHandoff",
]
