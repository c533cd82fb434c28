"""Request logs name their callers by IP: the windowed search finds what a full scan does."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.sections import _CALLER, callers

LOG = """\
{"level":30,"req":{"method":"GET","url":"/api","remoteAddress":"::ffff:10.244.1.17"},"msg":"request completed"}
10.244.2.9 - - [02/Dec/2026:13:14:30 +0000] "GET / HTTP/1.1" 200 612 "-" "curl" x-forwarded-for: 10.244.3.4
time=2026-12-02T13:14:31Z level=info msg=served client_ip=10.244.0.5 peer.address=10.244.0.6
client: 10.244.9.9 client:10.244.9.10 "client" 10.244.9.11
"""  # noqa: E501


def test_every_caller_of_a_request_log_is_found_as_by_a_full_scan() -> None:
    full = {m.group(1) for m in _CALLER.finditer(LOG)}
    assert callers(LOG) == full
    assert full >= {"10.244.1.17", "10.244.3.4", "10.244.0.5", "10.244.0.6", "10.244.9.11"}


def test_a_log_without_caller_words_has_no_callers() -> None:
    assert callers("GET / 200 from 10.244.2.9\n") == set()
