"""The real-cluster corpus (tests/fixtures/corpus) replays in the unit suite.

These tests check the bundles and the replay machinery, not the reasoner's
accuracy (that is `python -m bench.corpus score`, bench/results/corpus.md):
every case's ground truth names a taxonomy fault of its category and one exact
object; every recorded call answers from the replay exactly as recorded, by any
kubectl spelling of its kind; and a whole investigation replays to a diagnosis
without a live cluster.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from bench.corpus.bundle import Bundle, load_all
from bench.corpus.score import request_for
from nightshift.agent.investigation import investigate
from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.domain.diagnosis import Diagnosis
from nightshift.domain.taxonomy import load_taxonomy

CORPUS = Path(__file__).resolve().parents[2] / "fixtures/corpus"


@cache
def bundles() -> tuple[Bundle, ...]:
    return tuple(load_all(CORPUS))


def _ids() -> list[str]:
    return [b.id for b in bundles()]


def test_the_corpus_covers_forty_fault_types_three_times_over_every_category() -> None:
    types = Counter(b.truth["fault_type"] for b in bundles())
    assert len(types) >= 40 and min(types.values()) >= 3
    categories = {f.category for f in load_taxonomy().faults.values()} - {"unknown"}
    assert {b.truth["truth"]["category"] for b in bundles()} == categories


def test_a_third_is_validation_staged_under_other_names() -> None:
    splits = Counter(b.truth["split"] for b in bundles())
    assert splits["val"] * 3 == len(bundles())
    dev_ns = {b.truth["namespace"] for b in bundles() if b.truth["split"] == "dev"}
    val_ns = {b.truth["namespace"] for b in bundles() if b.truth["split"] == "val"}
    assert not dev_ns & val_ns
    workloads = ("Deployment/", "StatefulSet/", "Service/", "Job/")

    def named(split: str) -> set[str]:
        objs = {b.truth["truth"]["object"] for b in bundles() if b.truth["split"] == split}
        return {o for o in objs if o.startswith(workloads)}

    # generic policy names (a "default-deny" NetworkPolicy) may repeat; workloads may not
    assert not named("dev") & named("val")


@pytest.mark.parametrize("case", _ids())
def test_ground_truth_parses(case: str) -> None:
    b = next(x for x in bundles() if x.id == case)
    truth = b.truth["truth"]
    fault = load_taxonomy().faults[truth["fault"]]
    assert fault.category == truth["category"]
    for ref in [truth["object"], *truth["alternative_objects"]]:
        kind, _, name = ref.partition("/")
        assert kind[:1].isupper() and name and "/" not in name, ref
    assert b.truth["question"] and b.truth["namespace"]


@pytest.mark.parametrize("case", _ids())
def test_every_recorded_call_answers_from_the_replay(case: str) -> None:
    b = next(x for x in bundles() if x.id == case)
    replay = b.replay()
    assert b.records, "an empty bundle"

    async def check() -> None:
        for rec in b.records:
            call = ToolCall(rec["call"]["name"], rec["call"]["params"])
            got = await replay.call(call)
            assert got.status == ToolStatus(rec["result"]["status"])
            assert got.text == (rec["result"]["text"] or "")
        pods = next(r for r in b.records if r["call"]["params"].get("kind") == "pods")
        alias = ToolCall("kubectl_get", {**pods["call"]["params"], "kind": "po"})
        assert (await replay.call(alias)).text == pods["result"]["text"]

    asyncio.run(check())


def test_an_unrecorded_call_is_no_data_not_an_error() -> None:
    replay = bundles()[0].replay()
    got = asyncio.run(replay.call(ToolCall("db_stats", {"database": "orders"})))
    assert got.status == ToolStatus.NO_DATA


@pytest.mark.parametrize("case", _ids()[::7])
def test_a_case_replays_through_the_offline_reasoner(case: str) -> None:
    b = next(x for x in bundles() if x.id == case)
    diagnosis = asyncio.run(investigate(request_for(b), b.replay()))
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.tool_calls > 0
