"""Tables and flags shared by every command.

Ids and names in a table are what a user types into the next command, so
they are never wrapped or cut: their columns get the width of their longest
value and the other columns give way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

import typer
from rich.table import Column, Table

# Typer renders a flag's type as ``<bool>``, which reads as if the flag took a
# value; an empty metavar shows the flag alone (every flag here sets one).
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output", metavar="")]


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    whole: Iterable[str] = ("id", "name"),
    title: str | None = None,
) -> Table:
    """A table whose ``whole`` columns always show every character of every cell."""
    materialized = [list(r) for r in rows]
    keep = set(whole)
    columns = []
    for i, head in enumerate(headers):
        if head in keep:
            width = max([len(head), *(len(r[i]) for r in materialized)])
            columns.append(Column(head, no_wrap=True, min_width=width))
        else:
            columns.append(Column(head))
    out = Table(*columns, title=title, title_justify="left")
    for r in materialized:
        out.add_row(*r)
    return out
