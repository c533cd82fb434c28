"""DNS for the network source: dnspython, answered in ``nslookup``'s shape.

``dns_lookup`` asks DNS only (A, AAAA and the CNAME chain; SRV for ``_svc._proto``
names), like nslookup. ``network_check`` resolves as the system does (getaddrinfo,
so /etc/hosts counts) unless nameservers are configured, then through them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.governance.destinations import DestinationBounds, check_resolved

_MAX_RECORDS = 32  # a name with more addresses than this is summarised


@dataclass(frozen=True, slots=True)
class Resolved:
    addresses: tuple[str, ...] = ()
    error: str | None = None  # nxdomain | servfail | timeout | noanswer
    cname: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def unresolvable_text(self, host: str, port: int) -> str:
        why = {
            "nxdomain": "Name or service not known",
            "noanswer": "No address associated with hostname",
            "timeout": "Temporary failure in name resolution (timed out)",
        }.get(self.error or "", "Temporary failure in name resolution")
        return f'$ nc -vz -w 3 {host} {port}\nnc: getaddrinfo for host "{host}" port {port}: {why}'


def _nameserver(spec: str) -> dns.nameserver.Do53Nameserver:
    text = spec.strip()
    port = 53
    if text.startswith("[") and "]:" in text:
        text, port = text[1 : text.index("]")], int(text.rsplit(":", 1)[1])
    elif text.count(":") == 1:
        text, tail = text.split(":")
        port = int(tail)
    return dns.nameserver.Do53Nameserver(text, port)


class Resolver:
    def __init__(self, nameservers: Sequence[str], timeout: float) -> None:
        configured = bool(nameservers)
        try:
            self._dns = dns.asyncresolver.Resolver(configure=not configured)
        except dns.resolver.NoResolverConfiguration:
            self._dns = dns.asyncresolver.Resolver(configure=False)
            self._dns.nameservers = ["127.0.0.1"]
        if configured:
            self._dns.nameservers = [_nameserver(n) for n in nameservers]
        self._dns.lifetime = timeout
        self._dns.timeout = timeout
        self._system = not configured
        self._timeout = timeout

    @property
    def server(self) -> str:
        first = self._dns.nameservers[0] if self._dns.nameservers else "127.0.0.1"
        if isinstance(first, dns.nameserver.Do53Nameserver):
            return f"{first.address}#{first.port}"
        return f"{first}#53"

    async def addresses(self, host: str) -> Resolved:
        """Where ``host`` points, for a connection."""
        if _is_address(host):
            return Resolved((host,))
        if not self._system:
            return await self._query(host)
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), self._timeout
            )
        except TimeoutError:
            return Resolved(error="timeout")
        except socket.gaierror as exc:
            nx = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
            return Resolved(error="nxdomain" if nx else "servfail")
        found = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
        return Resolved(found[:_MAX_RECORDS])

    async def _query(self, host: str) -> Resolved:
        found: list[str] = []
        cname: str | None = None
        errors: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self._dns.resolve(host, rdtype, search=host.count(".") == 0)
            except dns.resolver.NXDOMAIN:
                return Resolved(error="nxdomain")
            except dns.resolver.NoAnswer:
                continue
            except dns.exception.Timeout:
                errors.append("timeout")
                continue
            except dns.resolver.NoNameservers:
                errors.append("servfail")
                continue
            canonical = answer.canonical_name.to_text().rstrip(".")
            if canonical != host.rstrip(".").lower():
                cname = canonical
            found.extend(r.to_text() for r in answer)
        if found:
            return Resolved(tuple(found[:_MAX_RECORDS]), cname=cname)
        return Resolved(error=errors[0] if errors else "noanswer")

    async def lookup(self, host: str, bounds: DestinationBounds) -> ToolResult:
        """``dns_lookup``: the answer as nslookup prints it, plus the record data."""
        head = f"Server:\t\t{self.server.split('#')[0]}\nAddress:\t{self.server}\n"
        if host.startswith("_"):
            return await self._srv(host, head)
        resolved = await self._query(host)
        data: dict[str, Any] = {
            "result": resolved.error or "ok",
            "addresses": list(resolved.addresses),
            "cname": resolved.cname,
        }
        if resolved.error == "timeout":
            return ToolResult(
                ToolStatus.OK, ";; connection timed out; no servers could be reached", data
            )
        if resolved.error == "noanswer":
            return ToolResult(ToolStatus.OK, head + f"\n*** Can't find {host}: No answer", data)
        if resolved.error:
            return ToolResult(
                ToolStatus.OK,
                head + f"\n** server can't find {host}: {resolved.error.upper()}",
                data,
            )
        lines = [head]
        if resolved.cname:
            lines.append(f"{host}\tcanonical name = {resolved.cname}.")
        shown = resolved.cname or host
        lines += [f"Name:\t{shown}\nAddress: {a}" for a in resolved.addresses]
        why = check_resolved(host, resolved.addresses, bounds)
        if why is not None:  # reported, never connected to
            lines.append(f"note: {why}; network_check will not probe it")
        return ToolResult(ToolStatus.OK, "\n".join(lines), data)

    async def _srv(self, host: str, head: str) -> ToolResult:
        try:
            answer = await self._dns.resolve(host, dns.rdatatype.SRV)
        except dns.resolver.NXDOMAIN:
            text = head + f"\n** server can't find {host}: NXDOMAIN"
            return ToolResult(ToolStatus.OK, text, {"result": "nxdomain"})
        except dns.resolver.NoAnswer:
            text = head + f"\n*** Can't find {host}: No answer"
            return ToolResult(ToolStatus.OK, text, {"result": "noanswer"})
        except dns.exception.Timeout:
            text = ";; connection timed out; no servers could be reached"
            return ToolResult(ToolStatus.OK, text, {"result": "timeout"})
        records = [r for r in answer][:_MAX_RECORDS]
        lines = [head]
        rows: list[dict[str, Any]] = []
        for r in records:
            target = r.target.to_text()
            lines.append(f"{host}\tservice = {r.priority} {r.weight} {r.port} {target}")
            rows.append(
                {"priority": r.priority, "weight": r.weight, "port": r.port, "target": target}
            )
        return ToolResult(ToolStatus.OK, "\n".join(lines), {"result": "ok", "srv": rows})


def _is_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True
