"""The audit anchor's signer on Vault/OpenBao's transit engine.

The private key never leaves the server: the control plane sends the anchored
head and gets a signature back (``POST /v1/<mount>/sign/<key>``), and checks
one with ``/v1/<mount>/verify/<key>``. Whoever can rewrite the database can
therefore not re-sign a forged head; with the ``nightshift-control-plane``
policy they could only ask the server to sign one, which the server's own
audit log records. The key is an ``ed25519`` transit key an operator creates
(``vault_setup.ensure_transit_key``).

The client logs in exactly as the broker does (:class:`VaultAuth`), lazily
and again at 80 % of a JWT login's life; the token stays in this object's
memory, in no message, log or file.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

from hvac import exceptions as hvac_errors  # type: ignore[import-untyped]

from nightshift.observability.audit_anchor import SignerUnavailable
from nightshift.secrets.protocol import SecretBrokerError
from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint, vault_errors


class TransitSigner:
    """An :class:`~nightshift.observability.audit_anchor.AnchorSigner` whose key is
    a transit key on the server."""

    def __init__(
        self, endpoint: VaultEndpoint, auth: VaultAuth, *, key: str, mount: str = "transit"
    ) -> None:
        self._endpoint = endpoint
        self._auth = auth
        self._key = key
        self._mount = mount.strip("/")
        self.name = f"transit key {self._mount}/{key} on {endpoint.addr}"
        self._lock = threading.Lock()
        self._client: Any = None
        self._relogin_at: float | None = None

    def sign(self, message: bytes) -> str:
        data = self._call("sign", {"input": _b64(message)})
        signature = data.get("signature")
        if not isinstance(signature, str) or not signature:
            raise SignerUnavailable(f"{self.name}: the server returned no signature")
        return signature

    def verify(self, message: bytes, signature: str) -> bool:
        data = self._call("verify", {"input": _b64(message), "signature": signature})
        return data.get("valid") is True

    def _call(self, op: str, payload: dict[str, str]) -> dict[str, Any]:
        path = f"{self._mount}/{op}/{self._key}"
        try:
            with vault_errors(f"audit anchor {op} with the {self.name}"):
                client = self._login()
                try:
                    response = client.write_data(path, data=payload)
                except hvac_errors.InvalidRequest as exc:
                    if op == "verify" and "signature" in str(exc):
                        # A garbled signature, or one in another key's format: not ours.
                        return {"valid": False}
                    raise
        except SecretBrokerError as exc:
            with self._lock:
                self._client = None  # log in afresh next time (a revoked or expired token)
            raise SignerUnavailable(f"{exc}{_reason(exc)}") from exc
        data = response.get("data") if isinstance(response, dict) else None
        if not isinstance(data, dict):
            raise SignerUnavailable(f"{self.name}: unexpected answer to {op}")
        return data

    def _login(self) -> Any:
        with self._lock:
            now = time.monotonic()
            due = self._relogin_at is not None and now >= self._relogin_at
            if self._client is None or due:
                client, lifetime = self._auth.login(self._endpoint)
                self._client = client
                self._relogin_at = None if lifetime is None else now + lifetime * 0.8
            return self._client


def _b64(message: bytes) -> str:
    return base64.b64encode(message).decode("ascii")


def _reason(exc: BaseException) -> str:
    """The server's own words (e.g. "encryption key not found"), without the URL;
    Vault's error text never carries the token."""
    cause = exc.__cause__
    if not isinstance(cause, hvac_errors.VaultError):
        return ""
    text = str(cause).split(", on ", 1)[0].strip()
    return f": {text}" if text else ""
