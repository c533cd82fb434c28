"""Anchors of the audit chain's head, kept outside the database.

The hash chain shows an edited or deleted record only while the head it is
checked against is honest, and the head lives in the same database: someone
who can write the database can rewrite a record, recompute every later hash
and move the head (or drop the newest records and move the head back).
``nightshift audit anchor`` signs the head with an Ed25519 key the database
never holds (an :class:`AnchorSigner`: Vault/OpenBao's transit engine when
the broker is Vault, else a key file beside, not inside, the data directory) and appends
the signed head to a sink outside the database (an append-only JSON-lines
file). ``audit verify`` then checks every anchor's signature and that the
chain still holds each anchored record with the anchored hash, so a rewritten
history before the last anchor, or a truncated tail, is detected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)


class AnchorError(ValueError):
    """The anchors cannot be read or trusted (bad signature, bad line, missing key)."""


class SignerUnavailable(AnchorError):
    """The signer cannot be reached (Vault/OpenBao down or refusing): nothing was
    signed, and a signature could not be checked either way."""


class AnchorSigner(Protocol):
    """Who signs the anchored head: a key the database never holds."""

    name: str  # for messages: "key file /path" or "transit key nightshift-audit"

    def sign(self, message: bytes) -> str:
        """The signature of ``message``; raises SignerUnavailable (nothing signed)."""
        ...

    def verify(self, message: bytes, signature: str) -> bool:
        """Whether ``signature`` is this key's over ``message``; a signature by any
        other key is False. Raises SignerUnavailable when it cannot tell."""
        ...


@dataclass(frozen=True, slots=True)
class Anchor:
    """The head as it was when anchored: its record count and the last record's hash."""

    count: int
    head: str
    at: datetime

    def message(self) -> bytes:
        # What is signed: the exact fields, in a fixed order, nothing else.
        return f"nightshift-audit-anchor\n{self.count}\n{self.head}\n{self.at.isoformat()}".encode()


class AnchorKey:
    """An Ed25519 signing key in a 0600 file, created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"key file {path}"

    def _load(self, *, create: bool) -> Ed25519PrivateKey:
        if not self.path.exists():
            if not create:
                raise AnchorError(f"audit anchor key {self.path} is missing")
            return self._create()
        try:
            key = load_pem_private_key(self.path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise AnchorError(f"audit anchor key {self.path}: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AnchorError(f"audit anchor key {self.path} is not an Ed25519 key")
        return key

    def _create(self) -> Ed25519PrivateKey:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key

    def sign(self, message: bytes) -> str:
        return self._load(create=True).sign(message).hex()

    def verify(self, message: bytes, signature: str) -> bool:
        try:
            self._load(create=False).public_key().verify(bytes.fromhex(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True


class AnchorSink:
    """An append-only JSON-lines file of signed anchors (one line each, never rewritten)."""

    def __init__(self, path: Path, signer: AnchorSigner) -> None:
        self.path = path
        self._signer = signer

    def append(self, count: int, head: str, *, at: datetime | None = None) -> Anchor:
        anchor = Anchor(count, head, (at or datetime.now(UTC)).astimezone(UTC))
        line = {
            "count": anchor.count,
            "head": anchor.head,
            "at": anchor.at.isoformat(),
            # Signed before the file is opened: a signer that is down leaves no line.
            "signature": self._signer.sign(anchor.message()),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return anchor

    def read(self) -> list[Anchor]:
        """Every anchor, oldest first; a forged, unsigned or garbled line is an error."""
        return list(self._read())

    def _read(self) -> Iterator[Anchor]:
        if not self.path.exists():
            return
        for number, raw in enumerate(self.path.read_text().splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                doc = json.loads(raw)
                anchor = Anchor(int(doc["count"]), str(doc["head"]), _aware(doc["at"]))
                signature = str(doc["signature"])
            except (ValueError, KeyError, TypeError) as exc:
                raise AnchorError(f"{self.path} line {number} is not an anchor: {exc}") from None
            if not self._signer.verify(anchor.message(), signature):
                raise AnchorError(
                    f"{self.path} line {number}: the signature does not verify "
                    f"with the {self._signer.name}"
                )
            yield anchor


def _aware(text: object) -> datetime:
    at = datetime.fromisoformat(str(text))
    if at.tzinfo is None:
        raise ValueError("anchor time has no offset")
    return at
