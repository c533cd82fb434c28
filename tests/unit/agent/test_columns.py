"""The one column layout every tool answer's tables share."""

from __future__ import annotations

from nightshift.agent.tools.columns import table


def test_columns_are_left_aligned_three_spaces_past_the_widest_cell() -> None:
    text = table(["NAME", "AGE"], [["web-1", "5m"], ["a", "12d"]])
    assert text.split("\n") == [
        "NAME    AGE",
        "web-1   5m",
        "a       12d",
    ]


def test_the_last_column_is_never_padded_and_no_line_ends_in_spaces() -> None:
    text = table(["A", "B", "NOTE"], [["x", "", ""], ["longer", "y", "words here "]])
    assert all(line == line.rstrip() for line in text.split("\n"))
    assert text.split("\n")[2] == "longer   y   words here"


def test_padding_is_a_parameter_and_no_rows_gives_the_header_alone() -> None:
    assert table(["KEY", "VALUE"], [["k", "v"]], padding=1) == "KEY VALUE\nk   v"
    assert table(["KEY", "VALUE"], []) == "KEY   VALUE"


def test_a_short_row_leaves_the_columns_after_it_empty() -> None:
    assert table(["A", "B", "C"], [["one"]]).split("\n") == ["A     B   C", "one"]
