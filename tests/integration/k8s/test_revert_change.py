"""revert-change on the real API server: the object goes back to the change feed's
``before``, as the agent's impersonated phase ServiceAccount, dry-run first; an agent
whose boundaries lack the action is refused by RBAC itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import register_agent
from nightshift.domain.changes import Change, ChangeKind, ChangeTarget
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import AuthorityClass, Domain, TrustPhase
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.runtime.remediation.fake import FakeChangeHistory
from nightshift.runtime.remediation.kubernetes import KubernetesRemediator
from nightshift.services.remediation_port import RemediationJob
from tests.integration.k8s.conftest import AGENTS_NS, APP_NS, LIMITED, OWNER, _boundaries

pytestmark = pytest.mark.slow
REVERTER = register_agent(
    "reverter",
    OWNER,
    AuthorityClass.SUPERVISED,
    phase=TrustPhase.LIMITED_REMEDIATION,
    boundaries=_boundaries("revert-change"),
)
PATH = resource_path("networking.k8s.io/v1", "networkpolicies", APP_NS, "api-egress")


def _egress(*apps: str, served: bool = False) -> list[dict[str, Any]]:
    """Egress rules; ``served``: as the API server returns them (protocol defaulted)."""
    port: dict[str, Any] = {"port": 9555, "protocol": "TCP"} if served else {"port": 9555}
    return [{"to": [{"podSelector": {"matchLabels": {"app": a}}}], "ports": [port]} for a in apps]


def _policy(egress: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "api-egress", "namespace": APP_NS},
        "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                 "egress": egress},
    }  # fmt: skip


@pytest.fixture
def changed(
    governed: KubeApi, catalog: ActionCatalog, render_cfg: RenderConfig
) -> tuple[KubeApi, dict[str, Any], FakeChangeHistory]:
    failed = [r for r in apply_objects(governed, render_all([REVERTER], catalog, render_cfg))
              if r.error]  # fmt: skip
    assert not failed, failed
    try:
        governed.delete(PATH)
    except KubeError as exc:
        if exc.status != 404:
            raise
    governed.create(PATH.rsplit("/", 1)[0], _policy(_egress("scoring", "db")))
    before = governed.get(PATH)
    governed.merge_patch(PATH, {"spec": {"egress": _egress("db")}})
    change = Change(
        "c-1", "FW-77", datetime.now(UTC), "firewall-automation", "tighten api egress",
        ChangeKind.FIREWALL, Domain.NETWORK, ChangeTarget("NetworkPolicy", "api-egress", APP_NS),
        before={"spec": before["spec"], "metadata": {"labels": {"team": "api"}}},
    )  # fmt: skip
    return governed, before, FakeChangeHistory([change])


def _fix(admin: KubeApi, history: FakeChangeHistory) -> KubernetesRemediator:
    phases = {a.name: a.phase.value for a in (REVERTER, LIMITED)}
    return KubernetesRemediator(
        admin, AGENTS_NS, lambda job: (job.agent, phases[job.agent]), history
    )


def _job(agent: str, target: ResourceRef) -> RemediationJob:
    return RemediationJob("inv-r1", "revert-change", target, agent=agent)


def test_the_revert_restores_the_policy_after_a_dry_run_and_can_be_undone(
    changed: tuple[KubeApi, dict[str, Any], FakeChangeHistory],
) -> None:
    admin, before, history = changed
    fix = _fix(admin, history)
    job = _job("reverter", ResourceRef("Change", "FW-77"))
    assert fix.observe(job).effect == "not_in_effect"
    preview = fix.dry_run(job)
    assert preview.ok and "(server dry run)" in preview.message, preview
    assert admin.get(PATH)["spec"]["egress"] == _egress("db", served=True)  # preview: no change
    done = fix.execute(job)
    assert done.ok, done
    live = admin.get(PATH)
    assert live["spec"] == before["spec"]
    assert live["metadata"]["labels"] == {"team": "api"}
    seen = fix.observe(job)
    assert seen.effect == "in_effect", seen.detail
    undone = fix.rollback(job, "revert-change", done.undo)
    assert undone.ok, undone
    assert admin.get(PATH)["spec"]["egress"] == _egress("db", served=True)
    assert "labels" not in admin.get(PATH)["metadata"]


def test_the_object_itself_may_be_named_and_an_agent_without_the_action_is_refused(
    changed: tuple[KubeApi, dict[str, Any], FakeChangeHistory],
) -> None:
    admin, before, history = changed
    fix = _fix(admin, history)
    by_object = ResourceRef("NetworkPolicy", "api-egress", APP_NS)
    refused = fix.execute(_job(LIMITED.name, by_object))
    assert not refused.ok and "forbidden" in refused.message.lower(), refused
    assert admin.get(PATH)["spec"]["egress"] != before["spec"]["egress"]
    assert fix.execute(_job("reverter", by_object)).ok
    assert admin.get(PATH)["spec"] == before["spec"]
    unknown = fix.execute(_job("reverter", ResourceRef("Change", "FW-0")))
    assert not unknown.ok and "no change with id 'FW-0'" in unknown.message
