"""Engine and session factory; migrations are applied before first use."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from nightshift.store.private_files import private_dir, private_file
from nightshift.store.storage_errors import storage_problem

# A write probe takes the write lock briefly, so readiness checks are cached.
_PROBE_SECONDS = 2.0
# A write that failed for storage reasons keeps readiness red this long, even
# when a rolled-back probe gets through (a full disk only shows on commit).
_FAILURE_SECONDS = 10.0


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    """An engine; for SQLite, ``immediate`` makes every transaction take the
    write lock up front (BEGIN IMMEDIATE), so read-then-write transactions
    queue on the busy timeout instead of failing with "database is locked"."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            private_dir(Path(path).parent)
            private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate if immediate else _begin_deferred)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while the dispatcher writes; foreign keys are off
    # by default in SQLite and we rely on them.
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """Owns the engine; ``transaction()`` is the one way services write."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url, immediate=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite readers use a second engine with deferred transactions so
        # they never wait for the write lock; PostgreSQL needs no such split.
        self._read_engine = make_engine(url) if url.startswith("sqlite") else self.engine
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)
        self._probe_lock = threading.Lock()
        self._probed: tuple[float, str | None] | None = None
        self._failed: tuple[float, str] | None = None
        self.probe_seconds = _PROBE_SECONDS
        self.failure_memory_seconds = _FAILURE_SECONDS

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        try:
            with self._sessions() as session, session.begin():
                yield session
        except Exception as exc:
            problem = storage_problem(exc)
            if problem is not None:
                self._failed = (time.monotonic(), problem)
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions() as session:
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    def write_problem(self) -> str | None:
        """Why the database cannot take writes now (``None``: it can).

        A write inside a transaction that is rolled back (cached for a couple
        of seconds), plus any storage failure a real write met recently."""
        now = time.monotonic()
        with self._probe_lock:
            if self._probed is None or now - self._probed[0] > self.probe_seconds:
                self._probed = (now, self._probe_write())
            probed = self._probed[1]
        failed = self._failed
        recent = failed is not None and now - failed[0] <= self.failure_memory_seconds
        if probed is None and failed is not None and recent:
            return failed[1]
        return probed

    def _probe_write(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                tx = conn.begin()
                try:
                    # Rewrites the one row to itself: a real write, rolled back.
                    conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                finally:
                    tx.rollback()
            return None
        except Exception as exc:
            return storage_problem(exc) or f"the database refused a write: {type(exc).__name__}"

    def dispose(self) -> None:
        self.engine.dispose()
        self._read_engine.dispose()
