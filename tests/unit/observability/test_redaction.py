from __future__ import annotations

import json
import threading

import pytest

from nightshift.observability.redaction import REDACTED, Redactor

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EifQ."
    "c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
)


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def test_values_it_was_handed_are_removed_wherever_they_appear() -> None:
    r = Redactor(["net-tok-5b2e91d0"])
    assert r.redact("curl -H 'X-Token: net-tok-5b2e91d0' http://x") == (
        f"curl -H 'X-Token: {REDACTED}' http://x"
    )
    assert r.redact("prefixnet-tok-5b2e91d0suffix") == f"prefix{REDACTED}suffix"


def test_url_encoded_and_json_escaped_spellings_of_a_value_are_removed_too() -> None:
    r = Redactor(['p@ss w/rd"x'])
    assert "p%40ss" not in r.redact("postgresql://app:p%40ss%20w%2Frd%22x@db/x")
    assert r.redact(json.dumps({"v": 'p@ss w/rd"x'})) == json.dumps({"v": REDACTED})


def test_a_value_containing_another_is_removed_whole() -> None:
    r = Redactor(["abcd", "abcdefgh"])
    assert r.redact("abcdefgh") == REDACTED


def test_very_short_values_are_ignored_so_ordinary_text_survives() -> None:
    r = Redactor(["a", "ok"])
    assert r.redact("a status ok") == "a status ok"


def test_values_added_later_are_removed_from_then_on(redactor: Redactor) -> None:
    assert redactor.redact("late-secret-1") == "late-secret-1"
    redactor.add("late-secret-1")
    assert redactor.redact("late-secret-1") == REDACTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdefghijklmnop.qrs", f"Authorization: {REDACTED}"),
        ("header bearer abcdefghij123", f"header bearer {REDACTED}"),
        ("Basic dXNlcjpwYXNzd29yZA==", f"Basic {REDACTED}"),
        ("key AKIAIOSFODNN7EXAMPLE used", f"key {REDACTED} used"),
        ("password=hunter2 user=bob", f"password={REDACTED} user=bob"),
        ("DB_PASSWORD: s3cr3t!", f"DB_PASSWORD: {REDACTED}"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", f"aws_secret_access_key = {REDACTED}"),
        ("client_secret='abc def'", f"client_secret='{REDACTED}'"),
        (
            "postgresql://app:pw-123@db:5432/orders",
            f"postgresql://app:{REDACTED}@db:5432/orders",
        ),
        ("postgres+psycopg://u:x@h/d", f"postgres+psycopg://u:{REDACTED}@h/d"),
        (f"id_token {JWT} end", f"id_token {REDACTED} end"),
        ("token s.q0Xb4AZ3xEMWwKr5LXYiwBiW", f"token {REDACTED}"),
        ("hvs.CAESIJ0abcdefghijklmnopqrstuvwx", REDACTED),
        ("ghp_" + "a" * 36, REDACTED),
        ("sk-ant-api03-" + "b" * 30, REDACTED),
        ("nshc_" + "c" * 40, REDACTED),
        (f"key:\n{PEM}\nafter", f"key:\n{REDACTED}\nafter"),
    ],
)
def test_common_credential_shapes_are_removed(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.redact(text) == expected


def test_a_truncated_private_key_is_still_removed(redactor: Redactor) -> None:
    truncated = PEM.rsplit("-----END", 1)[0]
    assert "MIIEow" not in redactor.redact(truncated)


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens=512 token_count: 17",
        "http://host:8080/path?a=b@c",
        "the process ended. status ok",
        "process.abcdefghijklmnopqrstuvwx",
        "author: bob, keys=3",
        "pod checkout-7d9f restarted 3 times",
    ],
)
def test_ordinary_text_that_merely_looks_close_is_left_alone(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == text


def test_json_stays_valid_json_after_redaction(redactor: Redactor) -> None:
    doc = json.dumps({"password": "x1y2z3", "nested": {"api_key": "k-9"}, "n": 3})
    assert json.loads(redactor.redact(doc)) == {
        "password": REDACTED,
        "nested": {"api_key": REDACTED},
        "n": 3,
    }


def test_nested_structures_are_redacted_without_mutating_the_input() -> None:
    r = Redactor(["tok-in-text-123"])
    event = {
        "kind": "tool_result",
        "data": [
            {"client_secret": "cs-1", "count": 2, "ok": True},
            ("saw tok-in-text-123", None, 1.5),
        ],
        "headers": {"Authorization": "Bearer abcdefghijklmnop"},
        "password": 1234,
    }
    original = json.dumps(event)
    out = r.redact_obj(event)
    assert out == {
        "kind": "tool_result",
        "data": [
            {"client_secret": REDACTED, "count": 2, "ok": True},
            (f"saw {REDACTED}", None, 1.5),
        ],
        "headers": {"Authorization": REDACTED},
        "password": REDACTED,
    }
    assert json.dumps(event) == original


def test_values_may_be_added_while_other_threads_redact() -> None:
    r = Redactor()
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                r.redact("value-0001 and value-0059")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(60):
        r.add(f"value-{i:04d}")
    stop.set()
    thread.join()
    assert errors == []
    assert r.redact("value-0001 and value-0059") == f"{REDACTED} and {REDACTED}"


def test_a_secret_learned_later_is_redacted_in_text_seen_before() -> None:
    """Short strings' redactions are remembered; learning a value forgets them."""
    from nightshift.observability.redaction import Redactor

    r = Redactor()
    line = "dsn uses hunter2-orders"
    assert r.redact(line) == line  # remembered as clean
    r.add("hunter2-orders")
    assert r.redact(line) == "dsn uses [REDACTED]"
    long_line = line + " " + "x" * 1000  # past the remembered length: redacted every time
    assert r.redact(long_line).startswith("dsn uses [REDACTED] x")
