"""Reading names, kinds and namespaces out of questions and alerts."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.mentions import read_request
from nightshift.agent.reasoners.offline.topology import workload_name
from nightshift.agent.request import InvestigationRequest


def test_kind_name_and_namespace_from_free_text() -> None:
    m = read_request(
        InvestigationRequest("What is the issue with job java-api-checker in namespace app-12")
    )
    assert m.names[0] == "java-api-checker"
    assert m.kinds["java-api-checker"] == "job"
    assert m.namespace == "app-12"


def test_single_word_name_after_a_preposition() -> None:
    assert read_request(InvestigationRequest("What is the issue with redis?")).names == ["redis"]


def test_inline_reference_gives_pod_and_namespace() -> None:
    ref = '{ "type": "pod", "name": "web-7d9f8b6c5d-x2x4z", "namespace": "app-2" }'
    q = f"What is wrong with << {ref} >> ?"
    m = read_request(InvestigationRequest(q))
    assert m.names == ["web-7d9f8b6c5d-x2x4z"]
    assert m.kinds["web-7d9f8b6c5d-x2x4z"] == "pod"
    assert m.namespace == "app-2"


def test_alert_labels_name_a_pod_even_when_the_subject_says_deployment() -> None:
    labels = {"name": "api-7d9f8b6c5d-x2x4z", "subject_type": "deployment", "namespace": "shop"}
    m = read_request(InvestigationRequest("Pod is crash looping", alert_labels=labels))
    assert m.kinds["api-7d9f8b6c5d-x2x4z"] == "pod"
    assert m.namespace == "shop"


def test_generated_pod_suffixes_are_told_from_ordinary_names() -> None:
    assert workload_name("api-7d9f8b6c5d-x2x4z") == "api"
    assert workload_name("java-api-checker-mdr44") == "java-api-checker"
    assert workload_name("java-api-checker") == "java-api-checker"
    assert workload_name("user-profile-import") == "user-profile-import"
