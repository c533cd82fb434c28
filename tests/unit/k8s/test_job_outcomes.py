"""How a finished Job becomes an investigation's terminal status and reason."""

from __future__ import annotations

from typing import Any

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.kubernetes import _classify, _finished

S = InvestigationStatus


def job(cond_type: str, reason: str = "", message: str = "") -> dict[str, Any]:
    cond = {"type": cond_type, "status": "True", "reason": reason, "message": message}
    return {
        "metadata": {"name": "ns-inv-1"},
        "spec": {"activeDeadlineSeconds": 300},
        "status": {
            "conditions": [{"type": "FailureTarget", "status": "True"}, cond],
            "startTime": "2026-11-22T02:00:00Z",
            "completionTime": "2026-11-22T02:00:42Z",
        },
    }


def outcome(j: dict[str, Any], cancel: str | None = None) -> tuple[S | None, str]:
    cond = _finished(j)
    assert cond is not None
    exit_ = _classify("inv-1", j, cond, cancel)
    return exit_.status, exit_.reason


def test_deadline_exceeded_job_ends_as_deadline_exceeded() -> None:
    assert outcome(job("Failed", "DeadlineExceeded")) == (
        S.DEADLINE_EXCEEDED,
        "Job deadline of 300s exceeded",
    )


def test_failure_policy_exit_code_is_reported() -> None:
    msg = "Container worker for pod a/b failed with exit code 2 matching FailJob rule at index 1"
    assert outcome(job("Failed", "PodFailurePolicy", msg)) == (
        S.FAILED,
        "worker crashed with exit code 2; see its log",
    )


def test_oom_kill_and_the_workers_memory_exit_code_read_as_out_of_memory() -> None:
    for code in (3, 137):
        msg = f"Container worker for pod a/b failed with exit code {code} matching FailJob rule"
        assert (
            outcome(job("Failed", "PodFailurePolicy", msg))[1] == "worker ran out of memory (OOM)"
        )


def test_cancelled_job_keeps_the_callers_reason() -> None:
    assert outcome(job("Failed", "DeadlineExceeded"), cancel="operator said stop") == (
        S.CANCELLED,
        "operator said stop",
    )


def test_unfinished_job_has_no_terminal_condition() -> None:
    assert _finished({"status": {"conditions": [{"type": "Suspended", "status": "True"}]}}) is None


def test_wall_time_comes_from_the_job_status() -> None:
    cond = _finished(job("Complete"))
    assert cond is not None
    assert _classify("inv-1", job("Complete"), cond, None).resources["wall_seconds"] == 42.0
