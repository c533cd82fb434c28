"""The toolset protocol: self-describing, read-only tools returning text.

Text is primary (kubectl's own formats wherever kubectl can show the thing) so
that any recorded kubectl session can be replayed into the reasoner; ``data``
is an optional structured sidecar that a reasoner may use but must not need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from nightshift.domain.vocabulary import Domain


class ToolStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"
    TIMEOUT = "timeout"
    DENIED = "denied"  # the policy wrapper refused the call


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    domain: Domain
    parameters: Mapping[str, Any]  # JSON schema of the params object
    read_only: bool = True
    cost_hint: float = 1.0  # relative cost; 1.0 = one cheap API read


@dataclass(frozen=True, slots=True)
class ToolResult:
    status: ToolStatus
    text: str
    data: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Toolset(Protocol):
    """Anything the agent can ask questions of."""

    def specs(self) -> Sequence[ToolSpec]: ...

    async def call(self, call: ToolCall) -> ToolResult: ...
