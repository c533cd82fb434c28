"""POST an escalation as JSON (Slack-compatible payload) to a webhook URL."""

from __future__ import annotations

import logging
import time

import httpx

from nightshift.notifications.protocol import Delivery, EscalationNotice, slack_payload

log = logging.getLogger(__name__)


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
        error = ""
        with httpx.Client(timeout=self._timeout, transport=self._transport) as client:
            for attempt in range(1, self._retries + 1):
                try:
                    resp = client.post(self._url, json=payload)
                    if resp.status_code < 400:
                        return Delivery(self.name, True, attempt)
                    error = f"HTTP {resp.status_code}"
                    # A 4xx other than 429 will not get better by retrying.
                    if resp.status_code < 500 and resp.status_code != 429:
                        break
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                if attempt < self._retries:
                    time.sleep(self._backoff * attempt)
        log.warning("escalation %s not delivered: %s", notice.escalation_id, error)
        return Delivery(self.name, False, attempt, error)
