"""An agent with a model configured runs its investigation through the LLM
path in a real worker process: the API key comes from the secret broker (never
the environment or the database), every model call is accounted on the
investigation, and the key appears nowhere afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from nightshift.agent.reasoners.llm.fake import AnalystModel
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Domain, PrincipalKind, Role
from nightshift.secrets.local_store import LocalSecretStore
from nightshift.services.stewardship import StewardshipService
from tests.integration.secrets.test_full_run import _dump_database
from tests.support.fake_llm_server import FakeLLMServer, Reply, chat_responder
from tests.support.server import TERMINAL, ControlPlane

pytestmark = pytest.mark.slow
API_KEY = "sk-test-2b7d1c9e44aa"


def _configure(plane: ControlPlane, server: FakeLLMServer) -> None:
    from nightshift.bootstrap import build_container
    from nightshift.settings import Settings

    container = build_container(Settings(data_dir=plane.data_dir, database_url=plane.database_url))
    try:
        lead = Caller("oncall", PrincipalKind.HUMAN, frozenset({Role.ADMIN}))
        stewardship: StewardshipService = container.stewardship
        stewardship.set_llm(
            "triage",
            {
                "provider": "openai",
                "model": "gpt-test",
                "base_url": server.openai_base,
                "mode": "hybrid",
                "always": True,
                "prices": {"gpt-test": {"input": 2.5, "output": 10.0}},
            },
            lead,
        )
    finally:
        container.db.dispose()
    LocalSecretStore(plane.data_dir / "secrets").put(
        Domain.APPLICATION, "llm", {"api_key": API_KEY}
    )


def test_a_model_backed_agent_accounts_every_call_and_leaks_no_key(tmp_path: Path) -> None:
    server = FakeLLMServer().start()
    server.responder = chat_responder(AnalystModel().answer)
    plane = ControlPlane(tmp_path, f"sqlite:///{tmp_path / 'nightshift.db'}")
    plane.provision()
    _configure(plane, server)
    plane.start()
    try:
        with plane.client() as client:
            inv = plane.submit(client, scenario="two-am-cascade", title="2 AM storm")
            done = plane.wait_for(client, inv["id"], TERMINAL, timeout=120)
            assert done["status"] in {"succeeded", "escalated"}, (done, plane.log_text())
            events = client.get(f"/v1/investigations/{inv['id']}/events?follow=false").text
    finally:
        plane.stop()
        server.stop()
    assert server.received, "the worker never called the model"
    assert all(r.headers.get("authorization") == f"Bearer {API_KEY}" for r in server.received)
    assert "event: llm.call" in events
    assert done["result"]["stats"]["llm"]["calls"] >= 1
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.log"))
    for place in (_dump_database(plane.database_url), logs, events):
        assert API_KEY not in place


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, {"error": {"message": "rate limited"}}, {"retry-after": "1"}),
        Reply(503, {"error": {"message": "overloaded"}}),
    ],
    ids=["429", "503"],
)
def test_a_model_endpoint_that_only_refuses_still_ends_the_investigation_recorded(
    tmp_path: Path, reply: Reply
) -> None:
    # The fault matrix's "LLM endpoint down": every model call is refused; the
    # investigation still reaches a terminal state with a reason, and what the model
    # did not answer is on record, not lost.
    server = FakeLLMServer().start()
    server.responder = lambda _received: reply
    plane = ControlPlane(tmp_path, f"sqlite:///{tmp_path / 'nightshift.db'}")
    plane.provision()
    _configure(plane, server)
    plane.start()
    try:
        with plane.client() as client:
            inv = plane.submit(client, scenario="two-am-cascade", title="2 AM, model down")
            done = plane.wait_for(client, inv["id"], TERMINAL, timeout=180)
            events = client.get(f"/v1/investigations/{inv['id']}/events?follow=false").text
    finally:
        plane.stop()
        server.stop()
    assert server.received, "the worker never asked the model"
    # hybrid: the offline reasoner carries the run; the model's refusals are counted
    assert done["status"] in {"succeeded", "escalated"}, done
    llm = done["result"]["stats"]["llm"]
    assert llm["calls"] >= 1 and llm["errors"] == llm["calls"], llm
    assert llm["driving"] == "fallback" and str(reply.status) in llm["ended"], llm
    assert "event: llm.call" in events
