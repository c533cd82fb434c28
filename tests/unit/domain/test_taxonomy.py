"""The fault taxonomy is a valid, versioned catalog covering the workload life cycle."""

from __future__ import annotations

from typing import Any

import pytest

from nightshift.domain.taxonomy import TaxonomyError, load_taxonomy, parse_taxonomy

REQUIRED_CATEGORIES = {
    "admission",
    "scheduling",
    "startup",
    "runtime",
    "service-routing",
    "performance",
    "infrastructure",
    "change",
    "security",
    "database",
}


def _doc(**fault: Any) -> dict[str, Any]:
    base = {
        "id": "x-fault",
        "category": "runtime",
        "domain": "kubernetes",
        "title": "t",
        "symptoms": ["s"],
        "confirm": "c",
        "remediation": "restart-pod",
    }
    unknown = dict(base, id="unknown", remediation="escalate-to-human")
    return {
        "version": "1.0.0",
        "remediation_classes": {"restart-pod": "r", "escalate-to-human": "e"},
        "faults": [unknown, {**base, **fault}],
    }


def test_builtin_catalog_has_at_least_forty_faults() -> None:
    assert len(load_taxonomy()) >= 40


def test_builtin_catalog_covers_every_lifecycle_category() -> None:
    assert load_taxonomy().categories() >= REQUIRED_CATEGORIES


def test_every_fault_names_a_declared_remediation_class_and_how_to_confirm() -> None:
    taxonomy = load_taxonomy()
    for fault in taxonomy:
        assert fault.remediation in taxonomy.remediation_classes
        assert fault.confirm and fault.symptoms and fault.title


@pytest.mark.parametrize(
    "fault_id",
    [
        "resource-quota-exceeded",
        "missing-service-account",
        "admission-webhook-denied",
        "insufficient-cluster-resources",
        "node-selector-mismatch",
        "untolerated-taint",
        "node-cordoned",
        "pvc-unbound",
        "image-reference-invalid",
        "image-pull-secret-missing",
        "registry-unreachable",
        "missing-configmap",
        "missing-secret",
        "missing-env-var",
        "bad-command-entrypoint",
        "oom-killed",
        "crashloop-app-error",
        "liveness-probe-misconfigured",
        "readiness-probe-misconfigured",
        "service-selector-mismatch",
        "service-port-mismatch",
        "wrong-dependency-address",
        "network-policy-blocking",
        "dns-resolution-failure",
        "cpu-throttling",
        "connection-pool-exhaustion",
        "packet-loss",
        "node-not-ready",
        "kubelet-down",
        "container-runtime-failure",
        "kube-proxy-failure",
        "scheduler-unavailable",
        "node-disk-pressure",
        "bad-deployment-rollout",
        "config-change-regression",
        "firewall-rule-change",
        "db-schema-migration-change",
        "certificate-expired",
        "credential-rotation-auth-failure",
        "db-lock-contention",
        "db-slow-query",
        "db-disk-full",
        "db-replication-lag",
    ],
)
def test_issue_named_fault_ids_are_stable(fault_id: str) -> None:
    assert fault_id in load_taxonomy()


def test_unknown_fault_id_falls_back_to_escalation() -> None:
    assert load_taxonomy().get("no-such-fault").remediation == "escalate-to-human"


def test_version_must_be_semver() -> None:
    with pytest.raises(TaxonomyError, match="semver"):
        parse_taxonomy({**_doc(), "version": "one"})


def test_non_kebab_case_id_is_rejected() -> None:
    with pytest.raises(TaxonomyError, match="kebab-case"):
        parse_taxonomy(_doc(id="Bad_Id"))


def test_duplicate_id_is_rejected() -> None:
    with pytest.raises(TaxonomyError, match="duplicate"):
        parse_taxonomy(_doc(id="unknown"))


def test_undeclared_remediation_class_is_rejected() -> None:
    with pytest.raises(TaxonomyError, match="remediation class"):
        parse_taxonomy(_doc(remediation="reboot-the-world"))


def test_missing_field_is_rejected() -> None:
    doc = _doc()
    del doc["faults"][1]["confirm"]
    with pytest.raises(TaxonomyError, match="lacks"):
        parse_taxonomy(doc)
