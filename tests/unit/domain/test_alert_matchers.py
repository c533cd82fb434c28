"""Alertmanager matcher syntax and semantics, as routing rules use them."""

from __future__ import annotations

import pytest

from nightshift.domain.alert_matchers import (
    MatcherError,
    MatchOp,
    matches_all,
    parse_all,
    parse_matchers,
)

LABELS = {"alertname": "CheckoutLatencyHigh", "severity": "page", "namespace": "shop"}


def test_each_operator_parses_with_its_name_and_value() -> None:
    ops = [m.op for m in parse_matchers('{a="1", b!="2", c=~"3", d!~"4"}')]
    assert ops == [MatchOp.EQUAL, MatchOp.NOT_EQUAL, MatchOp.REGEX, MatchOp.NOT_REGEX]
    (m,) = parse_matchers('severity=~"critical|page"')
    assert (m.name, m.value) == ("severity", "critical|page")


def test_regex_matchers_are_anchored_like_alertmanagers() -> None:
    (m,) = parse_matchers('severity=~"crit"')
    assert not m.matches({"severity": "critical"})
    (m,) = parse_matchers('severity=~"crit.*"')
    assert m.matches({"severity": "critical"})


def test_a_missing_label_matches_as_the_empty_string() -> None:
    assert matches_all(parse_matchers('team=""'), LABELS)
    assert not matches_all(parse_matchers('team!=""'), LABELS)
    assert matches_all(parse_matchers('alertname!="Watchdog"'), LABELS)


def test_a_list_matches_only_when_every_matcher_holds() -> None:
    rule = parse_matchers('{severity=~"critical|page", alertname!="Watchdog", namespace="shop"}')
    assert matches_all(rule, LABELS)
    assert not matches_all(rule, {**LABELS, "alertname": "Watchdog"})
    assert not matches_all(rule, {**LABELS, "severity": "info"})


def test_quoted_values_keep_escapes_commas_and_braces() -> None:
    (m,) = parse_matchers(r'summary="a \"quoted\", {braced} \\ value"')
    assert m.value == 'a "quoted", {braced} \\ value'
    assert parse_matchers(str(m)) == (m,)  # str() round-trips


def test_bare_values_trailing_commas_and_separate_expressions_parse() -> None:
    assert [str(m) for m in parse_matchers("severity=page, team = db,")] == [
        'severity="page"',
        'team="db"',
    ]
    assert len(parse_all(['severity="page"', '{team="db", env!~"dev|test"}'])) == 3


def test_an_empty_list_matches_every_alert() -> None:
    assert parse_matchers("{}") == ()
    assert matches_all(parse_all([]), LABELS)


@pytest.mark.parametrize(
    "bad",
    [
        'severity="page',  # unterminated
        "severity",  # no operator
        '="x"',  # no name
        '{severity="page"',  # unclosed list
        'severity="page" team="x"',  # missing comma
        'severity=~"(unclosed"',  # bad regex
        r'a="\q"',  # unknown escape
        "9lives=x",  # a label name cannot start with a digit
    ],
)
def test_malformed_expressions_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(MatcherError):
        parse_matchers(bad)
