"""Builders for control-plane tests: a container on a given database with a
fake executor, and callers holding each role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nightshift.bootstrap import Container, build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.runtime.executors.fake import FakeExecutor
from nightshift.services.demo_identities import DEMO_BOUNDARIES
from nightshift.settings import Settings


@dataclass
class World:
    container: Container
    executor: FakeExecutor
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


# Free-form questions need a declared evidence source; the test world declares the
# simulated world as one (a deployment may do the same for a demo).
TEST_SOURCES = """\
version: 1
sources:
  - name: demo-world
    kind: simulated
    domain: application
    settings: {scenario: two-am-cascade}
"""


def make_world(tmp: Path, database_url: str = "", **overrides: object) -> World:
    if "sources_file" not in overrides:
        sources = tmp / "sources.yaml"
        sources.write_text(TEST_SOURCES)
        overrides["sources_file"] = sources
    settings = Settings(
        data_dir=tmp,
        database_url=database_url,
        port=18080,
        dispatch_interval_seconds=0.05,
        **overrides,  # type: ignore[arg-type]
    )
    fake = FakeExecutor()

    def factory(_: Settings, on_exit: object) -> FakeExecutor:
        fake.on_exit = on_exit  # type: ignore[assignment]
        return fake

    container = build_container(settings, executor_factory=factory)
    p = container.principals
    tokens: dict[str, str] = {}
    for name, roles in {
        "admin": {Role.ADMIN},
        "lead": {Role.OPS_LEAD},
        "operator": {Role.OPERATOR},
        "viewer": {Role.VIEWER},
    }.items():
        p.create_user(
            name, kind=PrincipalKind.HUMAN, roles=frozenset(roles), contact=f"{name}@example.org"
        )
        tokens[name] = p.create_token(name)
    container.agents.register(
        "triage",
        owner="lead",
        authority_class="supervised",
        trust_phase="assist",
        boundaries=DEMO_BOUNDARIES,
    )
    return World(container, fake, tokens)
