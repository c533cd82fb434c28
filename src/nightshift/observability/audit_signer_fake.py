"""An in-memory anchor signer for unit tests: HMAC under a key of its own, and a
switch that makes it unreachable the way a Vault/OpenBao outage does."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from nightshift.observability.audit_anchor import SignerUnavailable


class FakeSigner:
    def __init__(self, name: str = "fake key") -> None:
        self.name = name
        self.down = False  # True: sign/verify raise SignerUnavailable
        self.signed = 0  # how many signatures it made
        self._key = secrets.token_bytes(32)  # each fake is a different key

    def sign(self, message: bytes) -> str:
        self._reachable()
        self.signed += 1
        return "fake:" + hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, signature: str) -> bool:
        self._reachable()
        expected = "fake:" + hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def _reachable(self) -> None:
        if self.down:
            raise SignerUnavailable(f"{self.name}: signer unreachable")
