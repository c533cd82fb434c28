"""Response models are derived from the services' views: a view field is declared
once, responses carry offsets on every time, and hidden fields stay hidden."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nightshift.api.schemas import AgentOut, InvestigationOut
from nightshift.api.schemas_governance import PhaseChangeOut
from nightshift.api.schemas_workflow import EscalationOut, ProposalOut, ReviewOut, VerdictOut
from nightshift.api.view_models import many, view_model
from nightshift.services.agents import AgentView
from nightshift.services.escalations import EscalationView
from nightshift.services.investigations import InvestigationView
from nightshift.services.phases import PhaseChange
from nightshift.services.proposals import ProposalView
from nightshift.services.reviews import ReviewView
from nightshift.services.verdicts import VerdictView


@dataclass(frozen=True, slots=True)
class _Sample:
    name: str
    at: datetime
    until: datetime | None
    labels: Mapping[str, Any]
    secret: str
    note: str = "none"


def _sample(**changes: Any) -> _Sample:
    base = _Sample("a", datetime(2026, 1, 2, 3, 4), None, {"k": "v"}, "s3cret")
    return dataclasses.replace(base, **changes)


def test_a_derived_model_reads_the_view_and_gives_every_time_an_offset() -> None:
    model = view_model(_Sample, "SampleOut", module=__name__)
    got = model.model_validate(_sample()).model_dump()
    assert got == {
        "name": "a",
        "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),  # naive means UTC
        "until": None,
        "labels": {"k": "v"},
        "secret": "s3cret",
        "note": "none",
    }
    assert model.__name__ == "SampleOut"
    assert model.model_json_schema()["required"] == ["name", "at", "until", "labels", "secret"]


def test_hidden_fields_stay_out_and_overrides_replace_or_add() -> None:
    model = view_model(
        _Sample,
        "SampleOut",
        module=__name__,
        hide=("secret",),
        fields={"note": (str | None, None), "extra": (int, 7)},
    )
    got = model.model_validate(_sample(note="n")).model_dump()
    assert "secret" not in got
    assert got["note"] == "n" and got["extra"] == 7
    assert list(model.model_fields) == ["name", "at", "until", "labels", "note", "extra"]


def test_hiding_a_field_the_view_does_not_have_is_an_error() -> None:
    with pytest.raises(ValueError, match="no field"):
        view_model(_Sample, "SampleOut", module=__name__, hide=("secrets",))


def test_many_is_a_list_of_the_model() -> None:
    model = view_model(_Sample, "SampleOut", module=__name__)
    assert many(model) == list[model]  # type: ignore[valid-type]


@pytest.mark.parametrize(
    ("out", "view", "hidden", "added"),
    [
        (ProposalOut, ProposalView, set(), set()),
        (VerdictOut, VerdictView, set(), set()),
        (EscalationOut, EscalationView, set(), set()),
        (ReviewOut, ReviewView, set(), {"proposals"}),
        (AgentOut, AgentView, {"boundaries"}, set()),
        (InvestigationOut, InvestigationView, {"spec", "reviewed_at"}, {"admission"}),
        (PhaseChangeOut, PhaseChange, set(), set()),
    ],
)
def test_each_response_model_has_its_views_fields(
    out: Any, view: type[Any], hidden: set[str], added: set[str]
) -> None:
    """A field added to a view reaches its response unless the response hides it."""
    declared = [f.name for f in dataclasses.fields(view)]
    assert list(out.model_fields) == [n for n in declared if n not in hidden] + sorted(added)


def test_derived_models_keep_their_public_schema_names(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ProposalOut", "VerdictOut", "EscalationOut", "ReviewOut", "AgentOut",
                 "InvestigationOut", "AlertOut", "PhaseChangeOut"):  # fmt: skip
        assert name in schemas, name
    assert "boundaries" not in schemas["AgentOut"]["properties"]
    assert {"spec", "reviewed_at"}.isdisjoint(schemas["InvestigationOut"]["properties"])
