"""Confine a PromQL query to an agent's namespaces by adding a label matcher to
every vector selector in it.

Why: ``prometheus_query`` takes free text, and that text can come from what the
agent read (a log line naming a metric, an alert's expression). Policy sees no
namespace in a query, so the source holds it to the agent's boundaries itself:
``rate(http_requests_total{code="500"}[5m])`` becomes
``rate(http_requests_total{code="500",namespace=~"shop|cart"}[5m])``. Every
selector gets the matcher, whatever matchers it already has: Prometheus ANDs
matchers on the same label, so a selector can narrow its namespace but never
widen it. Series without a namespace label (nodes, the cluster's own) are out
of a confined agent's reach, which is deny by default.

The rewrite works on tokens, not on a full grammar: a selector is a metric name
that is not a function, operator or keyword, or a bare ``{...}``. Anything it
cannot tokenize (an unterminated string, unbalanced braces) is refused, never
passed on; a rewrite Prometheus then rejects fails closed as a query error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that are operators or modifiers, never selectors.
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "atan2", "Inf", "NaN", "inf", "nan"}
)
# Aggregations, which may take their grouping before their argument: sum by (x) (...).
_AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
     "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)  # fmt: skip
# Words whose parenthesised list that follows names labels, not series.
_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)[a-zA-Z0-9]*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<open_brace>\{) | (?P<close_brace>\}) | (?P<open>[(\[]) | (?P<close>[)\]])
  | (?P<other>[-+*/%^=!<>~,@]+)
    """,
    re.VERBOSE,
)


class PromQLScopeError(ValueError):
    """The query could not be confined, so it is not run."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:
            raise PromQLScopeError(f"cannot read the query at {query[pos : pos + 20]!r}")
        kind = m.lastgroup or "other"
        out.append(_Token(kind, m.group()))
        pos = m.end()
    return out


def _next_code(tokens: list[_Token], i: int) -> int:
    """The index of the next token that is not space or a comment (len when none)."""
    while i < len(tokens) and tokens[i].kind == "space":
        i += 1
    return i


def _skip_group(tokens: list[_Token], i: int, out: list[str]) -> int:
    """Copies the balanced ``(...)`` starting at ``i``; returns the index after it."""
    depth = 0
    while i < len(tokens):
        text = tokens[i].text
        out.append(text)
        i += 1
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0:
                return i
    raise PromQLScopeError("a label list is not closed")


def _brackets(tokens: list[_Token], i: int, out: list[str]) -> int:
    """Copies ``[...]`` starting at ``i`` as it is; returns the index after it."""
    while i < len(tokens):
        out.append(tokens[i].text)
        i += 1
        if tokens[i - 1].text == "]":
            return i
    raise PromQLScopeError("a range is not closed")


def _braces(tokens: list[_Token], i: int, out: list[str], matcher: str) -> int:
    """Copies ``{...}`` starting at ``i`` with ``matcher`` added; the index after it."""
    body: list[str] = []
    i += 1
    while i < len(tokens) and tokens[i].kind != "close_brace":
        if tokens[i].kind == "open_brace":
            raise PromQLScopeError("a selector's braces are nested")
        body.append(tokens[i].text)
        i += 1
    if i == len(tokens):
        raise PromQLScopeError("a selector's braces are not closed")
    inner = "".join(body).strip().rstrip(",").strip()
    out.append("{" + (f"{inner},{matcher}" if inner else matcher) + "}")
    return i + 1


def confine(query: str, matcher: str) -> str:
    """``query`` with ``matcher`` (``namespace=~"a|b"``) in every vector selector."""
    tokens = _tokens(query)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "close_brace":
            raise PromQLScopeError("a closing brace has no selector")
        if token.kind == "open_brace":  # a bare selector: {__name__=~"..."}
            i = _braces(tokens, i, out, matcher)
            continue
        if token.text == "[":  # a range or subquery: durations, never series
            i = _brackets(tokens, i, out)
            continue
        if token.kind != "ident":
            out.append(token.text)
            i += 1
            continue
        out.append(token.text)
        after = _next_code(tokens, i + 1)
        follows = tokens[after].text if after < len(tokens) else ""
        if token.text in _LABEL_LISTS:
            out.extend(t.text for t in tokens[i + 1 : after])
            i = _skip_group(tokens, after, out) if follows == "(" else i + 1
            continue
        grouped = token.text in _AGGREGATIONS and follows in ("by", "without")
        if token.text in _KEYWORDS or follows == "(" or grouped:  # operator, call, aggregation
            i += 1
            continue
        if follows == "{":
            out.extend(t.text for t in tokens[i + 1 : after])
            i = _braces(tokens, after, out, matcher)
            continue
        out.append("{" + matcher + "}")
        i += 1
    return "".join(out)
