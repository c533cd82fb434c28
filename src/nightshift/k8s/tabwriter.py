"""Go's ``text/tabwriter`` (left-aligned, space padding), as kubectl uses it.

kubectl writes every table and every ``describe`` through a tabwriter: cells
end with a tab, the text after a line's last tab is not part of any column,
and a column's width is set by the *block* of consecutive lines that have a
cell in it. That last rule is why ``describe`` aligns ``Name:`` with
``Namespace:`` but not with ``Containers:``'s children; copying the algorithm
is the only way to print what kubectl prints for objects nobody has seen.
"""

from __future__ import annotations

from collections.abc import Iterable

GET_MINWIDTH, GET_PADDING = 6, 3  # kubectl get (printers.GetNewTabWriter)
DESCRIBE_MINWIDTH, DESCRIBE_PADDING = 0, 2  # kubectl describe (tabbedString)


def _format(
    lines: list[list[str]],
    widths: list[int],
    line0: int,
    line1: int,
    minwidth: int,
    padding: int,
    out: list[str],
) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write(lines, widths, line0, this, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        _format(lines, [*widths, width], line0, this, minwidth, padding, out)
        line0 = this
    _write(lines, widths, line0, line1, out)


def _write(
    lines: list[list[str]], widths: list[int], line0: int, line1: int, out: list[str]
) -> None:
    for cells in lines[line0:line1]:
        text = "".join(
            cell.ljust(widths[j]) if j < len(widths) else cell for j, cell in enumerate(cells)
        )
        out.append(text.rstrip())


def tabwrite(text: str, *, minwidth: int, padding: int) -> str:
    """Align ``text`` (tab-separated cells, newline-terminated lines) like Go does.

    Trailing blanks are dropped from every line: kubectl leaves some after
    empty last cells, and they carry nothing a reader needs.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines.pop()
    out: list[str] = []
    _format(lines, [], 0, len(lines), minwidth, padding, out)
    return "\n".join(out) + ("\n" if trailing_newline else "")


def table(rows: Iterable[Iterable[str]]) -> str:
    """``kubectl get``'s layout: one tab-separated row per line, header first."""
    body = "".join("\t".join(row) + "\n" for row in rows)
    return tabwrite(body, minwidth=GET_MINWIDTH, padding=GET_PADDING).rstrip("\n")


def flushed(sections: Iterable[str]) -> str:
    """Describe output where each section was flushed on its own (``w.Flush()``)."""
    return "".join(
        tabwrite(s, minwidth=DESCRIBE_MINWIDTH, padding=DESCRIBE_PADDING) for s in sections
    )
