"""Data-source secrets of the local broker, encrypted at rest in the data dir.

One Fernet key file (created 0600, never rewritten) and one encrypted JSON
document ``{domain: {source: {key: value}}}``. The document is decrypted on
every read, so a secret rotated with :meth:`LocalSecretStore.put` (by the CLI
in another process, say) is what the next investigation gets; writes replace
the file atomically so a reader never sees half a document.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.protocol import BrokerUnavailable, SecretNotFound

KEY_FILE = "secrets.key"
STORE_FILE = "secrets.enc"

_Document = dict[str, dict[str, dict[str, str]]]


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class LocalSecretStore:
    """Encrypted key/value secrets per (domain, source)."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = Path(data_dir)
        self._lock = threading.Lock()
        self._fernet: Fernet | None = None

    @property
    def key_path(self) -> Path:
        return self._dir / KEY_FILE

    @property
    def store_path(self) -> Path:
        return self._dir / STORE_FILE

    def _cipher(self) -> Fernet:
        if self._fernet is None:
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                try:
                    os.write(fd, Fernet.generate_key())
                finally:
                    os.close(fd)
            try:
                self._fernet = Fernet(self.key_path.read_bytes().strip())
            except (OSError, ValueError) as exc:
                raise BrokerUnavailable(f"cannot load the local secrets key: {exc}") from exc
        return self._fernet

    def _load(self) -> _Document:
        cipher = self._cipher()
        try:
            blob = self.store_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BrokerUnavailable(f"cannot read the local secret store: {exc}") from exc
        try:
            document: _Document = json.loads(cipher.decrypt(blob))
        except InvalidToken as exc:
            raise BrokerUnavailable("local secret store does not match its key file") from exc
        return document

    def check(self) -> None:
        """Raise BrokerUnavailable unless the key loads and the store decrypts."""
        self._load()

    def put(self, domain: Domain, source: str, values: Mapping[str, str]) -> None:
        """Create or rotate a secret; the next issue for it returns the new values."""
        if not source or "/" in source:
            raise ValueError("source must be a non-empty name without '/'")
        with self._lock:
            document = self._load()
            document.setdefault(domain.value, {})[source] = {k: str(v) for k, v in values.items()}
            self._save(document)

    def delete(self, domain: Domain, source: str) -> None:
        with self._lock:
            document = self._load()
            document.get(domain.value, {}).pop(source, None)
            self._save(document)

    def get(self, domain: Domain, source: str) -> dict[str, str]:
        values = self._load().get(domain.value, {}).get(source)
        if values is None:
            raise SecretNotFound(f"no local secret for {domain.value}/{source}")
        return dict(values)

    def sources(self, domain: Domain) -> list[str]:
        return sorted(self._load().get(domain.value, {}))

    def _save(self, document: _Document) -> None:
        blob = self._cipher().encrypt(json.dumps(document, sort_keys=True).encode())
        _write_private(self.store_path, blob)
