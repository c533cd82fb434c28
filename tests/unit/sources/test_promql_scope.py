"""A confined agent's PromQL reaches only its namespaces: every vector selector
gets the namespace matcher, wherever it sits in the expression, and nothing
else in the query (functions, label lists, ranges, strings) is touched."""

from __future__ import annotations

import pytest

from nightshift.sources.promql_scope import PromQLScopeError, confine

NS = 'namespace=~"shop"'


@pytest.mark.parametrize(
    ("query", "confined"),
    [
        ("up", 'up{namespace=~"shop"}'),
        (
            'rate(http_requests_total{code="500"}[5m])',
            'rate(http_requests_total{code="500",namespace=~"shop"}[5m])',
        ),
        ('{__name__=~"kube_.+"}', '{__name__=~"kube_.+",namespace=~"shop"}'),
        ('job:rate5m{job="a",}', 'job:rate5m{job="a",namespace=~"shop"}'),
        ("x{}", 'x{namespace=~"shop"}'),
        ('x{namespace="db"}', 'x{namespace="db",namespace=~"shop"}'),  # ANDed: empty
        ('{"metric.with.dots"}', '{"metric.with.dots",namespace=~"shop"}'),
    ],
    ids=["bare name", "with matchers", "by __name__", "trailing comma", "empty braces",
         "own namespace", "quoted name"],
)  # fmt: skip
def test_each_kind_of_selector_gets_the_matcher(query: str, confined: str) -> None:
    assert confine(query, NS) == confined


@pytest.mark.parametrize(
    ("query", "confined"),
    [
        (
            "sum by (namespace) (rate(x[5m]))",
            'sum by (namespace) (rate(x{namespace=~"shop"}[5m]))',
        ),
        ("sum(rate(x[5m])) without (pod)", 'sum(rate(x{namespace=~"shop"}[5m])) without (pod)'),
        (
            "a / on(namespace) group_left(node) b",
            'a{namespace=~"shop"} / on(namespace) group_left(node) b{namespace=~"shop"}',
        ),
        ("max_over_time(x[1h:5m])", 'max_over_time(x{namespace=~"shop"}[1h:5m])'),
        ("x offset 5m > bool 5", 'x{namespace=~"shop"} offset 5m > bool 5'),
        ("topk(5, x) @ start()", 'topk(5, x{namespace=~"shop"}) @ start()'),
        (
            'label_replace(x, "d", "$1", "s", "(.*)")',
            'label_replace(x{namespace=~"shop"}, "d", "$1", "s", "(.*)")',
        ),
        (
            "x and y unless z",
            'x{namespace=~"shop"} and y{namespace=~"shop"} unless z{namespace=~"shop"}',
        ),
        (
            "x # a comment naming y\n+ z",
            'x{namespace=~"shop"} # a comment naming y\n+ z{namespace=~"shop"}',
        ),
        ("vector(1) + time()", "vector(1) + time()"),
    ],
    ids=["aggregation grouped first", "grouped after", "vector matching", "subquery",
         "offset and bool", "at modifier", "strings", "set operators", "comment", "no selector"],
)  # fmt: skip
def test_functions_label_lists_ranges_and_strings_stay_as_written(
    query: str, confined: str
) -> None:
    assert confine(query, NS) == confined


def test_a_brace_inside_a_string_is_not_a_selector() -> None:
    assert confine('x{path="/a}b"}', NS) == 'x{path="/a}b",namespace=~"shop"}'


@pytest.mark.parametrize(
    "query",
    [
        'x{job="a"',
        'x{job="unterminated}',
        "sum by (namespace (x)",
        "x[5m",
        "x}",
        "x{a{b}}",
        "x ? y",
    ],
)
def test_what_cannot_be_confined_is_refused(query: str) -> None:
    with pytest.raises(PromQLScopeError):
        confine(query, NS)
