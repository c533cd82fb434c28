"""A tiny authoritative DNS responder on 127.0.0.1 (UDP), built on dnspython's
message tooling, for the network source's tests: real packets, real parsing.

Names not in the zone answer NXDOMAIN; names listed in ``silent`` never answer
(a resolver timeout); every query is recorded, so a test can prove that a
denied name never reached DNS.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


@dataclass
class DnsResponder:
    records: Mapping[str, Sequence[tuple[str, str]]]  # name -> [(rdtype, rdata text)]
    silent: frozenset[str] = frozenset()
    queries: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    _sock: socket.socket | None = None
    _thread: threading.Thread | None = None

    def start(self) -> DnsResponder:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        self._sock, self.port = sock, sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if self._thread is not None:
            self._thread.join(timeout=2)
        if sock is not None:
            sock.close()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def asked(self, name: str) -> bool:
        wanted = name.lower().rstrip(".")
        return any(q == wanted for q, _ in self.queries)

    def _serve(self) -> None:
        while self._sock is not None:
            sock = self._sock
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._answer(wire)
            if reply is not None:
                sock.sendto(reply, peer)

    def _answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        entries = self.records.get(name)
        if entries is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        owner = name
        for kind, value in entries:  # follow one CNAME hop inside the zone
            if kind == "CNAME":
                response.answer.append(dns.rrset.from_text(owner + ".", 30, "IN", "CNAME", value))
                owner = value.rstrip(".")
                entries = self.records.get(owner, [])
                break
        for kind, value in entries:
            if kind == rdtype:
                response.answer.append(dns.rrset.from_text(owner + ".", 30, "IN", kind, value))
        return response.to_wire()
