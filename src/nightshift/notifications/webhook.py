"""POST an escalation as JSON (Slack-compatible payload) to a webhook URL."""

from __future__ import annotations

import logging

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_incrementing,
)

from nightshift.notifications.protocol import Delivery, EscalationNotice, slack_payload

log = logging.getLogger(__name__)


class _Undelivered(Exception):
    """An answer worth trying again for: 5xx or 429."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")


class WebhookNotifier:
    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._retries = max(1, retries)
        self._backoff = backoff
        self._transport = transport

    def send(self, notice: EscalationNotice) -> Delivery:
        payload = slack_payload(notice)
        retrying = Retrying(
            retry=retry_if_exception_type((httpx.HTTPError, _Undelivered)),
            stop=stop_after_attempt(self._retries),
            # backoff, 2*backoff, ...: the n-th wait is backoff * n
            wait=wait_incrementing(start=self._backoff, increment=self._backoff),
            retry_error_callback=_last_outcome,
            reraise=False,
        )
        with httpx.Client(timeout=self._timeout, transport=self._transport) as client:

            def post() -> str:
                """Empty when delivered, else why not (a 4xx other than 429 is final)."""
                resp = client.post(self._url, json=payload)
                if resp.status_code >= 500 or resp.status_code == 429:
                    raise _Undelivered(resp.status_code)
                return "" if resp.status_code < 400 else f"HTTP {resp.status_code}"

            error: str = retrying(post)
        attempts = retrying.statistics["attempt_number"]
        if not error:
            return Delivery(self.name, True, attempts)
        log.warning("escalation %s not delivered: %s", notice.escalation_id, error)
        return Delivery(self.name, False, attempts, error)


def _last_outcome(state: RetryCallState) -> str:
    """Out of attempts: the last failure, as the Delivery records it."""
    assert state.outcome is not None  # tenacity calls this after an attempt
    exc = state.outcome.exception()
    if isinstance(exc, _Undelivered):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
