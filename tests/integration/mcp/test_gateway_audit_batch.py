"""The gateway's audit group commit, on a real database: concurrent calls'
records share transactions, each caller returns only once its record is
committed, the hash chain verifies, and a failed append fails every caller of
its batch (so the gateway withholds their results)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nightshift.bootstrap import Container, build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.gateway.audit_batch import AuditBatcher
from nightshift.governance.decisions import Decision, Outcome, ReasonCode
from nightshift.observability.audit_chain import AuditEntry
from nightshift.services.gateway import decision_record
from nightshift.services.identities import identity_of, load_agent
from nightshift.settings import Settings
from nightshift.store.tables import AuditRecordRow

ALLOW = Decision(Outcome.ALLOW, ReasonCode.ALLOWED, "in scope")


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = build_container(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/n.db"))
    c.principals.create_user(
        "olivia", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPS_LEAD}), contact="o@x.org"
    )
    c.agents.register(
        "bench-bot", owner="olivia", authority_class="supervised", trust_phase="assist",
        boundaries={"domains": ["application"], "namespaces": ["*"]},
    )  # fmt: skip
    yield c
    c.db.dispose()


def _entries(c: Container, n: int) -> list[AuditEntry]:
    with c.db.read() as s:
        identity = identity_of(*load_agent(s, "bench-bot"))
    return [
        decision_record(identity, {"tool": "service_status", "call": i}, ALLOW,
                        intent=f"call {i}", chain_id="gw-test")
        for i in range(n)
    ]  # fmt: skip


def _count(c: Container) -> int:
    with c.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRecordRow)) or 0)


async def test_concurrent_records_share_commits_and_the_chain_verifies(
    container: Container,
) -> None:
    transactions: list[int] = []

    def append(entries: Sequence[AuditEntry]) -> None:
        transactions.append(len(entries))
        container.audit.append(entries)

    batcher = AuditBatcher(append)
    before = _count(container)

    async def one(entry: AuditEntry) -> int:
        await batcher.write(entry)
        return _count(container)  # committed by the time write returns

    seen = await asyncio.gather(*(one(e) for e in _entries(container, 60)))
    await batcher.close()
    assert sum(transactions) == 60 and len(transactions) < 60, transactions
    assert all(n > before for n in seen)
    assert _count(container) == before + 60
    report = container.audit.verify()
    assert report.ok, report.message
    with container.db.read() as s:
        rows = s.scalars(select(AuditRecordRow).where(AuditRecordRow.actor == "bench-bot"))
        calls = [r.body["request"]["call"] for r in sorted(rows, key=lambda r: r.seq)]
    assert calls == list(range(60))  # chained in submission order


async def test_a_failed_append_fails_every_caller_of_its_batch(container: Container) -> None:
    def broken(entries: Sequence[AuditEntry]) -> None:
        raise OSError("disk full")

    batcher = AuditBatcher(broken)
    outcomes = await asyncio.gather(
        *(batcher.write(e) for e in _entries(container, 5)), return_exceptions=True
    )
    await batcher.close()
    assert all(isinstance(o, OSError) for o in outcomes), outcomes
