"""revert-change reads what a change replaced from the change feed (a fake here) and
restores exactly that: fields added since are removed, the proposal's parameters
never say what is written, a change with no recorded state is refused."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from nightshift.domain.changes import Change, ChangeKind, ChangeTarget
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import Domain
from nightshift.k8s.names import service_account_name
from nightshift.runtime.remediation.fake import FakeChangeHistory
from nightshift.runtime.remediation.kubernetes import KubernetesRemediator
from nightshift.runtime.remediation.revert_kubernetes import contains, restore_patch
from nightshift.services.remediation_port import RemediationJob

PATH = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/egress"
BEFORE = {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 9555}]}]}}
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


class FakeKube:
    """An API server of one object: merge patches and who sent them."""

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj
        self.patches: list[tuple[str, dict[str, Any], bool]] = []
        self.who = "admin"

    def impersonate_service_account(self, ns: str, name: str) -> FakeKube:
        self.who = f"system:serviceaccount:{ns}:{name}"
        return self

    def get(self, path: str) -> dict[str, Any]:
        assert path == PATH, path
        return copy.deepcopy(self.obj)

    def merge_patch(self, path: str, patch: dict[str, Any], *, dry_run: bool = False) -> Any:
        self.patches.append((self.who, patch, dry_run))
        if not dry_run:
            self.obj = _merge(self.obj, patch)
        return self.obj


def _merge(obj: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(obj, dict):
        return patch
    out = dict(obj)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def _change(ref: str, before: dict[str, Any] | None, minutes: int = 0) -> Change:
    return Change(
        ref, ref, NOW + timedelta(minutes=minutes), "fw", "tighten", ChangeKind.FIREWALL,
        Domain.NETWORK, ChangeTarget("NetworkPolicy", "egress", "shop"), before=before,
    )  # fmt: skip


def _fix(kube: FakeKube, *changes: Change) -> KubernetesRemediator:
    return KubernetesRemediator(
        kube,  # type: ignore[arg-type]
        "agents",
        lambda job: ("night", "limited-remediation"),
        FakeChangeHistory(list(changes)),
    )


def _job(target: ResourceRef, **params: Any) -> RemediationJob:
    return RemediationJob("inv-1", "revert-change", target, params)


def test_the_revert_previews_then_restores_the_recorded_state_as_the_agent() -> None:
    kube = FakeKube({"spec": {"podSelector": {}, "egress": [], "ingress": [{}]}})
    fix = _fix(kube, _change("FW-1", BEFORE))
    done = fix.execute(_job(ResourceRef("Change", "FW-1")))
    assert done.ok, done
    assert [dry for _, _, dry in kube.patches] == [True, False]
    agent = service_account_name("night", "limited-remediation")
    assert {who for who, _, _ in kube.patches} == {f"system:serviceaccount:agents:{agent}"}
    assert kube.obj["spec"] == BEFORE["spec"]  # the rule added since (ingress) is gone
    assert fix.observe(_job(ResourceRef("Change", "FW-1"))).effect == "in_effect"


def test_naming_the_object_reverts_its_newest_recorded_change_and_params_are_ignored() -> None:
    kube = FakeKube({"spec": {"podSelector": {}}})
    older = _change("FW-1", {"spec": {"podSelector": {"matchLabels": {"old": "x"}}}})
    fix = _fix(kube, older, _change("FW-2", BEFORE, minutes=5))
    job = _job(ResourceRef("NetworkPolicy", "egress", "shop"), before={"spec": {"evil": 1}})
    assert fix.execute(job).ok
    assert kube.obj["spec"] == BEFORE["spec"]


def test_without_a_recorded_state_or_change_nothing_is_sent() -> None:
    kube = FakeKube({"spec": {}})
    fix = _fix(kube, _change("FW-1", None))
    for target, why in (
        (ResourceRef("Change", "FW-1"), "did not record the state before it"),
        (ResourceRef("Change", "FW-9"), "no change with id 'FW-9'"),
        (ResourceRef("NetworkPolicy", "egress", "shop"), "records no prior state"),
    ):
        result = fix.execute(_job(target))
        assert not result.ok and why in result.message, result
    assert kube.patches == []
    assert fix.observe(_job(ResourceRef("Change", "FW-9"))).effect == "unknown"


def test_a_restore_patch_removes_what_was_added_and_defaults_still_count_as_restored() -> None:
    live = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}
    assert restore_patch(live, {"b": {"c": 2}, "e": [1]}) == {"a": None, "b": {"d": None}, "e": [1]}
    assert restore_patch(live, live) == {}
    served = {"ports": [{"port": 9555, "protocol": "TCP"}]}
    assert contains(served, {"ports": [{"port": 9555}]})
    assert not contains(served, {"ports": [{"port": 9555}, {"port": 53}]})
