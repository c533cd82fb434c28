"""The 2 AM cascade: 300 alerts, four domains, and a firewall change before any symptom."""

from __future__ import annotations

from collections import Counter

from nightshift.domain.vocabulary import Domain
from nightshift.scenarios import load_scenario

SCENARIO = load_scenario("two-am-cascade")


def test_three_hundred_alerts_across_four_domains() -> None:
    assert len(SCENARIO.alerts) == 300
    assert {a.domain for a in SCENARIO.alerts} == {
        Domain.NETWORK,
        Domain.DATABASE,
        Domain.APPLICATION,
        Domain.SECURITY,
    }


def test_firewall_change_precedes_the_first_symptom() -> None:
    change = next(c for c in SCENARIO.changes if c.id == "CHG-20417")
    first_symptom = max(a.since for a in SCENARIO.alerts if a.symptom)  # seconds ago
    assert change.kind == "firewall"
    assert change.at > first_symptom


def test_database_alerts_are_loud_but_downstream() -> None:
    by_domain = Counter(a.domain for a in SCENARIO.alerts if a.symptom)
    assert by_domain[Domain.DATABASE] > by_domain[Domain.NETWORK]
    first_db = max(a.since for a in SCENARIO.alerts if a.domain is Domain.DATABASE and a.symptom)
    first_timeouts = max(a.since for a in SCENARIO.alerts if a.name == "UpstreamTimeoutRateHigh")
    assert first_timeouts > first_db


def test_ground_truth_is_the_firewall_change() -> None:
    truth = SCENARIO.ground_truth
    assert truth.fault == "firewall-rule-change"
    assert (truth.root_cause.kind, truth.root_cause.name) == ("Change", "CHG-20417")
    assert {r.action for r in truth.remediation} == {"revert-firewall-rule"}


def test_red_herrings_are_older_or_unrelated() -> None:
    herrings = [a for a in SCENARIO.alerts if not a.symptom]
    assert len(herrings) >= 5
    assert {a.domain for a in herrings} >= {Domain.NETWORK, Domain.SECURITY}
