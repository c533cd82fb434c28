"""The store behaves the same on SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import InvestigationStatus, PrincipalKind, Role, Tier
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.errors import QueueFull
from nightshift.services.investigations import SubmitRequest
from nightshift.store import migrate
from nightshift.store.tables import Base, InvestigationEventRow
from tests.support.control_plane import World

OPERATOR = Caller("operator", PrincipalKind.HUMAN, frozenset({Role.OPERATOR}))


def _request(title: str = "api 5xx") -> SubmitRequest:
    return SubmitRequest(agent="triage", title=title, tier=Tier.SINGLE_DOMAIN)


def test_migrations_create_exactly_the_tables_the_models_declare(world: World) -> None:
    engine = world.container.db.engine
    assert migrate.current_revision(engine) is not None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def _schema(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    found = inspect(engine)
    return {
        t: sorted((c["name"], str(c["type"])) for c in found.get_columns(t))
        for t in sorted(found.get_table_names())
    }


def test_migrations_are_idempotent(world: World) -> None:
    """Upgrading an up-to-date database again changes nothing: same revision,
    same tables and columns, and the rows already stored are still there."""
    engine = world.container.db.engine
    head = ScriptDirectory.from_config(migrate.alembic_config(world.container.db.url))
    revision = migrate.current_revision(engine)
    assert revision == head.get_current_head()
    schema = _schema(engine)
    agents = [a.name for a in world.container.agents.list()]
    assert agents == ["triage"]
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == revision
    assert _schema(engine) == schema
    assert [a.name for a in world.container.agents.list()] == agents


def test_concurrent_submissions_never_overfill_the_queue(world: World) -> None:
    svc = world.container.investigations
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        try:
            svc.submit(_request(f"burst {i}"), OPERATOR)
            result = "accepted"
        except QueueFull:
            result = "refused"
        with lock:
            outcomes.append(result)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(submit, range(40)))
    assert outcomes.count("accepted") == 20  # queue_capacity
    assert outcomes.count("refused") == 20
    page = svc.search(UNCONCEALED, status=InvestigationStatus.QUEUED, limit=200)
    assert len(page.items) == 20


def test_concurrent_event_appends_get_distinct_contiguous_sequence_numbers(world: World) -> None:
    svc = world.container.investigations
    inv = svc.submit(_request(), OPERATOR)
    world.container.dispatcher.dispatch_once()
    worker = Caller("worker", PrincipalKind.SERVICE, frozenset(), investigation_id=inv.id)

    def append(i: int) -> None:
        svc.append_events(inv.id, worker, [("log", {"n": i}), ("log", {"n": i, "second": True})])

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(append, range(30)))
    with world.container.db.read() as s:
        seqs = list(
            s.scalars(
                select(InvestigationEventRow.seq)
                .where(InvestigationEventRow.investigation_id == inv.id)
                .order_by(InvestigationEventRow.seq)
            )
        )
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == 2 + 1 + 60  # queued, dispatched, running + 60 appended


def test_json_payloads_round_trip_unicode_and_nesting(world: World) -> None:
    svc = world.container.investigations
    inv = svc.submit(_request("Zeitüberschreitung \u2013 数据库 🔥"), OPERATOR)
    got = svc.get(inv.id, UNCONCEALED)
    assert got.title == "Zeitüberschreitung \u2013 数据库 🔥"
    assert got.spec["tier"] == "single-domain"


def test_terminate_is_exactly_once_under_racing_reporters(world: World) -> None:
    svc = world.container.investigations
    inv = svc.submit(_request(), OPERATOR)
    world.container.dispatcher.dispatch_once()
    results: list[str] = []

    def end(status: InvestigationStatus) -> None:
        view = svc.terminate(inv.id, status, f"by {status.value}", only_if_active=True)
        results.append(view.status.value)

    threads = [
        threading.Thread(target=end, args=(st,))
        for st in (InvestigationStatus.FAILED, InvestigationStatus.CANCELLED) * 3
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = svc.get(inv.id, UNCONCEALED)
    assert final.status.terminal
    assert set(results) == {final.status.value}
    terminal_events = [
        e
        for e in svc.events(inv.id, UNCONCEALED)
        if e.kind == "status" and e.data["status"] == final.status.value
    ]
    assert len(terminal_events) == 1
