"""Names and labels that are valid Kubernetes identifiers whatever the input.

Investigation ids, agent names and phases come from users and other systems;
the API server rejects a Job whose name is not a DNS-1123 label or a label
value longer than 63 characters, so every name we send passes through here.
Truncation keeps a short hash of the full input so two long inputs that share
a prefix never collide.
"""

from __future__ import annotations

import hashlib
import re

MAX_LABEL = 63  # DNS-1123 label and label-value limit
# Job names become the pods' job-name label and a pod name prefix; 63 minus the
# controller's random pod suffix keeps both valid.
MAX_JOB_NAME = 52

_NOT_LABEL_CHARS = re.compile(r"[^a-z0-9-]+")
_NOT_VALUE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_EDGE = re.compile(r"^[^a-z0-9]+|[^a-z0-9]+$")
_VALUE_EDGE = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


def _digest(raw: str, n: int = 8) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:n]


def dns_label(raw: str, *, max_len: int = MAX_LABEL, prefix: str = "") -> str:
    """A DNS-1123 label (lowercase alphanumerics and '-', alnum at both ends).

    Input that had to be changed or cut gets a hash suffix: ``a_b`` and ``a.b``
    must not both become ``a-b``.
    """
    cleaned = _EDGE.sub("", _NOT_LABEL_CHARS.sub("-", raw.lower()))
    full = f"{prefix}{cleaned}"
    if cleaned and cleaned == raw and len(full) <= max_len:
        return full
    suffix = _digest(raw)
    head = _EDGE.sub("", full[: max_len - len(suffix) - 1])
    return f"{head}-{suffix}" if head else suffix


def label_value(raw: str) -> str:
    """A label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends, or empty."""
    cleaned = _VALUE_EDGE.sub("", _NOT_VALUE_CHARS.sub("-", raw))
    if len(cleaned) <= MAX_LABEL and cleaned == raw:
        return cleaned
    suffix = _digest(raw)
    head = _VALUE_EDGE.sub("", cleaned[: MAX_LABEL - len(suffix) - 1])
    return f"{head}-{suffix}" if head else suffix


def job_name(investigation_id: str) -> str:
    return dns_label(investigation_id, max_len=MAX_JOB_NAME, prefix="ns-inv-")


def credential_secret_name(investigation_id: str) -> str:
    return f"{job_name(investigation_id)}-cred"


def service_account_name(agent: str, phase: str) -> str:
    """One ServiceAccount per agent and trust phase: the phase is part of the identity."""
    return dns_label(f"{agent}-{phase}", prefix="nsa-")
