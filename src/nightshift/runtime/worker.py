"""The agent worker: one process (or pod) per investigation.

It starts with only the investigation id, the control-plane URL and a
per-investigation token (on an inherited pipe or, in a Job, from its
environment; never argv). It fetches its spec, builds its read-only
toolset, runs the agent loop, streams events back in small batches, posts
its result and exits. It holds no write credentials: its token can only
touch its own investigation's worker endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.investigation import stream_investigation
from nightshift.agent.limits import Limits
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import Toolset
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.diagnosis import Diagnosis
from nightshift.domain.vocabulary import Domain
from nightshift.observability import jsonlog
from nightshift.observability.redaction import Redactor
from nightshift.runtime.agent_log import AgentLog
from nightshift.runtime.executors.protocol import EXIT_OUT_OF_MEMORY, SECRETS_FD_ENV
from nightshift.runtime.model_accounting import charging_model_calls
from nightshift.runtime.proposal_drafts import propose_remediations
from nightshift.runtime.uplink import RedactingPoster, Uplink
from nightshift.runtime.worker_policy import WorkerGovernance
from nightshift.runtime.worker_secrets import DomainCredentials
from nightshift.runtime.worker_secrets import obtain as obtain_credentials
from nightshift.sources.bounds import declared_destinations
from nightshift.sources.context import SourceContext
from nightshift.worker_settings import WorkerSettings
from nightshift.worker_spec import WorkerBriefing, WorkerSpec

if TYPE_CHECKING:
    from nightshift.agent.reasoners.protocol import Reasoner
    from nightshift.observability.worker_trace import WorkerTrace

log = logging.getLogger("nightshift.worker")
# The model's API key: the application domain's "llm" credential source.
LLM_SOURCE = (Domain.APPLICATION, "llm")
TOKEN_ENV = "NIGHTSHIFT_WORKER_TOKEN"  # noqa: S105 - a variable name
HANDOFF_ENV = "NIGHTSHIFT_SECRETS_HANDOFF"
_TIMEOUT_SECONDS = 30


class WorkerError(RuntimeError):
    pass


@cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context for the control plane, built once per process
    (httpx builds one per client: ~40 ms of loading the CA bundle)."""
    return httpx.create_ssl_context()


def prewarm() -> None:
    """What every worker builds the same way, built once in the worker template
    before it forks: static data only, nothing of any investigation."""
    from nightshift.domain.taxonomy import load_taxonomy

    tls_context()
    # httpx imports its transport (httpcore, h11, anyio) at the first client and
    # anyio its asyncio backend at the first request: ~70 modules, 25 ms a child.
    import importlib

    for lazy in ("httpcore", "anyio._backends._asyncio", "anyio.streams.tls", "anyio.to_thread"):
        with contextlib.suppress(ImportError):
            importlib.import_module(lazy)
    load_action_catalog()
    load_taxonomy()  # the offline reasoner's fault catalog, parsed at its start
    # The shipped scenarios are package data, like the taxonomy: parsed once here
    # (~0.1 s and ~6 MB for all of them), each child finds its own already parsed
    # (the parse was ~10 % of a forked worker's CPU). A child only reads it, and
    # whatever a child did to its copy would stay in that child. The parse is
    # keyed by the file's mtime and size, so an upgraded file is parsed again.
    from nightshift.scenarios import list_scenarios, load_installed

    for shipped in list_scenarios():
        load_installed(shipped.name)


def build_toolset(spec: WorkerSpec, context: SourceContext) -> tuple[Toolset, tuple[str, ...]]:
    """The read-only toolset over the evidence sources this spec allows, and why any
    of them could not be set up (reported, while the others are read)."""
    from nightshift.sources.registry import assemble

    return assemble(spec.sources, context)


def build_request(spec: WorkerSpec) -> InvestigationRequest:
    return InvestigationRequest(
        question=spec.question,
        alert_labels=dict(spec.alert),
        namespace=spec.namespace,
        domains=spec.domains,
        tier=spec.tier,
        scenario=spec.scenario,
    )


def credential_sources(spec: WorkerSpec) -> list[tuple[Domain, str]]:
    """The broker sources the spec's evidence sources read, beyond each domain's default."""
    wanted = {(s.domain, s.credential) for s in spec.sources if s.credential != "default"}
    return sorted(wanted)


def build_limits(spec: WorkerSpec) -> Limits:
    """The tier's budgets, with the reasoning-depth bound the control plane
    computed from recent successful runs (``max_cycles`` in the spec), if any."""
    limits = Limits.for_tier(spec.tier)
    bound = spec.max_cycles
    if bound is not None:
        return replace(limits, max_cycles=bound, max_tool_calls=bound * limits.calls_per_cycle)
    return limits


def control_plane_client(
    api_url: str, token: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The worker's client: its token on every request, the shared verifying TLS
    context. ``transport`` replaces the network (tests pass the app in-process)."""
    return httpx.AsyncClient(
        base_url=api_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=_TIMEOUT_SECONDS,
        verify=tls_context(),
        transport=transport,
    )


async def run_worker(
    inv_id: str,
    client: httpx.AsyncClient,
    secrets: WorkerSettings,
    redactor: Redactor,
    trace: WorkerTrace | None = None,
    reasoner: Reasoner | None = None,
) -> int:
    """Run one investigation over ``client`` (see ``control_plane_client``; the caller
    closes it). ``redactor`` also guards this process's log output. ``reasoner``
    reasons when the briefing names no model (the offline reasoner if None)."""
    resp = await client.get(f"/v1/investigations/{inv_id}/worker/spec")
    resp.raise_for_status()
    briefing = WorkerBriefing.model_validate(resp.json())
    spec = briefing.spec
    poster = RedactingPoster(client, redactor)
    uplink = Uplink(poster, inv_id)
    closers: list[Callable[[], Awaitable[None]]] = []
    try:
        request = build_request(spec)
        llm_config = briefing.llm
        sources = credential_sources(spec) + ([LLM_SOURCE] if llm_config else [])
        credentials = await obtain_credentials(secrets, client, inv_id, request.domains, sources)
        redactor.add(*credentials.secret_values())
        identity = identity_from(briefing.identity)
        governance = WorkerGovernance(
            identity,
            briefing.chain_id,
            load_action_catalog(),
            inherited_header=spec.chain_header,
            # probes may reach the declared sources' hosts and the allow-list
            destinations=declared_destinations(spec.sources),
        )
        context = SourceContext(
            investigation_id=inv_id,
            namespaces=identity.boundaries.namespaces,
            credentials=credentials.by_key(),
            control_plane=client,
            declared=spec.sources,
        )
        sourced, problems = build_toolset(spec, context)
        for problem in problems:
            log.warning("%s", problem)
            await uplink.add(AgentEvent(EventKind.LOG, {"level": "warning", "message": problem}))
        toolset: Toolset = governance.wrap(sourced)
        if trace is not None:
            toolset = trace.wrap(toolset)  # outermost: denied calls are traced too
        diagnosis: Diagnosis | None = None
        stream = _agent_stream(
            request, toolset, build_limits(spec), llm_config, credentials, reasoner, closers
        )
        agent_log = AgentLog(logging.getLogger("nightshift.agent"))
        async for item in charging_model_calls(stream, governance):
            for decided in governance.drain():
                await uplink.add(decided)
            if isinstance(item, Diagnosis):
                diagnosis = item
                continue
            if item.kind is EventKind.TOOL_REQUESTED:
                governance.intent = str(item.data.get("reason") or "")
            await uplink.add(item)
            agent_log.observe(item)
            if trace is not None:
                trace.observe(item)
        await uplink.flush()
        if diagnosis is None:
            raise WorkerError("the agent loop ended without a diagnosis")
        status = "escalated" if diagnosis.escalate else "succeeded"
        body: dict[str, Any] = {
            "status": status,
            "reason": diagnosis.summary or diagnosis.outcome.value,
            "result": diagnosis.to_dict(),
        }
        # Proposals go first: the result ends the investigation and revokes this token.
        await propose_remediations_to(poster, inv_id, diagnosis)
    except MemoryError:
        raise
    except Exception as exc:
        log.exception("investigation failed")
        await _best_effort_flush(uplink)
        body = {"status": "failed", "reason": f"worker error: {type(exc).__name__}: {exc}"}
    finally:
        for close in closers:
            await close()
    if trace is not None:  # the result ends the unit (SIGTERM): export spans first
        await asyncio.to_thread(trace.flush)
    resp = await poster.post(f"/v1/investigations/{inv_id}/worker/result", body)
    resp.raise_for_status()
    return 0 if body["status"] != "failed" else 1


def _agent_stream(
    request: InvestigationRequest,
    toolset: Toolset,
    limits: Limits,
    llm_config: dict[str, Any] | None,
    credentials: DomainCredentials,
    reasoner: Reasoner | None,
    closers: list[Callable[[], Awaitable[None]]],
) -> AsyncIterator[AgentEvent | Diagnosis]:
    """The agent loop's stream: the briefing's model when it names one, else
    ``reasoner`` (the offline reasoner if None). A model's close goes on ``closers``."""
    if not llm_config and reasoner is None:
        return stream_investigation(request, toolset, limits=limits)
    # The model stack (SDK clients, JSON Schema) only for workers that use it.
    from nightshift.agent.reasoners.llm.stream import stream_reasoned_investigation

    if llm_config:
        from nightshift.model_backends.factory import build_reasoner

        model_reasoner = build_reasoner(
            llm_config, credentials.by_source.get(LLM_SOURCE, {}), tier=request.tier
        )
        close = getattr(model_reasoner.model, "close", None)
        if close is not None:  # the SDK clients hold connection pools
            closers.append(close)
        reasoner = model_reasoner
    return stream_reasoned_investigation(request, toolset, reasoner, limits=limits)


async def propose_remediations_to(
    poster: RedactingPoster, inv_id: str, diagnosis: Diagnosis
) -> None:
    """Post the diagnosis' remediation proposals; policy decides each in the control
    plane. Best effort: a failure is logged and the diagnosis still goes out."""
    try:
        drafts = propose_remediations(diagnosis, load_action_catalog())
        if not drafts:
            return
        payload = {"proposals": [d.to_dict() for d in drafts]}
        resp = await poster.post(f"/v1/investigations/{inv_id}/worker/proposals", payload)
        resp.raise_for_status()
        for item in resp.json():
            log.info("proposed %s: %s", item["action"], item["status"])
    except Exception as exc:  # proposals are optional; losing the diagnosis is not
        log.warning("could not propose remediations: %s: %s", type(exc).__name__, exc)


async def _best_effort_flush(uplink: Uplink) -> None:
    try:
        await uplink.flush()
    except httpx.HTTPError:
        log.warning("could not flush the last events")


def read_worker_secrets() -> tuple[str, WorkerSettings]:
    """The worker token and settings. A local worker gets the token and hand-off on
    an inherited pipe (``SECRETS_FD_ENV``); a Job gets them in its environment from
    a Secret. Either way they are read once and not passed on to child processes."""
    fd_text = os.environ.pop(SECRETS_FD_ENV, "")
    if fd_text:
        with os.fdopen(int(fd_text), "rb") as pipe:
            given = json.loads(pipe.read() or b"{}")
        os.environ.pop(TOKEN_ENV, None)
        os.environ.pop(HANDOFF_ENV, None)
        handoff = str(given.get("handoff", ""))
        return str(given.get("token", "")), WorkerSettings.from_env(secrets_handoff=handoff)
    token = os.environ.pop(TOKEN_ENV, "")
    secrets = WorkerSettings.from_env()
    os.environ.pop(HANDOFF_ENV, None)  # read once; a child process must not inherit it
    return token, secrets


def main(inv_id: str, api_url: str) -> int:
    token, secrets = read_worker_secrets()
    redactor = Redactor([token, secrets.secrets_handoff])
    jsonlog.configure(inv_id, redactor)
    if not token:
        log.error("no worker token in %s", TOKEN_ENV)
        return 2
    trace = _trace_from_env(inv_id)
    try:
        return asyncio.run(_run(inv_id, api_url, token, secrets, redactor, trace))
    except MemoryError:
        os.write(2, b"out of memory\n")
        os._exit(EXIT_OUT_OF_MEMORY)
    except httpx.HTTPError as exc:
        log.error("control plane unreachable or refused: %s", exc)
        return 1
    finally:
        if trace is not None:
            trace.close()


async def _run(
    inv_id: str,
    api_url: str,
    token: str,
    secrets: WorkerSettings,
    redactor: Redactor,
    trace: WorkerTrace | None,
) -> int:
    async with control_plane_client(api_url, token) as client:
        return await run_worker(inv_id, client, secrets, redactor, trace)


def _trace_from_env(inv_id: str) -> WorkerTrace | None:
    """The investigation's trace, continued here when the control plane sent one
    (OpenTelemetry is imported only then: untraced workers start faster)."""
    if not os.environ.get("TRACEPARENT"):  # observability.tracing.TRACEPARENT_ENV
        return None
    from nightshift.observability.worker_trace import WorkerTrace

    return WorkerTrace.from_env(os.environ, inv_id)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1], sys.argv[2]))
