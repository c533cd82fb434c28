"""The local files a worker's sources read: what a sandboxed worker is shown.

A sandboxed local worker sees none of the host's files but the system's and its
Python's (``runtime.executors.local_sandbox``); the files its sources name are
shown to it read-only, and only those:
- ``settings.ca_file`` of any source (HTTP sources, log stores, network, the API server);
- a kubernetes source's ``settings.kubeconfig`` and, in the context it uses, the
  cluster's CA file and the user's client certificate, key and token file;
- an MCP stdio server's program and the absolute paths among its arguments;
- a ``unix:`` url's socket, and a PostgreSQL url's socket directory and its
  ``sslrootcert``, ``sslcert`` and ``sslkey``.
A kubeconfig's ``exec`` credential plugins are not followed: they read the home
directory's cloud credentials, which a worker must not have; use a token in the broker.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from nightshift.domain.safe_yaml import safe_load
from nightshift.sources.config import SourceConfig, SourceKind, SourcesFile

_PG_FILE_PARAMS = ("host", "sslrootcert", "sslcert", "sslkey", "sslcrl", "passfile")


def named_files(sources: SourcesFile) -> tuple[Path, ...]:
    """Every local path the declared sources name, absolute, in declaration order."""
    found: list[Path] = []
    for source in sources.sources:
        found += _source_files(source)
    return tuple(dict.fromkeys(p.absolute() for p in found))


def _source_files(source: SourceConfig) -> Iterator[Path]:
    ca_file = source.setting("ca_file")
    if isinstance(ca_file, str) and ca_file:
        yield Path(ca_file)
    if source.url.startswith("unix:"):
        yield Path(source.url.removeprefix("unix:").removeprefix("//"))
    elif source.url.startswith("postgresql://"):
        yield from _postgres_files(source.url)
    if source.kind is SourceKind.KUBERNETES:
        kubeconfig = source.setting("kubeconfig")
        if isinstance(kubeconfig, str) and kubeconfig:
            context = source.setting("context")
            yield from _kubeconfig_files(Path(kubeconfig), context if context else None)
    if source.kind is SourceKind.MCP:
        yield from _mcp_files(source.setting("command") or ())


def _postgres_files(url: str) -> Iterator[Path]:
    query = parse_qs(urlsplit(url).query)
    for key in _PG_FILE_PARAMS:
        for value in query.get(key, ()):
            for part in value.split(","):  # host may list several
                if part.startswith("/"):
                    yield Path(part)


def _kubeconfig_files(path: Path, context: str | None) -> Iterator[Path]:
    yield path
    try:
        raw = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return  # the source reports its unreadable kubeconfig itself
    if not isinstance(raw, dict):
        return
    chosen = context or raw.get("current-context")
    ctx = _named(raw.get("contexts"), chosen, "context")
    cluster = _named(raw.get("clusters"), ctx.get("cluster"), "cluster")
    user = _named(raw.get("users"), ctx.get("user"), "user")
    # Relative paths in a kubeconfig are relative to the kubeconfig's directory.
    for entry, key in (
        (cluster, "certificate-authority"),
        (user, "client-certificate"),
        (user, "client-key"),
        (user, "tokenFile"),
    ):
        value = entry.get(key)
        if isinstance(value, str) and value:
            yield path.parent / value


def _named(entries: Any, name: Any, field: str) -> Mapping[str, Any]:
    """The ``field`` mapping of the kubeconfig list entry called ``name``."""
    if not isinstance(entries, list):
        return {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            inner = entry.get(field)
            return inner if isinstance(inner, dict) else {}
    return {}


def _mcp_files(command: Any) -> Iterator[Path]:
    if not isinstance(command, (list, tuple)) or not command:
        return
    program = shutil.which(str(command[0]))
    if program is not None:
        yield Path(program)
    for arg in command[1:]:
        if isinstance(arg, str) and arg.startswith("/") and Path(arg).exists():
            yield Path(arg)
