"""logs_search and security_events against a real VictoriaLogs.

Logs are shipped through VictoriaLogs' Loki-compatible push API (as promtail
would), then searched through the registry exactly as a worker builds its toolset.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.sources.context import SourceContext
from nightshift.sources.guard import TRUNCATION_MARKER
from nightshift.sources.registry import build_toolset
from tests.support import victorialogs
from tests.support.postgres import free_port

pytestmark = pytest.mark.slow

SEEDED_AT = [time.time_ns()]  # reset when the store is seeded: lines are relative to then
SECOND = 1_000_000_000
AUDIT = {"namespace": "kube-system", "app": "kube-apiserver-audit", "pod": "kube-apiserver-0"}
SECURITY_QUERY = {"streams": {"app": "kube-apiserver-audit"}}
FLOOD = 30  # matching lines in one stream, to exercise the limit


def _ago(seconds: float) -> int:
    return SEEDED_AT[0] - int(seconds * SECOND)


def _audit(code: int, user: str, resource: str, name: str, reason: str) -> str:
    return json.dumps(
        {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "stage": "ResponseComplete",
            "verb": "get",
            "requestURI": f"/api/v1/namespaces/shop/{resource}/{name}",
            "user": {"username": user},
            "sourceIPs": ["10.0.0.7"],
            "objectRef": {"resource": resource, "namespace": "shop", "name": name},
            "responseStatus": {"code": code, "reason": reason},
        }
    )


def _seed(store: victorialogs.VictoriaLogs) -> None:
    SEEDED_AT[0] = time.time_ns()  # not import time: a long suite may collect this hours earlier
    shop_checkout = {"namespace": "shop", "app": "checkout", "pod": "checkout-7d9f-abc"}
    store.push_streams(
        [
            (
                shop_checkout,
                [
                    (_ago(50), "dial tcp 10.0.0.5:5432: connection refused (payments-db)"),
                    (_ago(40), "GET /cart 200 12ms"),
                    (_ago(30), 'user said "hello" and left'),
                    (_ago(20), 'odd line a.b* (x) | stats count() {x="y"} \\ back'),
                    (_ago(10), "dial tcp 10.0.0.5:5432: connection refused (retry 2)"),
                    (_ago(7200), "connection refused two hours ago"),
                ],
            ),
            (
                {"namespace": "shop", "app": "cart", "pod": "cart-5c4b-def"},
                [(_ago(15), "redis: connection refused from cart")],
            ),
            (
                {"namespace": "bank", "app": "checkout", "pod": "checkout-1a2b-ghi"},
                [(_ago(12), "connection refused in the bank namespace")],
            ),
            (
                {"namespace": "bank", "app": "ledger", "pod": "ledger-0"},
                [(_ago(60 + i), f"ledger flood line {i} retrying") for i in range(FLOOD)],
            ),
        ]
    )
    # shipped as the API server writes it: one JSON audit record per line, kept whole
    store.push(
        AUDIT,
        [
            (_ago(25), _audit(401, "system:anonymous", "secrets", "db", "Unauthorized")),
            (_ago(24), _audit(401, "system:anonymous", "secrets", "db", "Unauthorized")),
            (_ago(23), _audit(401, "system:anonymous", "secrets", "db", "Unauthorized")),
            (
                _ago(22),
                _audit(403, "system:serviceaccount:shop:cart", "pods", "x", "Forbidden"),
            ),
            (
                _ago(21),
                "http: TLS handshake error from 10.0.0.9:4431: x509: certificate has expired",
            ),
        ],
        parse_json=False,
    )
    store.flush()


@pytest.fixture(scope="module")
def store() -> Iterator[victorialogs.VictoriaLogs]:
    victorialogs.require()
    with victorialogs.running() as server:
        _seed(server)
        yield server


def _toolset(url: str, namespaces: frozenset[str] = frozenset({"*"}), **settings: Any) -> Toolset:
    source = SourceConfig(
        name="logs",
        kind=SourceKind.VICTORIALOGS,
        domain="application",
        url=url,
        timeout_seconds=5,
        settings={"security_query": SECURITY_QUERY, **settings},
    )
    return build_toolset([source], SourceContext("inv-logs", namespaces))


async def _search(toolset: Toolset, **params: Any) -> ToolResult:
    return await toolset.call(ToolCall("logs_search", params))


def _rows(result: ToolResult) -> list[str]:
    return [line for line in result.text.splitlines()[1:] if line[:4].isdigit()]


async def test_finds_the_pattern_only_within_the_namespace_and_app_asked(store: Any) -> None:
    result = await _search(
        _toolset(store.url), pattern="connection refused", namespace="shop", app="checkout"
    )

    assert result.status is ToolStatus.OK, result.text
    rows = _rows(result)
    assert len(rows) == 2
    assert all('{namespace="shop", app="checkout", pod="checkout-7d9f-abc"}' in r for r in rows)
    assert result.text.splitlines()[0] == "2 lines matched in the last 60 min, showing the newest 2"
    assert "bank" not in result.text and "cart" not in result.text


async def test_an_agent_limited_to_one_namespace_searches_only_that_one(store: Any) -> None:
    result = await _search(_toolset(store.url, frozenset({"bank"})), pattern="connection refused")

    assert result.status is ToolStatus.OK, result.text
    rows = _rows(result)
    assert len(rows) == 1
    assert '{namespace="bank", app="checkout", pod="checkout-1a2b-ghi"}' in rows[0]


async def test_a_namespace_outside_the_boundaries_is_denied(store: Any) -> None:
    result = await _search(
        _toolset(store.url, frozenset({"bank"})), pattern="refused", namespace="shop"
    )

    assert result.status is ToolStatus.DENIED
    assert "outside this agent's boundaries" in (result.error or "")


async def test_lines_come_newest_first(store: Any) -> None:
    result = await _search(_toolset(store.url), pattern="connection refused", namespace="shop")

    rows = _rows(result)
    assert [r.split()[0] for r in rows] == sorted((r.split()[0] for r in rows), reverse=True)
    assert rows[0].endswith("connection refused (retry 2)")  # pushed 10 s ago, the newest
    assert len(rows) == 3  # the two-hour-old line is outside the default window


async def test_the_limit_and_the_truncation_marker_hold(store: Any) -> None:
    result = await _search(_toolset(store.url), pattern="ledger flood", limit=5)

    assert result.status is ToolStatus.OK
    assert len(_rows(result)) == 5
    assert (
        result.text.splitlines()[0]
        == f"{FLOOD} lines matched in the last 60 min, showing the newest 5"
    )
    assert result.text.splitlines()[-1].startswith(f"... {FLOOD - 5} more matching lines not shown")
    assert result.data is not None and result.data["matched"] == FLOOD
    assert "ledger flood line 0 " in result.text  # line 0 is the newest of the flood


async def test_an_answer_over_the_source_budget_is_cut_with_a_marker(store: Any) -> None:
    source = SourceConfig(
        name="logs",
        kind=SourceKind.VICTORIALOGS,
        domain="application",
        url=store.url,
        max_answer_chars=400,
    )
    toolset = build_toolset([source], SourceContext("inv-logs", frozenset({"*"})))
    result = await _search(toolset, pattern="ledger flood", limit=100)

    assert len(result.text) < 600
    assert TRUNCATION_MARKER.split("{")[0] in result.text


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('"hello"', 'user said "hello" and left'),
        ('a.b* (x) | stats count() {x="y"} \\ back', "odd line a.b*"),
        ("* (x)", "odd line a.b*"),
    ],
)
async def test_pattern_text_is_matched_literally(store: Any, pattern: str, expected: str) -> None:
    result = await _search(_toolset(store.url), pattern=pattern)

    assert result.status is ToolStatus.OK, result.text
    rows = _rows(result)
    assert len(rows) == 1 and expected in rows[0]


@pytest.mark.parametrize(
    "pattern",
    ['x" or "refused', '" | stats count() as n | "', "*", "(refused|ledger)", '\\" *'],
)
async def test_query_syntax_in_a_pattern_cannot_widen_the_search(store: Any, pattern: str) -> None:
    result = await _search(_toolset(store.url), pattern=pattern)

    # none of these strings occurs literally in the seeded lines (the asterisk does
    # once, in "a.b*", which is the only line it may find)
    rows = _rows(result)
    assert all(pattern in r for r in rows)
    assert len(rows) <= 1


async def test_regex_true_uses_a_regular_expression(store: Any) -> None:
    result = await _search(
        _toolset(store.url), pattern="(?i)REFUSED \\(retry|ledger flood line 1[0-9] ", regex=True
    )

    assert result.status is ToolStatus.OK, result.text
    assert result.data is not None and result.data["matched"] == 11


async def test_a_bad_regex_is_reported_as_a_rejected_query(store: Any) -> None:
    result = await _search(_toolset(store.url), pattern="(unclosed", regex=True)

    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("the log store rejected the query: HTTP 400")


async def test_field_filters_when_namespace_is_not_a_stream_field(store: Any) -> None:
    toolset = _toolset(store.url, frozenset({"bank"}), stream_filter=False)
    result = await _search(toolset, pattern="connection refused")

    assert result.data is not None and result.data["query"].startswith('"namespace":in("bank")')
    assert len(_rows(result)) == 1 and "bank namespace" in result.text


async def test_since_minutes_widens_the_window(store: Any) -> None:
    result = await _search(_toolset(store.url), pattern="two hours ago", since_minutes=180)

    assert result.status is ToolStatus.OK and len(_rows(result)) == 1
    narrow = await _search(_toolset(store.url), pattern="two hours ago")
    assert narrow.status is ToolStatus.NO_DATA
    assert narrow.text == "no log lines matched 'two hours ago' in the last 60 min"


async def test_a_store_that_is_down_is_evidence_not_a_crash() -> None:
    result = await _search(_toolset(f"http://127.0.0.1:{free_port()}"), pattern="refused")

    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: victorialogs source 'logs': ConnectError")


async def test_security_events_from_the_shipped_audit_log(store: Any) -> None:
    result = await _toolset(store.url).call(ToolCall("security_events", {}))

    assert result.status is ToolStatus.OK, result.text
    lines = result.text.splitlines()
    assert lines[0].startswith("5 security log lines matched in the last 60 min")
    assert lines[1].split() == [
        "TIME",
        "SOURCE",
        "TYPE",
        "PRINCIPAL",
        "TARGET",
        "OUTCOME",
        "COUNT",
        "MESSAGE",
    ]
    by_type = {row.split()[2]: row.split() for row in lines[2:]}
    assert by_type["authentication-failure"][3:7] == [
        "system:anonymous",
        "shop/secrets/db",
        "failure",
        "3",
    ]
    assert by_type["authorization-denied"][3:7] == [
        "system:serviceaccount:shop:cart",
        "shop/pods/x",
        "denied",
        "1",
    ]
    assert "x509: certificate has expired" in " ".join(by_type["certificate"])
    assert "401 Unauthorized" in result.text  # what the reasoner's auth-failed signal reads


async def test_security_events_target_narrows_to_lines_naming_it(store: Any) -> None:
    result = await _toolset(store.url).call(
        ToolCall("security_events", {"target": "serviceaccount:shop:cart"})
    )

    assert result.status is ToolStatus.OK, result.text
    rows = result.text.splitlines()[2:]
    assert len(rows) == 1 and "authorization-denied" in rows[0]


def _events(result: ToolResult) -> list[Mapping[str, Any]]:
    assert result.data is not None
    events: list[Mapping[str, Any]] = result.data["events"]
    return events


async def test_security_events_data_groups_identical_events(store: Any) -> None:
    result = await _toolset(store.url).call(ToolCall("security_events", {"since_minutes": 5}))

    assert sorted(e["count"] for e in _events(result)) == [1, 1, 3]


async def test_security_events_read_audit_records_the_store_parsed_into_fields(
    store: victorialogs.VictoriaLogs,
) -> None:
    parsed = {"namespace": "kube-system", "app": "audit-parsed", "pod": "kube-apiserver-1"}
    store.push(
        parsed, [(time.time_ns(), _audit(401, "mallory", "configmaps", "cfg", "Unauthorized"))]
    )
    store.flush()
    toolset = _toolset(store.url, security_query={"streams": {"app": "audit-parsed"}})

    result = await toolset.call(ToolCall("security_events", {}))

    assert result.status is ToolStatus.OK, result.text
    row = result.text.splitlines()[2].split()
    assert row[2:7] == ["authentication-failure", "mallory", "shop/configmaps/cfg", "failure", "1"]
    assert "from 10.0.0.7" in result.text


async def test_security_events_keep_audit_records_within_the_agents_namespaces(
    store: victorialogs.VictoriaLogs,
) -> None:
    result = await _toolset(store.url, frozenset({"bank"})).call(ToolCall("security_events", {}))

    assert result.status is ToolStatus.OK, result.text
    assert [e["type"] for e in _events(result)] == ["certificate"]  # not about a namespace
    assert "system:anonymous" not in result.text and "shop/" not in result.text
    assert "(4 lines about namespaces outside this agent's boundaries not shown)" in result.text


async def test_account_id_selects_the_tenant(store: victorialogs.VictoriaLogs) -> None:
    labels = {"namespace": "shop", "app": "tenant-five", "pod": "t-0"}
    store.push(labels, [(time.time_ns(), "line of tenant five")], account_id=5)
    store.flush()

    default = await _search(_toolset(store.url), pattern="line of tenant five")
    five = await _search(_toolset(store.url, account_id=5), pattern="line of tenant five")

    assert default.status is ToolStatus.NO_DATA
    assert five.status is ToolStatus.OK and len(_rows(five)) == 1


async def test_basic_auth_comes_from_the_broker_credential() -> None:
    victorialogs.require()
    with victorialogs.running(auth=("nightshift", "pw-4f1c")) as guarded:
        guarded.push(
            {"namespace": "shop", "app": "a", "pod": "a-0"}, [(time.time_ns(), "behind auth")]
        )
        guarded.flush()
        source = SourceConfig(
            name="logs", kind=SourceKind.VICTORIALOGS, domain="application", url=guarded.url
        )
        creds = {(Domain.APPLICATION, "default"): {"username": "nightshift", "password": "pw-4f1c"}}
        granted = build_toolset([source], SourceContext("inv", frozenset({"*"}), credentials=creds))
        anonymous = build_toolset([source], SourceContext("inv", frozenset({"*"})))

        allowed = await _search(granted, pattern="behind auth")
        refused = await _search(anonymous, pattern="behind auth")

    assert allowed.status is ToolStatus.OK and len(_rows(allowed)) == 1
    assert refused.status is ToolStatus.ERROR
    assert refused.text.startswith("source unavailable: victorialogs source 'logs'")
    assert "HTTP 401" in refused.text
    assert "pw-4f1c" not in allowed.text + refused.text
