"""The names ``db_stats(database=...)`` may use for one database source.

A source answers to its own name, its aliases, and its server's host name,
with or without the domain (``orders-db`` for ``orders-db.shop.svc``). An IP
address is matched whole and never cut at its first dot ("127" names no
database), and the list a refusal offers as "known" leaves addresses out:
whoever reads it (a person, or the reasoner choosing its next question) is
told the database's names, not where it listens.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def answer_names(host: str, names: Iterable[str]) -> frozenset[str]:
    """Every spelling the source answers to (lower case)."""
    host = host.lower()
    out = {n.lower() for n in names if n} | {host}
    if not _is_address(host):
        out.add(host.split(".")[0])
    return frozenset(out)


def wanted_names(database: str, host: str) -> frozenset[str]:
    """The spellings a request's database (or its host) is compared by."""
    wanted = database.strip().lower()
    return answer_names(host or wanted, [wanted])


def known(names: Iterable[str]) -> str:
    """The names a refusal lists, addresses left out."""
    return ", ".join(sorted(n for n in names if not _is_address(n))) or "none"
