"""What a source's toolset may know about the investigation it serves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nightshift.domain.agents import ALL_NAMESPACES
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig

if TYPE_CHECKING:
    import httpx

CredentialKey = tuple[Domain, str]


@dataclass(frozen=True, slots=True)
class SourceContext:
    """Built once per worker. ``credentials`` are this investigation's leases, keyed
    by (domain, broker source); ``control_plane`` is the worker's own client (its
    token reaches only this investigation's worker endpoints)."""

    investigation_id: str
    namespaces: frozenset[str]
    credentials: Mapping[CredentialKey, Mapping[str, str]] = field(default_factory=dict, repr=False)
    control_plane: httpx.AsyncClient | None = field(default=None, repr=False)
    declared: tuple[SourceConfig, ...] = ()

    @property
    def all_namespaces(self) -> bool:
        return ALL_NAMESPACES in self.namespaces

    def credential(self, source: SourceConfig) -> Mapping[str, str]:
        """The broker's credential for ``source`` (empty when none is stored)."""
        return self.credentials.get((source.domain, source.credential), {})

    def allows_namespace(self, namespace: str) -> bool:
        return self.all_namespaces or namespace in self.namespaces
