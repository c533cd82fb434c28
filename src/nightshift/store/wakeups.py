"""Wake-ups across control-plane replicas on one PostgreSQL: LISTEN/NOTIFY.

Each replica's event bus and dispatcher wake in-process on every change of an
investigation. With several replicas, a change written by one (a worker's
events, an end, a submission) must also wake SSE followers and the dispatcher
on the others. ``publish`` queues the investigation id; a sender thread sends
the queued ids as NOTIFYs, so a request thread never waits for the network. A
listener thread on its own connection hands every other replica's id to
``on_wake``. Best effort by design: the database stays the source of truth, so
a lost notification (a connection cut, a restart) only delays a follower until
its next poll. After every (re)connection the listener wakes everyone once, so
a wake-up missed while disconnected costs nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CHANNEL = "nightshift_wake"
EVERYONE = ""  # the id passed to on_wake after a reconnection: wake every waiter
_POLL_SECONDS = 1.0
_RETRY_SECONDS = 2.0


def libpq_dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgWakeups:
    def __init__(self, url: str, replica: str, on_wake: Callable[[str], None]) -> None:
        self._dsn = libpq_dsn(url)
        self._replica = replica
        self._on_wake = on_wake
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._queued = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def publish(self, investigation_id: str) -> None:
        with self._lock:
            self._pending.add(investigation_id)
        self._queued.set()

    def start(self) -> None:
        for target, name in ((self._listen, "wakeups-listen"), (self._send, "wakeups-send")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        self._queued.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _send(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while not self._stop.is_set():
            self._queued.wait(_POLL_SECONDS)
            self._queued.clear()
            with self._lock:
                batch, self._pending = sorted(self._pending), set()
            if not batch:
                continue
            payloads = [f"{self._replica}|{inv_id}" for inv_id in batch]
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
                conn.execute(
                    "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, payloads)
                )
            except psycopg.Error as exc:  # dropped: followers poll meanwhile
                log.warning("could not send %d wake-up(s): %s", len(batch), exc)
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(_RETRY_SECONDS)
        if conn is not None:
            conn.close()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._on_wake(EVERYONE)  # whatever was missed while disconnected
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=_POLL_SECONDS):
                            sender, _, inv_id = note.payload.partition("|")
                            if sender != self._replica:
                                self._on_wake(inv_id)
            except psycopg.Error as exc:
                log.warning("wake-up listener disconnected (%s); retrying", exc)
                self._stop.wait(_RETRY_SECONDS)
