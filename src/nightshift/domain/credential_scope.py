"""Which domains a worker's credential hand-off covers (pure).

The investigation's spec names the domains it investigates. An agent configured
with a model also needs the application domain, whatever the question: the
model's API key is that domain's ``llm`` credential. Decided when the unit is
claimed, from the agent's settings then, so a model configured after the
submission still gets its key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nightshift.domain.vocabulary import Domain


def credential_domains(
    spec_domains: Iterable[object] | None, agent_settings: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """The spec's domains in order, then ``application`` if the agent has a model
    and the spec did not name it. Names pass through unchecked: the broker refuses
    an unknown one, and the dispatch then fails closed."""
    domains = [str(d) for d in spec_domains or ()]
    if (agent_settings or {}).get("llm") and Domain.APPLICATION.value not in domains:
        domains.append(Domain.APPLICATION.value)
    return tuple(domains)
