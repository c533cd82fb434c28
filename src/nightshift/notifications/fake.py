"""A notifier for tests: remembers what it was asked to send."""

from __future__ import annotations

from nightshift.notifications.protocol import Delivery, EscalationNotice


class FakeNotifier:
    name = "fake"

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[EscalationNotice] = []
        self.fail = fail

    def send(self, notice: EscalationNotice) -> Delivery:
        self.sent.append(notice)
        return Delivery(self.name, not self.fail, 1, "refused" if self.fail else "")
