"""``SimulatedWorld``: a Toolset answering the canonical tools from a scenario.

It owns a private, mutable copy of the scenario's world state, so remediation
actions change what later tool calls see while the loaded scenario stays
untouched. Every answer is deterministic: the clock is the scenario's ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from nightshift.agent.tools.catalog import BY_NAME, CATALOG
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.agent.tools.schema import schema_problems
from nightshift.domain.diagnosis import ResourceRef
from nightshift.scenarios import tools_kube, tools_nodes, tools_signals
from nightshift.scenarios.actions import ActionOutcome, Target, execute, symptoms
from nightshift.scenarios.loader import load_scenario
from nightshift.scenarios.model import Scenario, WorldState
from nightshift.scenarios.undo import Done, is_undo, record, undone

Handler = Callable[[WorldState, datetime, Mapping[str, Any]], ToolResult]

_HANDLERS: dict[str, Handler] = {
    "kubectl_get": tools_kube.kubectl_get,
    "kubectl_describe": tools_kube.kubectl_describe,
    "kubectl_logs": tools_kube.kubectl_logs,
    "kubectl_events": tools_kube.kubectl_events,
    "kubectl_rollout_history": tools_kube.kubectl_rollout_history,
    "kubectl_top": tools_kube.kubectl_top,
    "list_alerts": tools_signals.list_alerts,
    "recent_changes": tools_signals.recent_changes,
    "prometheus_query": tools_signals.prometheus_query,
    "logs_search": tools_signals.logs_search,
    "network_check": tools_signals.network_check,
    "firewall_rules": tools_signals.firewall_rules,
    "dns_lookup": tools_signals.dns_lookup,
    "db_stats": tools_signals.db_stats,
    "security_events": tools_signals.security_events,
    "node_diagnostics": tools_nodes.node_diagnostics,
}


def _error(message: str) -> ToolResult:
    return ToolResult(ToolStatus.ERROR, message, None, message)


class SimulatedWorld:
    """The simulated incident world for one scenario (see docs/scenarios.md)."""

    def __init__(self, scenario: Scenario | str | Path) -> None:
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.scenario = loaded
        # Tools only read the state, so it shares the scenario's objects until the
        # first action: a deep copy per world cost ~40 ms (and twice the memory of
        # the alerts) for every investigation, and grew with the storm.
        self.state: WorldState = WorldState.model_validate(
            {name: getattr(loaded, name) for name in WorldState.model_fields}
        )
        self._owned = False
        self.now: datetime = loaded.metadata.now
        self._actions = 0
        self._done: list[Done] = []  # executed actions, newest last, for undo

    @property
    def name(self) -> str:
        return self.scenario.metadata.name

    def specs(self) -> Sequence[ToolSpec]:
        return CATALOG

    async def call(self, call: ToolCall) -> ToolResult:
        return self.call_sync(call)

    def call_sync(self, call: ToolCall) -> ToolResult:
        """The same answer as ``call``, for callers without an event loop."""
        spec = BY_NAME.get(call.name)
        handler = _HANDLERS.get(call.name)
        if spec is None or handler is None:
            known = ", ".join(sorted(_HANDLERS))
            return _error(f"unknown tool '{call.name}' (this world answers: {known})")
        problems = schema_problems(call.params, spec.parameters)
        if problems:
            return _error(f"{call.name}: invalid params: " + "; ".join(problems))
        try:
            return handler(self.state, self.now, dict(call.params))
        except Exception as exc:  # a scenario quirk must not crash the agent loop
            return _error(f"{call.name}: the simulated world failed to answer: {exc!r}")

    def apply_action(
        self,
        action_type: str,
        target: ResourceRef | str,
        params: Mapping[str, Any] | None = None,
        *,
        dry_run: bool = False,
    ) -> ActionOutcome:
        """Execute (or with ``dry_run`` only validate) a remediation on the world."""
        args = dict(params or {})
        dry = dry_run or bool(args.pop("dry_run", False))
        if isinstance(target, ResourceRef):
            if target.namespace and "namespace" not in args:
                args["namespace"] = target.namespace
            text = f"{target.kind.lower()}/{target.name}"
        else:
            text = target
        target_ref = Target.parse(text, args.get("namespace"))
        if not self._owned:  # copy on the first write: the scenario stays as loaded
            self.state = self.state.model_copy(deep=True)
            self._owned = True
        last = self._done[-1] if self._done else None
        if last is not None and is_undo(last, action_type, target_ref, args):
            outcome = undone(last, action_type, text, dry)
            if not dry:
                self._done.pop()
                self._actions += 1
                self.state = last.before
                record(self.state, action_type, text, self._actions)
            return outcome
        before = self.state.model_copy(deep=True)
        if not dry:
            self._actions += 1
        outcome = execute(self.scenario, self.state, action_type, text, args, dry, self._actions)
        if outcome.ok and not dry:
            self._done.append(Done(outcome.action_type, target_ref, before))
        return outcome

    def symptoms_present(self) -> bool:
        """True while any alert the scenario marks as a symptom is still firing."""
        return symptoms(self.state)
