"""One question to the model: budget check, transport retries, validation
retries and an accounting record for every round trip.

Transport failures (429, 5xx, timeouts, dropped connections) are retried with
exponential backoff, honouring the server's Retry-After; a Retry-After longer
than ``backoff_max_s`` ends the attempt instead of stalling the investigation.
An answer that breaks the contract is retried with the validation errors, a
bounded number of times. Every round trip, failed or not, is recorded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from nightshift.agent.reasoners.llm.accounting import (
    CallRecord,
    PriceTable,
    TokenBudget,
    estimate_request,
)
from nightshift.agent.reasoners.llm.answer import Answer, AnswerInvalid, parse_answer
from nightshift.agent.reasoners.llm.provider import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    ModelError,
    RetryableModelError,
    ToolDef,
    Usage,
)

Sleep = Callable[[float], Awaitable[None]]
RecordSink = Callable[[CallRecord], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3  # transport retries after the first attempt
    max_invalid_retries: int = 2  # re-asks after a contract violation
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None = give up."""
        if retry_after is not None:
            return retry_after if retry_after <= self.backoff_max_s else None
        return float(min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s))


class ModelCaller:
    def __init__(
        self,
        model: ChatModel,
        budget: TokenBudget,
        prices: PriceTable,
        retry: RetryPolicy,
        sleep: Sleep,
        sink: RecordSink,
    ) -> None:
        self.model = model
        self.budget = budget
        self.prices = prices
        self.retry = retry
        self._sleep = sleep
        self._sink = sink

    async def ask(
        self, request: ChatRequest, tools: Sequence[ToolDef], faults: frozenset[str]
    ) -> Answer:
        """A valid answer, or AnswerInvalid / ModelError / TokenBudgetExhausted."""
        current = request
        purpose = "assess"
        for round_ in range(self.retry.max_invalid_retries + 1):
            response, record = await self._send(current, purpose)
            try:
                answer = parse_answer(response, tools, faults)
            except AnswerInvalid as exc:
                self._sink(replace(record, status="invalid", error=str(exc)[:500]))
                if round_ == self.retry.max_invalid_retries:
                    raise
                current = replace(
                    request,
                    user=f"{request.user}\n\nYOUR PREVIOUS ANSWER WAS REJECTED: {exc}\n"
                    "Answer again, following the answer contract.",
                )
                purpose = "retry-invalid"
                continue
            self._sink(record)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, request: ChatRequest, purpose: str) -> tuple[ChatResponse, CallRecord]:
        # Hand-rolled, not tenacity: each attempt reserves budget and is recorded (issue 18).
        attempt = 0
        while True:
            attempt += 1
            estimate = estimate_request(request)
            self.budget.reserve(estimate, request.max_output_tokens)
            t0 = time.monotonic()
            try:
                response = await self.model.complete(request)
            except RetryableModelError as exc:
                self._record_error(purpose, attempt, t0, estimate, exc)
                wait = self.retry.delay(attempt, exc.retry_after)
                if attempt > self.retry.max_retries or wait is None:
                    raise
                await self._sleep(wait)
                continue
            except ModelError as exc:
                self._record_error(purpose, attempt, t0, estimate, exc)
                raise
            self.budget.charge(response.usage)
            return response, self._record(
                purpose, attempt, t0, estimate, response.usage, response.model
            )

    def _record(
        self,
        purpose: str,
        attempt: int,
        t0: float,
        estimate: int,
        usage: Usage,
        model: str | None = None,
        status: str = "ok",
        error: str | None = None,
    ) -> CallRecord:
        name = model or self.model.model
        return CallRecord(
            provider=self.model.provider,
            model=name,
            purpose=purpose,
            attempt=attempt,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens,
            latency_ms=(time.monotonic() - t0) * 1000,
            cost_usd=self.prices.cost(name, usage),
            status=status,
            error=error,
            estimated_input_tokens=estimate,
        )

    def _record_error(
        self, purpose: str, attempt: int, t0: float, estimate: int, exc: ModelError
    ) -> None:
        status = f" (HTTP {exc.status})" if exc.status else ""
        self._sink(
            self._record(
                purpose, attempt, t0, estimate, Usage(), status="error", error=f"{exc}{status}"
            )
        )
