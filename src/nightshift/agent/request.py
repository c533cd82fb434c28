"""What an investigation is asked: a question or alert plus optional hints.

The control plane worker builds one from the investigation spec; embedders
build one directly. Hints narrow the search but are never required: a bare
question ("why is checkout slow?") is a valid request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nightshift.domain.vocabulary import Domain, Tier


@dataclass(frozen=True, slots=True)
class InvestigationRequest:
    question: str
    alert_labels: Mapping[str, str] = field(default_factory=dict)
    namespace: str | None = None
    resource: str | None = None  # "kind/name" or a bare name
    domains: tuple[Domain, ...] = ()
    tier: Tier = Tier.SINGLE_DOMAIN
    scenario: str | None = None

    @classmethod
    def of(cls, question_or_alert: str | InvestigationRequest) -> InvestigationRequest:
        if isinstance(question_or_alert, InvestigationRequest):
            return question_or_alert
        return cls(question=question_or_alert)

    def text(self) -> str:
        """Everything the reasoner may mine for names: question, labels, hints."""
        parts = [self.question, *(f"{k}={v}" for k, v in self.alert_labels.items())]
        if self.resource:
            parts.append(self.resource)
        return "\n".join(parts)
