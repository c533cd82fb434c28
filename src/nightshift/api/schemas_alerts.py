"""API schemas of alert intake: Alertmanager's webhook (version 4), the generic
alert list, routing rules and the alert reads (docs/alerts.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nightshift.api.timestamps import Timestamp
from nightshift.api.view_models import view_model
from nightshift.domain.alerts import AlertStatus, IncomingAlert, fingerprint_of
from nightshift.domain.investigations import MAX_PRIORITY
from nightshift.domain.vocabulary import Tier
from nightshift.services.alert_store import AlertView

MAX_ALERTS = 1000
MAX_LABELS = 64
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_FINGERPRINT = r"^[A-Za-z0-9_.:-]{1,128}$"
_ZERO_YEAR = 1971  # Go's zero time (0001-01-01) means "no end yet"


def _labels(value: dict[str, str], what: str) -> dict[str, str]:
    for k, v in value.items():
        if not _LABEL_NAME.match(k):
            raise ValueError(f"{what}: {k[:64]!r} is not a label name")
        if len(v) > 8192:
            raise ValueError(f"{what}: value of {k!r} is longer than 8192 characters")
    return value


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.year < _ZERO_YEAR:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Alert(BaseModel):
    # Unknown fields are ignored so a newer Alertmanager keeps working; every
    # field we read is typed and bounded.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    labels: dict[str, str] = Field(min_length=1, max_length=MAX_LABELS)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=MAX_LABELS)
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", max_length=4096, alias="generatorURL")

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, v: dict[str, str]) -> dict[str, str]:
        return _labels(v, "labels")

    @field_validator("annotations")
    @classmethod
    def _check_annotations(cls, v: dict[str, str]) -> dict[str, str]:
        return _labels(v, "annotations")


class AlertmanagerAlert(_Alert):
    status: Literal["firing", "resolved"]
    starts_at: datetime = Field(alias="startsAt")
    fingerprint: str = Field(pattern=_FINGERPRINT)

    def to_domain(self) -> IncomingAlert:
        starts = _utc(self.starts_at) or datetime.now(UTC)
        return IncomingAlert(
            fingerprint=self.fingerprint,
            status=AlertStatus(self.status),
            labels=self.labels,
            annotations=self.annotations,
            starts_at=starts,
            ends_at=_utc(self.ends_at),
            generator_url=self.generator_url,
        )


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    version: Literal["4"]
    group_key: str = Field(min_length=1, max_length=4096, alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: str = Field(max_length=256)
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", max_length=4096, alias="externalURL")
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=MAX_ALERTS)


class GenericAlert(_Alert):
    """Any other source: Alertmanager's alert fields, fingerprint and times optional."""

    status: Literal["firing", "resolved"] | None = None
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    fingerprint: str | None = Field(default=None, pattern=_FINGERPRINT)

    def to_domain(self, now: datetime) -> IncomingAlert:
        ends = _utc(self.ends_at)
        status = self.status or ("resolved" if ends is not None and ends <= now else "firing")
        return IncomingAlert(
            fingerprint=self.fingerprint or fingerprint_of(self.labels),
            status=AlertStatus(status),
            labels=self.labels,
            annotations=self.annotations,
            starts_at=_utc(self.starts_at) or now,
            ends_at=ends,
            generator_url=self.generator_url,
        )


class GenericAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    alerts: list[GenericAlert] = Field(min_length=1, max_length=MAX_ALERTS)
    group_key: str | None = Field(
        default=None, max_length=4096, alias="groupKey", description="the sender's group, if any"
    )


class IntakeOut(BaseModel):
    received: int
    created: int
    updated: int
    groups: list[str]
    started: list[str] = Field(description="investigations this notification started")
    pending: int = Field(description="groups held back (storm limit, kill switch, full queue)")


AlertOut = view_model(AlertView, "AlertOut", module=__name__)


# Spelled out rather than derived from the alert view: it is a contract with the
# worker, and a field added to the view must not reach the worker unasked.
class WorkerAlert(BaseModel):
    """The stable shape the worker's list_alerts tool reads."""

    model_config = ConfigDict(from_attributes=True)

    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: Timestamp
    ends_at: Timestamp | None
    received_count: int


class WorkerAlertsOut(BaseModel):
    alerts: list[WorkerAlert]


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=63)
    matchers: list[str] = Field(
        default_factory=list,
        max_length=32,
        description='Alertmanager matchers, e.g. severity=~"critical|page" (all must hold)',
    )
    agent: str = Field(min_length=1, max_length=63)
    tier: Tier = Tier.SINGLE_DOMAIN
    priority: int = Field(default=2, ge=0, le=MAX_PRIORITY)
    group_by: list[str] = Field(default_factory=list, max_length=16)
    group_window_seconds: int = Field(default=300, ge=1, le=7 * 86400)
    max_per_minute: int = Field(default=0, ge=0, description="0: only the global limit")
    enabled: bool = True
    scenario: str | None = Field(
        default=None, max_length=128, description="investigate in this simulated scenario"
    )


class RouteOut(RouteIn):
    created_at: Timestamp
    updated_at: Timestamp
