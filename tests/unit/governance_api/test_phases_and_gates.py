"""Promotion is gated by evidence and sign-off; demotion is automatic and
blocks re-promotion until a human reviews it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import Domain, PrincipalKind, Role, TrustPhase
from nightshift.governance.evidence import EscalationRecord, IncidentRecord, RemediationRecord
from nightshift.services.ports import AgentRecords
from tests.support.control_plane import World

NOW = datetime.now(UTC)


class Recorded:
    """An evidence source with whatever records a test sets."""

    def __init__(self) -> None:
        self.by_agent: dict[str, AgentRecords] = {}

    def records(self, agent: str, since: datetime | None = None) -> AgentRecords:
        return self.by_agent.get(agent, AgentRecords())  # all of them: "at least" since


def _incidents(n: int, correct: int, phase: TrustPhase) -> tuple[IncidentRecord, ...]:
    domains = [
        frozenset({Domain.NETWORK}),
        frozenset({Domain.DATABASE}),
        frozenset({Domain.KUBERNETES}),
    ]
    return tuple(
        IncidentRecord(
            at=NOW - timedelta(hours=i), phase=phase, domains=domains[i % 3], correct=i < correct
        )
        for i in range(n)
    )


def _remediations(n: int, rolled_back: int, phase: TrustPhase) -> tuple[RemediationRecord, ...]:
    return tuple(
        RemediationRecord(
            at=NOW - timedelta(hours=i),
            phase=phase,
            action="restart-pod",
            approved_by="operator",
            completed=True,
            rolled_back=i < rolled_back,
        )
        for i in range(n)
    )


def _evidence(world: World) -> Recorded:
    source = Recorded()
    world.container.phases.evidence = source
    return source


def _register(world: World, name: str, klass: str, phase: str) -> None:
    from nightshift.services.demo_identities import DEMO_BOUNDARIES

    world.container.agents.register(
        name, owner="lead", authority_class=klass, trust_phase=phase, boundaries=DEMO_BOUNDARIES
    )


def test_the_gate_report_names_every_number_and_what_is_missing(
    client: TestClient, world: World
) -> None:
    _register(world, "fresh", "autonomous", "shadow")
    report = client.get("/v1/agents/fresh/gates", headers=world.auth("viewer")).json()
    assert (report["current"], report["target"], report["ready"]) == ("shadow", "assist", False)
    names = {g["name"] for g in report["gates"]}
    assert {"sample", "diagnostic_accuracy"} <= names or len(names) >= 3
    assert report["missing"]


def test_promotion_without_evidence_is_refused_and_nothing_changes(
    client: TestClient, world: World
) -> None:
    _register(world, "fresh", "autonomous", "shadow")
    resp = client.post(
        "/v1/agents/fresh/promote",
        json={"target": "assist", "reason": "looks ok"},
        headers=world.auth("lead"),
    )
    assert resp.status_code == 409
    assert "refused" in resp.json()["message"]
    assert (
        client.get("/v1/agents/fresh", headers=world.auth("viewer")).json()["trust_phase"]
        == "shadow"
    )


def test_promotion_on_evidence_moves_one_phase_and_is_recorded(
    client: TestClient, world: World
) -> None:
    _register(world, "fresh", "autonomous", "shadow")
    _evidence(world).by_agent["fresh"] = AgentRecords(
        incidents=_incidents(120, 118, TrustPhase.SHADOW)
    )
    client.post(
        "/v1/agents/fresh/signoffs",
        json={"target": "assist", "role": "ops-lead"},
        headers=world.auth("lead"),
    )
    resp = client.post(
        "/v1/agents/fresh/promote",
        json={"target": "assist", "reason": "118/120 correct in shadow"},
        headers=world.auth("lead"),
    )
    assert resp.status_code == 204, resp.text
    history = client.get("/v1/agents/fresh/phases", headers=world.auth("viewer")).json()
    assert [(h["kind"], h["to_phase"]) for h in history] == [
        ("registered", "shadow"),
        ("promoted", "assist"),
    ]


def test_a_promotion_that_skips_a_phase_is_refused(client: TestClient, world: World) -> None:
    _register(world, "fresh", "autonomous", "shadow")
    _evidence(world).by_agent["fresh"] = AgentRecords(
        incidents=_incidents(120, 118, TrustPhase.SHADOW)
    )
    resp = client.post(
        "/v1/agents/fresh/promote",
        json={"target": "limited-remediation", "reason": "hurry"},
        headers=world.auth("lead"),
    )
    assert resp.status_code == 409
    assert "skips" in resp.json()["message"]


def test_autonomy_needs_an_ops_lead_and_a_platform_owner_two_different_people(
    client: TestClient, world: World
) -> None:
    _register(world, "veteran", "autonomous", "limited-remediation")
    _evidence(world).by_agent["veteran"] = AgentRecords(
        remediations=_remediations(120, 0, TrustPhase.LIMITED_REMEDIATION),
        escalations=tuple(
            EscalationRecord(at=NOW, phase=TrustPhase.LIMITED_REMEDIATION, warranted=True)
            for _ in range(20)
        ),
    )
    p = world.container.principals
    p.create_user(
        "both",
        kind=PrincipalKind.HUMAN,
        roles=frozenset({Role.OPS_LEAD, Role.PLATFORM_OWNER}),
        contact="b@x.org",
    )
    both = {"Authorization": f"Bearer {p.create_token('both')}"}
    ok = client.post(
        "/v1/agents/veteran/signoffs",
        json={"target": "autonomous-l1", "role": "ops-lead"},
        headers=both,
    )
    assert ok.status_code == 201
    twice = client.post(
        "/v1/agents/veteran/signoffs",
        json={"target": "autonomous-l1", "role": "platform-owner"},
        headers=both,
    )
    assert twice.status_code == 409  # the same person cannot fill both roles
    refused = client.post(
        "/v1/agents/veteran/promote",
        json={"target": "autonomous-l1", "reason": "ready"},
        headers=world.auth("lead"),
    )
    assert refused.status_code == 409
    assert "platform-owner" in refused.json()["message"]
    p.create_user(
        "pat", kind=PrincipalKind.HUMAN, roles=frozenset({Role.PLATFORM_OWNER}), contact="pat@x.org"
    )
    pat = {"Authorization": f"Bearer {p.create_token('pat')}"}
    client.post(
        "/v1/agents/veteran/signoffs",
        json={"target": "autonomous-l1", "role": "platform-owner"},
        headers=pat,
    )
    done = client.post(
        "/v1/agents/veteran/promote",
        json={"target": "autonomous-l1", "reason": "gates met, both signed"},
        headers=world.auth("lead"),
    )
    assert done.status_code == 204, done.text


def test_signing_in_a_role_one_does_not_hold_is_refused(client: TestClient, world: World) -> None:
    resp = client.post(
        "/v1/agents/triage/signoffs",
        json={"target": "limited-remediation", "role": "platform-owner"},
        headers=world.auth("lead"),
    )
    assert resp.status_code == 403


def _demote_case(world: World, records: AgentRecords) -> list[str]:
    _register(world, "worn", "autonomous", "limited-remediation")
    _evidence(world).by_agent["worn"] = records
    return world.container.phases.check_demotions(NOW)


def test_demotion_fires_when_accuracy_drops_below_92_percent(world: World) -> None:
    records = AgentRecords(incidents=_incidents(50, 45, TrustPhase.LIMITED_REMEDIATION))
    assert _demote_case(world, records) == ["worn"]
    assert world.container.stewardship.identity("worn").phase is TrustPhase.ASSIST


def test_demotion_fires_when_rollbacks_exceed_2_percent(world: World) -> None:
    records = AgentRecords(remediations=_remediations(50, 2, TrustPhase.LIMITED_REMEDIATION))
    assert _demote_case(world, records) == ["worn"]


def test_demotion_fires_on_any_out_of_scope_action(world: World) -> None:
    records = AgentRecords(out_of_scope_actions=(NOW - timedelta(days=1),))
    assert _demote_case(world, records) == ["worn"]


def test_healthy_numbers_do_not_demote(world: World) -> None:
    records = AgentRecords(
        incidents=_incidents(50, 50, TrustPhase.LIMITED_REMEDIATION),
        remediations=_remediations(50, 0, TrustPhase.LIMITED_REMEDIATION),
    )
    assert _demote_case(world, records) == []


def test_re_promotion_waits_for_a_human_review_of_the_demotion(
    client: TestClient, world: World
) -> None:
    source = _evidence(world)
    _register(world, "worn", "autonomous", "assist")
    source.by_agent["worn"] = AgentRecords(out_of_scope_actions=(NOW - timedelta(days=1),))
    assert world.container.phases.check_demotions(NOW) == ["worn"]
    source.by_agent["worn"] = AgentRecords(incidents=_incidents(120, 118, TrustPhase.SHADOW))
    client.post(
        "/v1/agents/worn/signoffs",
        json={"target": "assist", "role": "ops-lead"},
        headers=world.auth("lead"),
    )
    blocked = client.post(
        "/v1/agents/worn/promote",
        json={"target": "assist", "reason": "again"},
        headers=world.auth("lead"),
    )
    assert blocked.status_code == 409
    assert "review" in blocked.json()["message"]
    reviews = client.get("/v1/reviews?kind=demotion_review", headers=world.auth("viewer")).json()
    assert len(reviews) == 1
    assert (
        client.post(
            "/v1/agents/worn/demotion-review",
            json={"reason": "fixed the prompt"},
            headers=world.auth("lead"),
        ).status_code
        == 204
    )


def test_the_same_evidence_demotes_only_once(world: World) -> None:
    records = AgentRecords(out_of_scope_actions=(NOW - timedelta(days=1),))
    assert _demote_case(world, records) == ["worn"]
    assert world.container.phases.check_demotions(NOW + timedelta(seconds=5)) == []
    assert world.container.stewardship.identity("worn").phase is TrustPhase.ASSIST


def test_evidence_after_a_demotion_demotes_again(world: World) -> None:
    source = _evidence(world)
    _register(world, "worn", "autonomous", "limited-remediation")
    source.by_agent["worn"] = AgentRecords(out_of_scope_actions=(NOW - timedelta(days=1),))
    assert world.container.phases.check_demotions(NOW) == ["worn"]
    later = NOW + timedelta(hours=1)
    source.by_agent["worn"] = AgentRecords(
        out_of_scope_actions=(NOW - timedelta(days=1), later - timedelta(minutes=1))
    )
    assert world.container.phases.check_demotions(later) == ["worn"]
    assert world.container.stewardship.identity("worn").phase is TrustPhase.SHADOW


def test_the_running_control_plane_demotes_on_its_own(world: World) -> None:
    from nightshift.api.app import create_app

    source = _evidence(world)
    _register(world, "worn", "autonomous", "limited-remediation")
    source.by_agent["worn"] = AgentRecords(
        out_of_scope_actions=(datetime.now(UTC) - timedelta(minutes=5),)
    )
    with TestClient(create_app(world.container, background=True)):
        phase = world.container.stewardship.identity("worn").phase
        for _ in range(100):  # the first reconcile pass runs at start-up
            if phase is not TrustPhase.LIMITED_REMEDIATION:
                break
            threading.Event().wait(0.05)
            phase = world.container.stewardship.identity("worn").phase
    assert phase is TrustPhase.ASSIST
    reviews = world.container.stewardship.reviews(kind="demotion_review")
    assert [r.summary.split()[0] for r in reviews] == ["worn"]
