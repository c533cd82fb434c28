"""One word for a phase: every phase field the API publishes is the TrustPhase enum,
so a client sees the values it can take (issue 18: phase was typed three ways)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import TrustPhase

PHASE = {"$ref": "#/components/schemas/TrustPhase"}
MAYBE_PHASE = [PHASE, {"type": "null"}]
# Phase fields whose name does not say "phase": gate progress from one phase to the next.
OTHER_NAMES = {("AgentGatesOut", "current"), ("AgentGatesOut", "target")}


def _phase_fields(schemas: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (model, prop): spec
        for model, schema in schemas.items()
        for prop, spec in (schema.get("properties") or {}).items()
        if "phase" in prop or (model, prop) in OTHER_NAMES
    }


def test_every_phase_field_in_the_schema_is_the_trust_phase_enum(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["TrustPhase"]["enum"] == [p.value for p in TrustPhase]
    fields = _phase_fields(schemas)
    # The responses that carry a phase, under their names of old.
    assert {
        ("InvestigationOut", "trust_phase"),
        ("AgentOut", "trust_phase"),
        ("ProposalOut", "phase"),
        ("VerdictOut", "phase"),
        ("EscalationOut", "phase"),
        ("PhaseChangeOut", "from_phase"),
        ("PhaseChangeOut", "to_phase"),
        ("WorkerBriefing", "trust_phase"),
    } | OTHER_NAMES <= set(fields)
    for where, spec in fields.items():
        typed = spec.get("anyOf", [spec])
        assert [{k: v for k, v in t.items() if k != "default"} for t in typed] in (
            [PHASE],
            MAYBE_PHASE,
        ), where
