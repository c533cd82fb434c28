"""Each benchmark's target table judges the figures it is given: a miss is marked.

The runners need real servers, so these feed their ``checks`` functions measured
values by hand, one side of each target.
"""

from __future__ import annotations

from typing import Any

from bench.publish import NO_TARGET, Check


def _marks(checks: list[Check]) -> dict[str, bool | None]:
    return {c.target: c.met for c in checks}


def _judged(checks: list[Check]) -> list[bool]:
    return [c.met for c in checks if c.met is not None]


def test_control_plane_judges_both_readings_of_running_and_a_lost_investigation() -> None:
    from bench.control_plane.run import checks

    lat = {"spawn_ms": [10.0] * 50, "running_ms": [300.0] * 50}
    burst = {"finished": 199.0, "accepted": 200.0, "lost": 1.0, "other_errors": 0.0,
             "accepted_per_second": 25.0}  # fmt: skip
    rss = {"peak_concurrent_units": 50.0, "peak_rss_mb": 131.0}
    got = checks(lat, burst, rss)
    assert _judged(got) == [True, False, False, True]
    assert got[1].value == "300.0 ms"
    assert sum(c.target == NO_TARGET for c in got) == 2


def _storm(**over: Any) -> dict[str, Any]:
    return {"incident_investigations": 1, "investigations": 10, "escalations": 1,
            "stored": 1300, "distinct_alerts": 1300, "p99_ms": 461.0, **over}  # fmt: skip


def test_alerts_marks_a_second_incident_investigation_and_a_lost_alert() -> None:
    from bench.alerts.run import checks

    assert _judged(checks("SQLite", _storm())) == [True, True, True, True]
    assert _judged(checks("SQLite", _storm(incident_investigations=2, stored=1299))) == [
        False, True, True, False,
    ]  # fmt: skip
    assert _judged(checks("SQLite", _storm(investigations=11, escalations=0))) == [
        True, False, False, True,
    ]  # fmt: skip


def test_gateway_judges_the_added_p99_against_the_direct_connection() -> None:
    from bench.gateway.run import checks

    direct = [0.001] * 100
    fast, slow = [0.0025] * 100, [0.0035] * 100
    assert _judged(checks([("direct", direct), ("gateway", fast)], [("gateway", 69.0)])) == [True]
    got = checks([("direct", direct), ("gateway", slow)], [("gateway", 69.0)])
    assert _judged(got) == [False]
    assert got[0].value == "2.50 ms"
    assert got[1].target == NO_TARGET


def test_k8s_misses_when_an_investigation_costs_more_than_the_constant_calls() -> None:
    from bench.k8s.run import checks

    r = {"calls_per_inv": 4.0, "jobs_per_second": 56.0, "to_running_ms": [7900.0],
         "rss_peak": {"kube-apiserver": 386.0, "etcd": 236.0}}  # fmt: skip
    assert _judged(checks(r)) == [True]
    assert _judged(checks({**r, "calls_per_inv": 4.5})) == [False]


def test_kueue_judges_the_admission_rate_and_equal_calls_either_way() -> None:
    from bench.kueue.run import checks

    kq = {"admitted_per_second": 3.0, "calls_per_inv": 4.0, "to_running_ms": [1.0]}
    plain = {"calls_per_inv": 4.0, "to_running_ms": [1.0]}
    assert _judged(checks(kq, plain)) == [False, True]
    faster, costlier = {**kq, "admitted_per_second": 41.0}, {**plain, "calls_per_inv": 5.0}
    assert _judged(checks(faster, costlier)) == [True, False]


def test_realpod_has_no_target_and_reports_the_ratio() -> None:
    from bench.realpod.run import checks

    got = checks({"kubernetes (pod)": [(1.4, 1.6)] * 3, "local (process)": [(0.2, 0.4)] * 3})
    assert _judged(got) == []
    assert got[0].value.endswith("7.0x") and got[1].value.endswith("4.0x")
