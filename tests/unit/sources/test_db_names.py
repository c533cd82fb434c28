"""The names a database source answers ``db_stats`` to, and the ones it offers."""

from __future__ import annotations

from nightshift.sources import db_names


def test_a_host_name_answers_whole_and_by_its_first_label() -> None:
    names = db_names.answer_names("orders-db.shop.svc", ["orders", "Primary"])
    assert names == {"orders-db.shop.svc", "orders-db", "orders", "primary"}


def test_an_address_is_matched_whole_never_by_its_first_octet() -> None:
    names = db_names.answer_names("127.0.0.1", ["orders"])
    assert "127" not in names
    assert "127.0.0.1" in names
    assert not db_names.wanted_names("127", "") & names


def test_a_refusal_lists_the_names_not_where_the_server_listens() -> None:
    assert db_names.known({"127.0.0.1", "orders", "::1", "pgbouncer"}) == "orders, pgbouncer"
    assert db_names.known({"10.0.0.7"}) == "none"
