"""What every benchmark runner publishes goes through bench.publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import publish


def test_percentile_is_the_nearest_sample_and_zero_for_none() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert publish.percentile(values, 0.5) == 3.0
    assert publish.percentile(values, 0.99) == 5.0
    assert publish.percentile(values, 0.0) == 1.0
    assert publish.percentile([], 0.99) == 0.0


def test_a_report_is_written_under_results_with_a_final_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "RESULTS", tmp_path / "results")
    text = publish.write_report("demo", ["# Demo", "", "| measure | value |"])
    assert text == "# Demo\n\n| measure | value |\n"
    assert (tmp_path / "results" / "demo.md").read_text() == text


def test_a_figure_is_saved_as_png_when_the_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    with publish.figure(path, 1, 2, figsize=(4, 2)) as (left, right):
        left.bar(["a", "b"], [1, 2])
        right.plot([0, 1], [1, 0])
        assert not path.exists()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_machine_line_names_cores_and_python() -> None:
    assert " cores, Python 3." in publish.machine()


def test_the_target_table_marks_a_miss_and_leaves_a_reference_row_unjudged() -> None:
    checks = [
        publish.Check("p99 < 250 ms", "155 ms", 155 < 250),
        publish.Check("zero lost", "2", False),
        publish.reference("accepted per second: 25"),
    ]
    assert publish.target_table(checks) == [
        "| target | value | |",
        "|---|---|---|",
        "| p99 < 250 ms | 155 ms | met |",
        "| zero lost | 2 | **missed** |",
        "| no target set (reference measurement) | accepted per second: 25 | - |",
    ]
    assert publish.missed(checks) == [checks[1]]
