"""The column layout every tool answer's tables share.

Left-aligned columns, ``padding`` spaces apart (three: kubectl's tabwriter
look), the last column never padded and no line ending in spaces. The
simulated world, the Kubernetes reads and every evidence source print their
tables this way so the reasoner splits a real answer exactly as it splits a
simulated one. It lives here, beside the tool protocol, because that is the
lowest layer all of them may import (sources, k8s and scenarios sit above
agent in the import-linter layers).
"""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], padding: int = 3) -> str:
    """Header first, then one line per row; a row may be shorter than the header."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in (headers, *rows):
        last = len(row) - 1
        cells = [c if i == last else c.ljust(widths[i] + padding) for i, c in enumerate(row)]
        lines.append("".join(cells).rstrip())
    return "\n".join(lines)
