"""In-process fakes of ``ChatModel`` for tests and the token benchmark.

``ScriptedChatModel`` replays fixed responses (or a function of the request).
``AnalystModel`` is a deterministic stand-in for a cooperative model: it reads
the compact prompt back (hypothesis lines and suggested checks), endorses the
analyzers' ranking and asks for the suggested checks, and reports usage as
the prompt size under the benchmark's token estimate, with the stable prefix
counted as cached after the first call (what provider prompt caches do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from itertools import count

from nightshift.agent.reasoners.llm.accounting import estimate_request, estimate_tokens
from nightshift.agent.reasoners.llm.answer import ASSESS
from nightshift.agent.reasoners.llm.provider import (
    ChatRequest,
    ChatResponse,
    ModelToolCall,
    Usage,
)

Responder = Callable[[ChatRequest], ChatResponse]
_TREE = re.compile(
    r"^h\d+\*? (?P<res>\S+) (?P<fault>[a-z0-9-]+) (?P<conf>[01]\.\d\d)(?:.*? a=(?P<a>[01]\.\d\d))?"
)
_CALL = re.compile(r"^(?P<name>[a-z_]+) (?P<params>\{.*\})$")


class ScriptedChatModel:
    provider = "scripted"

    def __init__(self, responses: Sequence[ChatResponse] | Responder, model: str = "fake") -> None:
        self.model = model
        self._responses = responses if callable(responses) else list(responses)
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        if callable(self._responses):
            return self._responses(request)
        return self._responses.pop(0)


def usage_of(request: ChatRequest, text_out: str, first: bool) -> Usage:
    prefix = estimate_request(ChatRequest(request.system, "", request.tools))
    total = estimate_request(request)
    return Usage(total, estimate_tokens(text_out), 0 if first else prefix, prefix if first else 0)


class AnalystModel:
    """Endorses the analyzers' ranking; done when the top clears ``threshold``."""

    provider = "scripted"

    def __init__(self, model: str = "analyst", threshold: float = 0.85) -> None:
        self.model = model
        self.threshold = threshold
        self.requests: list[ChatRequest] = []
        self._ids = count(1)
        self._leaders: list[object] = []

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return self.answer(request)

    def answer(self, request: ChatRequest) -> ChatResponse:
        """Synchronous, so a fake HTTP server thread can serve it too."""
        first = not self.requests
        self.requests.append(request)
        hypotheses, calls = read_prompt(request.user)
        top = max((float(str(h["confidence"])) for h in hypotheses), default=0.0)
        # Done when confident, when nothing is left to ask, or when the leader
        # survived two rounds of new evidence unchanged (more looks will not move it).
        self._leaders.append(hypotheses[0]["fault"] if hypotheses else None)
        stable = len(self._leaders) >= 3 and len(set(self._leaders[-3:])) == 1
        done = top >= self.threshold or not calls or stable
        tool_calls = [
            ModelToolCall(f"call_{next(self._ids)}", name, json.dumps(params))
            for name, params in ([] if done else calls[:4])
        ]
        assess = json.dumps({"hypotheses": hypotheses[:5], "done": done})
        tool_calls.append(ModelToolCall(f"call_{next(self._ids)}", ASSESS, assess))
        out = "".join(c.arguments for c in tool_calls)
        return ChatResponse("", tuple(tool_calls), usage_of(request, out, first), self.model)


def read_prompt(user: str) -> tuple[list[dict[str, object]], list[tuple[str, dict[str, object]]]]:
    """(hypotheses as the assess tool wants them, suggested calls) from a prompt."""
    hypotheses: list[dict[str, object]] = []
    calls: list[tuple[str, dict[str, object]]] = []
    section = ""
    for line in user.splitlines():
        if line.startswith(("HYPOTHESES", "ANALYZER SUGGESTED", "EVIDENCE INDEX", "NEW EVIDENCE")):
            section = line.split()[0]
            continue
        if section == "HYPOTHESES" and (m := _TREE.match(line)):
            conf = float(m["a"] or m["conf"])
            hypotheses.append({"resource": m["res"], "fault": m["fault"], "confidence": conf})
        elif section == "ANALYZER" and (m := _CALL.match(line)):
            calls.append((m["name"], json.loads(m["params"])))
    return hypotheses, calls
