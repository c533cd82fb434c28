"""Alertmanager label matchers: parse ``name=value`` expressions and test label sets.

The syntax is Alertmanager's own (``=``, ``!=``, ``=~``, ``!~``; quoted values
with ``\\"``, ``\\\\`` and ``\\n`` escapes; bare values; ``{a="b", c=~"d"}``
lists), so a routing rule can be copied from an ``alertmanager.yml`` route.
Semantics follow Alertmanager too: regular expressions are anchored at both
ends, and a label that is absent matches as the empty string (``team=""``
selects alerts without a team; ``team!=""`` those with one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

MAX_EXPRESSION = 4096
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest operators first so "=~" is not read as "=" followed by "~".
_OPERATORS = ("=~", "!~", "!=", "=")


class MatcherError(ValueError):
    """An expression that is not a valid matcher (the message says where and why)."""


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(name: str, op: MatchOp, value: str) -> Matcher:
        pattern = None
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                pattern = re.compile(f"(?:{value})")
            except re.error as exc:
                raise MatcherError(
                    f"{name}{op.value}{value!r}: invalid regular expression: {exc}"
                ) from exc
        return Matcher(name, op, value, pattern)

    def matches(self, labels: Mapping[str, str]) -> bool:
        got = labels.get(self.name, "")
        if self.op is MatchOp.EQUAL:
            return got == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return got != self.value
        assert self._pattern is not None
        hit = self._pattern.fullmatch(got) is not None
        return hit if self.op is MatchOp.REGEX else not hit

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{quote(self.value)}"


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds (an empty list matches every alert)."""
    return all(m.matches(labels) for m in matchers)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse one matcher (``a="b"``) or a list (``{a="b", c=~"d"}`` or ``a="b", c="d"``)."""
    if len(text) > MAX_EXPRESSION:
        raise MatcherError(f"matcher expression longer than {MAX_EXPRESSION} characters")
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise MatcherError(f"{text!r}: a list opened with '{{' must close with '}}'")
        body = body[1:-1].strip()
    elif body.endswith("}"):
        raise MatcherError(f"{text!r}: unbalanced '}}'")
    if not body:
        return ()
    return tuple(_Scanner(body).matchers())


def parse_all(expressions: Iterable[str]) -> tuple[Matcher, ...]:
    """Parse each expression of a rule; all of them must hold together."""
    out: list[Matcher] = []
    for expression in expressions:
        out.extend(parse_matchers(expression))
    return tuple(out)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def matchers(self) -> list[Matcher]:
        out: list[Matcher] = []
        while True:
            out.append(self._matcher())
            self._skip_space()
            if self.pos >= len(self.text):
                return out
            if self.text[self.pos] != ",":
                raise self._error("expected ',' between matchers")
            self.pos += 1
            self._skip_space()
            if self.pos >= len(self.text):  # a trailing comma, as Alertmanager allows
                return out

    def _matcher(self) -> Matcher:
        self._skip_space()
        name_match = _NAME.match(self.text, self.pos)
        if name_match is None:
            raise self._error("expected a label name")
        name = name_match.group(0)
        self.pos = name_match.end()
        self._skip_space()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            raise self._error(f"expected one of {', '.join(_OPERATORS)} after {name!r}")
        self.pos += len(op)
        self._skip_space()
        value = self._quoted() if self.text[self.pos : self.pos + 1] == '"' else self._bare()
        return Matcher.of(name, MatchOp(op), value)

    def _quoted(self) -> str:
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\":
                nxt = self.text[self.pos + 1 : self.pos + 2]
                if nxt not in ('"', "\\", "n"):
                    raise self._error('unknown escape in a quoted value (use \\", \\\\ or \\n)')
                chars.append("\n" if nxt == "n" else nxt)
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                return "".join(chars)
            chars.append(ch)
            self.pos += 1
        raise self._error("unterminated quoted value")

    def _bare(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ',"{}':
            self.pos += 1
        value = self.text[start : self.pos].strip()
        if '"' in self.text[self.pos : self.pos + 1]:
            raise self._error("a quote inside a bare value; quote the whole value")
        return value

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _error(self, why: str) -> MatcherError:
        return MatcherError(f"{self.text!r} at position {self.pos}: {why}")
