"""What a submission naming a shipped scenario inherits, and the warm-up that
`nightshift up` does so that the first such submission is not the slow one."""

from __future__ import annotations

import pytest

from nightshift.bootstrap.scenarios import ShippedScenarios
from nightshift.scenarios import list_scenarios


def test_warm_describes_every_shipped_scenario_before_any_submission(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = ShippedScenarios()
    catalog.warm()
    loads: list[str] = []
    monkeypatch.setattr(ShippedScenarios, "_load", staticmethod(lambda name: loads.append(name)))
    for info in list_scenarios():
        brief = catalog.describe(info.name)
        assert brief is not None and brief.name == info.name
    assert loads == []  # every brief came from the warm-up


def test_an_unknown_name_has_no_brief_and_a_path_is_never_read() -> None:
    catalog = ShippedScenarios()
    assert catalog.describe("no-such-scenario") is None
    assert catalog.describe("../../etc/passwd") is None
