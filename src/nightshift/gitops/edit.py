"""Changing one declared object in its file, and nothing else.

A reviewer reads the agent's commit as a diff: it must touch only the fields the
action changed. The file is rewritten through a round-trip YAML parser, so the
other documents, key order and comments stay as their authors wrote them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from nightshift.gitops.declared import Declaration
from nightshift.gitops.working_copy import GitOpsRefused

# (path, value): ("spec",) replaces the whole spec; ("spec", "replicas") one field.
Assignment = tuple[Sequence[str], Any]


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never re-wrap a long line the author wrote on one
    return y


def _plain(value: Any) -> Any:
    """Values from the API are plain dicts/lists; ruamel takes them as they are."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Remove:
    """The value that deletes a key (an agent leaving one phase's values file)."""

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Any = _Remove()


def rewrite(decl: Declaration, assignments: Sequence[Assignment]) -> bool:
    """Apply ``assignments`` to the declared document; False when it already says so."""
    return rewrite_document(decl.file, decl.document, assignments)


def rewrite_document(file: Path, document: int, assignments: Sequence[Assignment]) -> bool:
    """Apply ``assignments`` (a value of ``REMOVE`` deletes the key) to one YAML
    document of ``file``; False when it already says so."""
    y = _yaml()
    try:
        documents = list(y.load_all(file.read_text()))
    except YAMLError as exc:
        raise GitOpsRefused(f"{file.name} cannot be parsed: {exc}") from exc
    doc = documents[document]
    changed = False
    for path, value in assignments:
        node = doc
        for part in path[:-1]:
            if not isinstance(node.get(part), Mapping):
                if value is REMOVE:
                    break  # nothing there to remove
                node[part] = {}
                changed = True
            node = node[part]
        else:
            if value is REMOVE:
                if path[-1] in node:
                    del node[path[-1]]
                    changed = True
            elif node.get(path[-1]) != value:
                node[path[-1]] = _plain(value)
                changed = True
    if changed:
        out = io.StringIO()
        y.dump_all(documents, out)
        file.write_text(out.getvalue())
    return changed
