"""Signal patterns: the cheap literal prefilter never hides a real match."""

from __future__ import annotations

import pytest

from nightshift.agent.reasoners.offline.signals import PATTERNS, match_by_line, match_signals
from nightshift.agent.reasoners.offline.timeline import parse_time, preceded

SAMPLES = [
    "Warning  FailedScheduling  0/3 nodes are available: 3 Insufficient cpu.",
    "Last State: Terminated\n  Reason: OOMKilled\n  Exit Code: 137",
    'Error: configmap "app-config" not found',
    "dial tcp: lookup payments.dc1.corp: no such host",
    "HikariPool-1 - Connection is not available, request timed out after 30000ms",
    "FATAL: sorry, too many clients already",
    "x509: certificate has expired or is not yet valid",
    'Failed to pull image "acme/web:9.9": manifest unknown',
    "exec /app/start.sh: exec format error",
    "ERROR: deadlock detected",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_every_regex_match_contains_one_of_its_literals(text: str) -> None:
    for pattern in PATTERNS:
        if pattern.literals is None:
            continue
        for m in pattern.regex.finditer(text):
            assert any(lit in m.group(0).lower() for lit in pattern.literals), pattern.signal


def test_line_matching_agrees_with_whole_text_matching() -> None:
    text = "\n".join(SAMPLES)
    per_line = {sig for hits in match_by_line(text, "log").values() for sig, _ in hits}
    whole = {sig for line in SAMPLES for sig, _ in match_signals(line, "log")}
    assert per_line == whole


def test_tolerations_do_not_count_as_node_failures() -> None:
    text = "Tolerations: node.kubernetes.io/not-ready:NoExecute op=Exists for 300s"
    assert [s for s, _ in match_signals(text, "k8s") if s == "node-notready"] == []


def test_change_before_onset_is_told_from_change_after() -> None:
    change = parse_time("2026-11-22T01:38:00Z firewall change")
    onset = parse_time("2026-11-22T01:40:10Z timeouts")
    assert preceded(change, onset) is True
    assert preceded(onset, change) is False
    assert preceded(change, parse_time("5m ago")) is None


def test_a_change_stamped_seconds_after_the_first_symptom_still_counts_as_before() -> None:
    # other clocks, second or minute stamps, a background error just before the change
    onset = parse_time("2026-11-22T01:40:00Z pool errors")
    assert preceded(parse_time("2026-11-22T01:40:40Z policy sync"), onset) is True
    assert preceded(parse_time("2026-11-22T01:43:00Z restart by on-call"), onset) is False


def test_ambiguous_registry_denial_is_not_read_as_a_missing_image() -> None:
    line = (
        'Failed to pull image "harbor.corp/team/app:1.2": failed to resolve reference: '
        "pull access denied, repository does not exist or may require authorization: "
        "authorization failed: no basic auth credentials"
    )
    signals = {s for s, _ in match_signals(line, "k8s")}
    assert "image-auth-explicit" in signals
    assert "image-notfound" not in signals


def test_openssl_alert_names_count_as_expired_certificates() -> None:
    line = "TLS_error:|268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED"
    assert "cert-expired" in {s for s, _ in match_signals(line, "log")}
