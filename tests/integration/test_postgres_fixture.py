import psycopg

from tests.support.postgres import PostgresServer


def test_postgres_server_accepts_connections_on_loopback(pg_server: PostgresServer) -> None:
    url = pg_server.create_database("fixture_check")
    assert "127.0.0.1" in url
    with psycopg.connect(pg_server.admin_dsn) as conn:
        row = conn.execute("select version()").fetchone()
    assert row is not None and "PostgreSQL" in row[0]
