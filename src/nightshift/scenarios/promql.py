"""Just enough PromQL to answer a query from stored series.

The world stores each series as it would come out of the query an operator
would write (a rate, a ratio, a quantile), so evaluation is selection: find the
metric names the query mentions and apply their label matchers. Functions,
ranges and aggregations are accepted and ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from nightshift.scenarios.cluster import stable_int
from nightshift.scenarios.model import MetricSeries

_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


@dataclass(frozen=True, slots=True)
class Selector:
    metric: str | None
    matchers: tuple[tuple[str, str, str], ...]


class PromQLError(ValueError):
    pass


def _matchers(body: str) -> tuple[tuple[str, str, str], ...]:
    out: list[tuple[str, str, str]] = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        m = _MATCHER.match(body, pos)
        if m is None:
            raise PromQLError(f'bad label matcher near "{body[pos:]}"')
        out.append((m.group(1), m.group(2), m.group(3)))
        pos = m.end()
    return tuple(out)


def selectors(query: str, known: set[str]) -> list[Selector]:
    """Every ``metric{matchers}`` in the query whose metric is one of ``known``."""
    if query.count("{") != query.count("}") or query.count("(") != query.count(")"):
        raise PromQLError("unbalanced brackets")
    found: list[Selector] = []
    # blank out string literals so words inside label values are not taken for metrics
    masked = _STRING.sub(lambda s: '"' + " " * (len(s.group(0)) - 2) + '"', query)
    for m in _IDENT.finditer(masked):
        name = m.group(0)
        rest = query[m.end() :]
        matchers: tuple[tuple[str, str, str], ...] = ()
        if rest.startswith("{"):
            matchers = _matchers(rest[1 : rest.index("}")])
        if name in known:
            found.append(Selector(name, matchers))
    if not found and query.strip().startswith("{"):
        matchers = _matchers(query.strip()[1 : query.index("}")])
        names = [v for k, op, v in matchers if k == "__name__" and op == "="]
        found.append(
            Selector(names[0] if names else None, tuple(x for x in matchers if x[0] != "__name__"))
        )
    return found


def matches(series: MetricSeries, selector: Selector) -> bool:
    if selector.metric is not None and series.name != selector.metric:
        return False
    for key, op, value in selector.matchers:
        actual = series.labels.get(key, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op in ("=~", "!~"):
            try:
                hit = re.fullmatch(value, actual) is not None
            except re.error as exc:
                raise PromQLError(f"bad regex {value!r}: {exc}") from exc
            if hit != (op == "=~"):
                return False
    return True


def value_at(series: MetricSeries, ago: int) -> float | None:
    """The series' value ``ago`` seconds before now (None before the series begins)."""
    if series.values:
        index = len(series.values) - 1 - ago // max(series.step, 1)
        return series.values[index] if 0 <= index < len(series.values) else None
    shape = series.shape
    if shape is None:
        return None
    if ago >= shape.at:
        base = shape.baseline
    elif shape.ramp and ago > shape.at - shape.ramp:
        base = shape.baseline + (shape.value - shape.baseline) * (shape.at - ago) / shape.ramp
    else:
        base = shape.value
    if shape.jitter:
        wobble = (
            stable_int(f"{series.name}{sorted(series.labels.items())}{ago // 60}", 2001) - 1000
        ) / 1000
        base *= 1 + shape.jitter * wobble
    return base


def format_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def series_label(series: MetricSeries) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(series.labels.items()))
    return f"{series.name}{{{inner}}}"
