"""API schemas for the change feed (/v1/changes and the worker's read of it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from nightshift.api.schemas import Strict
from nightshift.api.timestamps import Timestamp
from nightshift.domain.changes import ChangeKind
from nightshift.domain.vocabulary import Domain

_NAMESPACE = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_KIND = r"^[A-Za-z][A-Za-z0-9]{0,62}$"
_NAME = r"^[A-Za-z0-9]([-A-Za-z0-9_.:]{0,251}[A-Za-z0-9])?$"
# The sender's own id: a ticket, a commit, a firewall change number.
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:#-]{0,63}$"
# ``before`` is one object's prior state, not a dump: bounded so a sender cannot
# fill the store, and shallow enough to walk without recursion limits.
BEFORE_MAX_BYTES = 64 * 1024
BEFORE_MAX_DEPTH = 32
# Kinds whose state is a credential: never recorded, so never restored from here.
SECRET_KINDS = frozenset({"secret", "serviceaccounttoken", "tokenreview"})


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


class ObjectTarget(Strict):
    kind: str = Field(pattern=_KIND, description="Kubernetes-style kind, e.g. Deployment")
    name: str = Field(pattern=_NAME, max_length=253)
    namespace: str | None = Field(default=None, pattern=_NAMESPACE)


class ChangeIn(Strict):
    actor: str = Field(min_length=1, max_length=200, description="who made the change")
    summary: str = Field(min_length=1, max_length=500, description="what changed, one line")
    at: AwareDatetime = Field(description="when it took effect (RFC 3339 with offset)")
    target: ObjectTarget | str = Field(
        description="an object {kind, name, namespace} or free text (a firewall ruleset)"
    )
    kind: ChangeKind
    domain: Domain
    details: str = Field(default="", max_length=4000)
    link: str = Field(default="", max_length=2000, pattern=r"^(https?://\S+)?$")
    id: str | None = Field(default=None, pattern=REF_PATTERN)
    before: dict[str, Any] | None = Field(
        default=None,
        description=(
            'the target object\'s state before the change (e.g. {"spec": ...}), what '
            f"revert-change restores; a JSON object of at most {BEFORE_MAX_BYTES} bytes, "
            "never a Secret"
        ),
    )

    @field_validator("before")
    @classmethod
    def _before_bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("before: an empty object records nothing; omit it instead")
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > BEFORE_MAX_BYTES:
            raise ValueError(f"before: {size} bytes, at most {BEFORE_MAX_BYTES}")
        if _depth(value) > BEFORE_MAX_DEPTH:
            raise ValueError(f"before: nested deeper than {BEFORE_MAX_DEPTH} levels")
        if "status" in value:
            raise ValueError("before: status is the server's to set; send spec/metadata only")
        if str(value.get("kind", "")).lower() in SECRET_KINDS:
            raise ValueError("before: a Secret's state is never recorded")
        return value

    @model_validator(mode="after")
    def _no_secret_target(self) -> ChangeIn:
        target = self.target
        if self.before is not None:
            if not isinstance(target, ObjectTarget):
                raise ValueError("before: needs an object target {kind, name, namespace}")
            if target.kind.lower() in SECRET_KINDS:
                raise ValueError("before: a Secret's state is never recorded")
        return self

    @field_validator("target")
    @classmethod
    def _free_text_bounded(cls, value: ObjectTarget | str) -> ObjectTarget | str:
        if isinstance(value, str):
            text = " ".join(value.split())
            if not 1 <= len(text) <= 200:
                raise ValueError("a free-form target is 1-200 characters")
            return text
        return value

    @field_validator("actor", "summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("must be a single line")
        return value


# Spelled out, not derived: it reshapes the domain Change rather than copying a view
# (the target as its display text plus the object, the kind and domain as values).
class ChangeOut(BaseModel):
    id: str
    ref: str
    at: Timestamp
    actor: str
    summary: str
    details: str
    kind: str
    domain: str
    target: str
    target_object: dict[str, str] | None
    link: str
    submitted_by: str
    before: dict[str, Any] | None = None


class ChangesOut(BaseModel):
    changes: list[ChangeOut]


def parse_since(raw: str | None, now: datetime) -> datetime | None:
    """``?since=``: an RFC 3339 time or a duration back from now (``90m``, ``6h``, ``2d``)."""
    from datetime import timedelta

    if not raw:
        return None
    units = {"m": 60, "h": 3600, "d": 86400}
    if raw[-1:] in units and raw[:-1].isdigit():
        return now - timedelta(seconds=int(raw[:-1]) * units[raw[-1]])
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("since: an RFC 3339 time or a duration like 90m, 6h, 2d") from None
    if moment.tzinfo is None:
        raise ValueError("since: the time needs an offset (e.g. 2026-12-02T02:00:00Z)")
    return moment
