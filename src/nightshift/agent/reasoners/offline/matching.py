"""Pattern compilation and matching for the signal table (signals.py).

Each pattern carries the lower-case literals one of which every match must
contain; scanning for those with plain substring search first is what keeps a
300-alert storm within a few milliseconds per cycle.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

_I = re.IGNORECASE


@dataclass(frozen=True, slots=True)
class SignalPattern:
    signal: str
    regex: re.Pattern[str]
    sources: frozenset[str]  # "k8s" (get/describe/events), "log", "net", "db", "sec", "alert"
    # Lower-case substrings one of which any match must contain (None: no cheap
    # prefilter); skipping patterns whose literals are absent keeps cycles fast.
    literals: tuple[str, ...] | None = None


def compile_pattern(signal: str, pattern: str, *sources: str) -> SignalPattern:
    regex = re.compile(pattern, _I)
    where = set(sources or ("k8s", "log"))
    if "k8s" in where:  # alerts quote Kubernetes reasons and event messages verbatim
        where.add("alert")
    return SignalPattern(signal, regex, frozenset(where), _literals(pattern))


def _alternatives(pattern: str) -> list[str]:
    parts: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _longest_literal(alt: str) -> str:
    """The longest run of plain characters outside groups, quantifiers respected."""
    best, run, depth, i = "", "", 0, 0
    while i < len(alt):
        ch = alt[i]
        nxt = alt[i + 1] if i + 1 < len(alt) else ""
        if ch == "\\":
            run = ""  # an escape (\b, \d, \() ends a literal run
            i += 2
            continue
        if ch in "([":
            depth += 1
            run = ""
        elif ch in ")]":
            depth -= 1
            run = ""
        elif (
            depth == 0 and (ch.isalnum() or ch in " _:-/=<>'\"!,") and (not nxt or nxt not in "?*{")
        ):
            run += ch
            if len(run.strip()) > len(best.strip()):
                best = run
        else:
            run = ""
        i += 1
    return best.strip().lower()


def _literals(pattern: str) -> tuple[str, ...] | None:
    lits = [_longest_literal(alt) for alt in _alternatives(pattern)]
    return None if any(len(lit) < 3 for lit in lits) else tuple(lits)


_NEWLINE = re.compile("\n")
_FIELD = re.compile(r"^[A-Z][\w -]{0,30}:(\s|$)")
_IGNORED = re.compile(r"^Tolerations:|op=Exists|^node\.kubernetes\.io/")


def excerpt(line: str, start: int, end: int, width: int = 240) -> str:
    """The line, or for a long one (JSON logs) the part around the match."""
    if len(line) <= width:
        return line
    lo = max(0, min(start - width // 3, len(line) - width))
    cut = line[lo : lo + width]
    return ("..." if lo else "") + cut.strip() + ("..." if lo + width < len(line) else "")


def _candidate_lines(pattern: SignalPattern, text: str, lowered: str) -> list[int]:
    """Start offsets of lines holding one of the pattern's literals, in order."""
    starts: set[int] = set()
    for lit in pattern.literals or ():
        pos = lowered.find(lit)
        while pos != -1 and len(starts) < 4096:
            line_start = text.rfind("\n", 0, pos) + 1
            starts.add(line_start)
            nxt = text.find("\n", pos)
            pos = lowered.find(lit, nxt) if nxt != -1 else -1
    return sorted(starts)


def _hit(text: str, m_start: int, m_end: int) -> str | None:
    start = text.rfind("\n", 0, m_start) + 1
    end = text.find("\n", m_end)
    line = text[start : end if end != -1 else len(text)]
    stripped = line.strip()
    if _IGNORED.search(stripped):  # tolerations and probe specs name faults without having them
        return None
    if stripped.endswith(":") and end != -1:  # a heading: the detail is on the next line
        nxt = text.find("\n", end + 1)
        detail = text[end + 1 : nxt if nxt != -1 else len(text)].strip()
        if not _FIELD.match(detail):  # not when the next line is another field
            return f"{stripped} {detail}"[:240]
    offset = len(line) - len(line.lstrip())
    return excerpt(stripped, m_start - start - offset, m_end - start - offset)


def match_signals(
    patterns: Sequence[SignalPattern], text: str, source: str
) -> list[tuple[str, str]]:
    """(signal, matching line) pairs for patterns applicable to ``source``.

    Patterns with literals are only tried on the lines holding one of them,
    so a 300 KB log costs a few substring scans, not a hundred regex passes."""
    hits: list[tuple[str, str]] = []
    lowered = text.lower()
    present: dict[str, bool] = {}  # patterns share literals: scan the text once for each

    def has(lit: str) -> bool:
        found = present.get(lit)
        if found is None:
            found = present[lit] = lit in lowered
        return found

    for pattern in patterns:
        if source not in pattern.sources:
            continue
        if pattern.literals is not None and not any(has(lit) for lit in pattern.literals):
            continue
        if pattern.literals is None or "\\n" in pattern.regex.pattern:
            found = (_hit(text, m.start(), m.end()) for m in pattern.regex.finditer(text))
        else:
            found = (
                _hit(text, m.start(), m.end())
                for ls in _candidate_lines(pattern, text, lowered)
                for m in pattern.regex.finditer(text, ls, _line_end(text, ls))
            )
        line = next((h for h in found if h is not None), None)
        if line is not None:
            hits.append((pattern.signal, line))
    return hits


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return end if end != -1 else len(text)


def match_by_line(
    patterns: Sequence[SignalPattern], text: str, source: str, per_signal: int = 64
) -> dict[int, list[tuple[str, str]]]:
    """Signals per line of a table.

    Only lines containing one of a pattern's literals are searched (found with
    C-speed substring search), so a 300-alert storm stays in a few milliseconds."""
    starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
    lowered = text.lower()

    def line_at(idx: int) -> str:
        end = text.find("\n", starts[idx])
        return text[starts[idx] : end if end != -1 else len(text)]

    hits: dict[int, list[tuple[str, str]]] = {}
    for pattern in patterns:
        if source not in pattern.sources:
            continue
        if pattern.literals is None:
            lines = sorted(
                {bisect_right(starts, m.start()) - 1 for m in pattern.regex.finditer(text)}
            )
        else:
            found: set[int] = set()
            for lit in pattern.literals:
                pos = lowered.find(lit)
                while pos != -1:
                    idx = bisect_right(starts, pos) - 1
                    found.add(idx)
                    nxt = text.find("\n", pos)
                    pos = lowered.find(lit, nxt) if nxt != -1 else -1
            lines = sorted(found)
        count = 0
        for idx in lines:
            line = line_at(idx).strip()
            m = pattern.regex.search(line)  # once: it decides and places the excerpt
            if (pattern.literals is not None and m is None) or _IGNORED.search(line):
                continue
            shown = excerpt(line, m.start(), m.end()) if m else line[:240]
            hits.setdefault(idx, []).append((pattern.signal, shown))
            count += 1
            if count >= per_signal:
                break
    return hits
