"""Real TCP and TLS listeners on 127.0.0.1 for the network source's tests, with
a self-signed certificate made on the spot. Each counts the connections it
accepted, so a test can prove a denied probe sent nothing."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.postgres import free_port


def self_signed(directory: Path, name: str = "localhost", days: int = 30) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Listener:
    tls: ssl.SSLContext | None = None
    accepted: int = 0
    port: int = 0
    cert_file: Path | None = None
    _sock: socket.socket | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> Listener:
        sock = socket.create_server(("127.0.0.1", 0))
        sock.settimeout(0.2)
        self._sock, self.port = sock, sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def wait_accepted(self, count: int, timeout: float = 5.0) -> int:
        """The accept count once it reaches ``count`` (or the timeout passes): the
        kernel completes a handshake before this thread gets to ``accept()``."""
        deadline = time.monotonic() + timeout
        while self.accepted < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.accepted

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if self._thread is not None:
            self._thread.join(timeout=2)
        if sock is not None:
            sock.close()

    def _serve(self) -> None:
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            if self.tls is not None:
                with self.tls.wrap_socket(conn, server_side=True) as tls_conn:
                    tls_conn.recv(1)  # until the client closes
            else:
                conn.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


def tcp_listener() -> Listener:
    return Listener().start()


def tls_listener(name: str = "localhost", days: int = 30) -> Listener:
    directory = Path(tempfile.mkdtemp(prefix="nightshift-tls-"))
    cert, key = self_signed(directory, name, days)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = Listener(tls=ctx, cert_file=cert)
    return listener.start()


def closed_port() -> int:
    """A port nothing listens on (bound once and released)."""
    return free_port()
