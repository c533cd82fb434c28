"""The README's table of who may call what is true for reads: each concrete GET
it lists answers the role it names, and refuses every role below it. (It once
said `GET /v1/audit` needs viewer, while it needs ops-lead; the authorization
matrix covers the state-changing operations, this covers what the README says.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.control_plane import World

README = Path(__file__).resolve().parents[3] / "README.md"
# The roles a human token of the test world carries, lowest first; each implies those before it.
LADDER = (("viewer", "viewer"), ("operator", "operator"), ("ops-lead", "lead"))
_ITEM = re.compile(r"`([A-Z/]+) (/[^`\s?]*)[^`]*`")


def documented_reads(text: str) -> list[tuple[str, str]]:
    """(path, role) for each concrete ``GET /v1/...`` of the README's access table.
    A row's roles ("viewer / ops-lead") go with its items in order when they pair
    up one to one; otherwise its first role is the reads' role."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or "`GET /v1/" not in cells[0]:
            continue
        items = _ITEM.findall(cells[0])
        roles = [r.strip().split(" ")[0] for r in cells[1].split(" / ")]
        if not all(r in dict(LADDER) for r in roles):
            continue  # worker tokens, alert senders: not a human role
        for i, (method, path) in enumerate(items):
            if method != "GET" or not path.startswith("/v1/") or re.search(r"[{\[.]", path):
                continue
            found.append((path, roles[i] if len(roles) == len(items) else roles[0]))
    return found


READS = documented_reads(README.read_text())


def test_the_readme_lists_reads_at_more_than_one_role() -> None:
    assert len(READS) >= 10, READS
    assert {role for _, role in READS} >= {"viewer", "ops-lead"}
    assert ("/v1/audit", "ops-lead") in READS


@pytest.mark.parametrize(("path", "role"), READS, ids=[f"{p} {r}" for p, r in READS])
def test_a_documented_read_answers_its_role_and_refuses_those_below(
    client: TestClient, world: World, path: str, role: str
) -> None:
    names = [name for name, _ in LADDER]
    allowed = dict(LADDER)[role]
    got = client.get(path, headers=world.auth(allowed))
    assert got.status_code not in (401, 403), (path, role, got.text)
    for below, token in LADDER[: names.index(role)]:
        refused = client.get(path, headers=world.auth(token))
        assert refused.status_code == 403, (path, f"{below} passed", refused.text)
