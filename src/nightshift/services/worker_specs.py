"""What a worker is told at admission: the typed spec, with the evidence sources
its agent may read (cut to the agent's domain boundaries here, in the control
plane, so a worker never learns of a source it may not use)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from nightshift.domain.vocabulary import Domain, Tier
from nightshift.services.errors import Invalid
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.worker_spec import WorkerSpec, simulated_source

CONTROL_PLANE_FEED = SourceConfig(
    name="nightshift-feed", kind=SourceKind.CHANGES, domain=Domain.APPLICATION
)


class EvidenceSources(Protocol):
    """The deployment's declared sources (the sources file)."""

    def allowed(self, domains: Sequence[Domain]) -> Sequence[SourceConfig]: ...


class NoSources:
    """No sources file: only simulated scenarios can be investigated."""

    def allowed(self, domains: Sequence[Domain]) -> Sequence[SourceConfig]:
        return ()


def spec_for(
    *,
    question: str,
    scenario: str | None,
    tier: Tier,
    domains: Sequence[Domain],
    boundary_domains: Sequence[Domain],
    namespace: str | None,
    alert: Mapping[str, str],
    deadline_seconds: int,
    chain_header: str | None,
    origin: Mapping[str, str],
    sources: EvidenceSources,
) -> dict[str, Any]:
    """The stored spec (JSON) for one admitted investigation."""
    if scenario is not None:
        chosen: tuple[SourceConfig, ...] = (simulated_source(scenario),)
        wanted = tuple(domains)
    else:
        granted = set(boundary_domains)
        wanted = tuple(d for d in (domains or boundary_domains) if d in granted)
        chosen = tuple(sources.allowed(wanted))
        if not chosen:
            raise Invalid(
                "no evidence source this agent may read is configured: declare sources in "
                "NIGHTSHIFT_SOURCES_FILE (docs/sources.md) within the agent's domains "
                f"({', '.join(sorted(d.value for d in wanted)) or 'none'}), or name a scenario"
            )
        if not domains:  # the credentials the worker needs: its sources' domains
            wanted = tuple(sorted({s.domain for s in chosen}, key=lambda d: d.value))
        if not any(s.kind is SourceKind.CHANGES for s in chosen):
            # Nightshift's own feed (changes posted to it, the alerts it received) is
            # always read: the 2 AM cause is often a change made outside the cluster.
            chosen = (*chosen, CONTROL_PLANE_FEED)
    spec = WorkerSpec(
        question=question,
        tier=tier,
        namespace=namespace,
        domains=wanted,
        sources=chosen,
        alert=dict(alert),
        deadline_seconds=deadline_seconds,
        chain_header=chain_header,
        origin=dict(origin),
    )
    return spec.model_dump(mode="json", exclude_none=True)
