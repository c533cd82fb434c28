"""Names and labels sent to the API server are valid whatever the input."""

from __future__ import annotations

import re

import pytest

from nightshift.k8s.names import job_name, label_value, service_account_name

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
NASTY = ["inv-01", "Inv_01", "x" * 300, "---", "", "ü/ö", "a.b", "a_b", "-lead", "trail-", "0" * 52]


@pytest.mark.parametrize("raw", NASTY)
def test_job_names_are_dns_labels_short_enough_for_pod_names(raw: str) -> None:
    name = job_name(raw)
    assert DNS_LABEL.match(name)
    assert len(name) <= 52


@pytest.mark.parametrize("raw", NASTY)
def test_label_values_are_valid(raw: str) -> None:
    value = label_value(raw)
    assert LABEL_VALUE.match(value)
    assert len(value) <= 63


@pytest.mark.parametrize("raw", NASTY)
def test_service_account_names_are_dns_labels(raw: str) -> None:
    assert DNS_LABEL.match(service_account_name(raw, "limited-remediation"))


def test_inputs_that_sanitize_alike_still_get_distinct_names() -> None:
    assert job_name("a_b") != job_name("a.b")
    assert label_value("a/b") != label_value("a:b")
    assert job_name("x" * 100 + "1") != job_name("x" * 100 + "2")


def test_clean_ids_are_kept_readable() -> None:
    assert job_name("0193ab-01") == "ns-inv-0193ab-01"
    assert label_value("0193ab_01") == "0193ab_01"
