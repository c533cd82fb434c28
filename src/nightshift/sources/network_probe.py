"""One TCP connect (and optionally a TLS handshake), reported as ``nc -vz`` would.

The handshake is first verified (system CAs, plus ``ca_file``); when that
fails, the failure is the evidence and an unverified handshake still shows the
certificate (subject, issuer, validity, names), which is what an engineer
checks next. No application bytes are ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus

_MAX_ADDRESSES = 4  # like nc, try a few of the name's addresses, not all of them


def _failure(exc: OSError) -> tuple[str, str]:
    code = exc.errno
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return "refused", "Connection refused"
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable", "No route to host"
    if isinstance(exc, ConnectionResetError):
        return "reset", "Connection reset by peer"
    return "error", exc.strerror or str(exc)


async def _connect(address: str, port: int, timeout: float) -> tuple[str, str, float]:
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except TimeoutError:
        return "timeout", "Operation now in progress", 0.0
    except OSError as exc:
        result, why = _failure(exc)
        return result, why, 0.0
    elapsed = (time.perf_counter() - started) * 1000
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return "ok", "", elapsed


async def probe(
    host: str,
    port: int,
    addresses: Sequence[str],
    *,
    tls: bool,
    timeout: float,
    ca_file: str | None,
    origin: str,
) -> ToolResult:
    lines = [f"$ nc -vz -w {timeout:g} {host} {port}"]
    data: dict[str, Any] = {"host": host, "port": port}
    result, why, latency, used = "error", "no address", 0.0, ""
    for address in addresses[:_MAX_ADDRESSES]:
        result, why, latency = await _connect(address, port, timeout)
        used = address
        if result == "ok":
            break
    data.update(result=result, address=used)
    if result == "ok":
        lines.append(f"Connection to {host} ({used}) {port} port [tcp/*] succeeded!")
        lines.append(f"connect time: {latency:.1f} ms")
        data["latency_ms"] = round(latency, 3)
    elif result == "timeout":
        lines.append(f"nc: connect to {host} ({used}) port {port} (tcp) timed out: {why}")
    else:
        lines.append(f"nc: connect to {host} ({used}) port {port} (tcp) failed: {why}")
    if result == "ok" and tls:
        tls_lines, tls_data = await _handshake(host, used, port, timeout, ca_file)
        lines += tls_lines
        data["tls"] = tls_data
        if not tls_data.get("verified"):
            data["result"] = "tls-error"
    if origin:
        lines.append(f"(probed from the nightshift worker, not from {origin})")
    return ToolResult(ToolStatus.OK, "\n".join(lines), data)


@functools.lru_cache(maxsize=8)
def _context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    # Loading the system CA bundle costs tens of ms: build each context once.
    ctx = ssl.create_default_context()
    if verify and ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _tls_once(
    host: str, address: str, port: int, timeout: float, ctx: ssl.SSLContext
) -> tuple[str | None, str | None, bytes | None]:
    server_name = None if _is_ip(host) else host
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(address, port, ssl=ctx, server_hostname=server_name or address),
        timeout,
    )
    try:
        sslobj = writer.get_extra_info("ssl_object")
        assert isinstance(sslobj, ssl.SSLObject)
        cipher = sslobj.cipher()
        return sslobj.version(), cipher[0] if cipher else None, sslobj.getpeercert(True)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def _handshake(
    host: str, address: str, port: int, timeout: float, ca_file: str | None
) -> tuple[list[str], dict[str, Any]]:
    data: dict[str, Any] = {"verified": False}
    verify_error: str | None = None
    try:
        version, cipher, cert = await _tls_once(
            host, address, port, timeout, _context(True, ca_file)
        )
        data["verified"] = True
    except ssl.SSLCertVerificationError as exc:
        verify_error = exc.verify_message or exc.reason or str(exc)
    except (ssl.SSLError, OSError, TimeoutError) as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        data["error"] = why
        return [f"TLS handshake failed: {why}"], data
    if verify_error is not None:
        data["verify_error"] = verify_error
        try:
            version, cipher, cert = await _tls_once(
                host, address, port, timeout, _context(False, None)
            )
        except (ssl.SSLError, OSError, TimeoutError) as exc:
            data["error"] = str(exc)
            return [f"TLS handshake failed: certificate verify failed: {verify_error}"], data
    data.update(version=version, cipher=cipher)
    verdict = "ok" if data["verified"] else f"certificate verify failed: {verify_error}"
    lines = [f"TLS handshake: {version} {cipher}; verify: {verdict}"]
    if cert:
        details = describe_certificate(cert)
        data["certificate"] = details
        lines.append(
            f"certificate: subject {details['subject']}; issuer {details['issuer']}; "
            f"not before {details['not_before']}; not after {details['not_after']}"
            f" ({details['expiry']})"
        )
        if details["names"]:
            lines.append(f"certificate names: {', '.join(details['names'][:10])}")
    return lines, data


def describe_certificate(der: bytes, now: datetime | None = None) -> dict[str, Any]:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    moment = now or datetime.now(UTC)
    not_after = cert.not_valid_after_utc
    days = (not_after - moment).total_seconds() / 86400
    expiry = f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"
    if moment < cert.not_valid_before_utc:
        expiry = "not yet valid"
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
        names += [f"IP:{ip}" for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expiry": expiry,
        "expired": days < 0,
        "names": names,
    }


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host
