"""Result tables as ``psql`` prints them (the shape engineers paste into tickets,
and the one the simulated world's database answers use)."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Statement text is shown verbatim for utility commands (CREATE ROLE ... PASSWORD
# '...'), in pg_stat_activity and pg_stat_statements alike: never pass it on.
_SECRET_LITERAL = re.compile(
    r"(?i)\b(password|passwd|secret|token|api_key|apikey)(\s*(?:=|to)?\s*)'(?:[^']|'')*'"
)


def _numeric(cell: str) -> bool:
    return cell.replace(".", "", 1).replace("-", "", 1).isdigit()


def psql_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    head = " " + " | ".join(h.center(widths[i]) for i, h in enumerate(headers))
    sep = "-" + "-+-".join("-" * w for w in widths) + "-"
    body = [
        " "
        + " | ".join(
            cell.rjust(widths[i]) if _numeric(cell) else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
    count = f"({len(rows)} row{'' if len(rows) == 1 else 's'})"
    return "\n".join([head.rstrip(), sep, *body, count])


def scrub(text: str | None) -> str:
    """Statement text on one line, password-like literals masked."""
    return _SECRET_LITERAL.sub(r"\1\2'***'", " ".join((text or "").split()))


def one_line(text: str | None, limit: int) -> str:
    """A query or message on one line, cut to ``limit`` characters."""
    flat = scrub(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = max(0.0, seconds)
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"
