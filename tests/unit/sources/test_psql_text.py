"""The text pieces db_stats answers are made of: psql tables, bounded one-line
statements that never carry a password literal, and session ages."""

from __future__ import annotations

from nightshift.sources.postgresql import exhausted
from nightshift.sources.psql_table import age, one_line, psql_table


def test_tables_look_like_psql() -> None:
    text = psql_table(["state", "count"], [["active", "3"], ["idle in transaction", "12"]])
    assert text.splitlines() == [
        "        state        | count",
        "---------------------+-------",
        " active              |     3",
        " idle in transaction |    12",
        "(2 rows)",
    ]


def test_statement_text_is_one_bounded_line_without_password_literals() -> None:
    assert one_line("SELECT *\n  FROM orders\tWHERE id = $1", 100) == (
        "SELECT * FROM orders WHERE id = $1"
    )
    assert one_line("x" * 50, 10) == "x" * 9 + "…"
    assert one_line("ALTER ROLE app PASSWORD 'hunter2' VALID UNTIL 'infinity'", 200) == (
        "ALTER ROLE app PASSWORD '***' VALID UNTIL 'infinity'"
    )
    assert "s3cr'et" not in one_line("CREATE USER a WITH password='s3cr''et'", 200)
    assert one_line(None, 10) == ""


def test_ages_read_like_durations() -> None:
    assert [age(None), age(2.345), age(125), age(7300)] == ["-", "2.3s", "2m05s", "2h01m"]


def test_refusals_for_want_of_slots_are_recognised() -> None:
    assert exhausted("FATAL:  sorry, too many clients already")
    assert exhausted(
        "FATAL:  remaining connection slots are reserved for non-replication superuser connections"
    )
    assert exhausted('FATAL:  too many connections for role "checkout"')
    assert not exhausted('FATAL:  password authentication failed for user "x"')
