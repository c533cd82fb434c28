"""An in-memory API server for unit tests of the cluster tools (the real one runs in
tests/integration/k8s). Answers GETs of lists and objects by path, with the field
and label selectors the tools use, ``limit`` with a ``continue`` token, and
scripted errors for paths the identity may not read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightshift.k8s.client import KubeError

Obj = dict[str, Any]


class FakeKubeApi:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], list[Obj]] = {}  # (plural, namespace) -> items
        self.errors: dict[str, KubeError] = {}  # path -> error
        self.texts: dict[str, str] = {}  # path -> text answer
        self.paths: list[str] = []

    def add(self, plural: str, obj: Obj) -> Obj:
        ns = obj.get("metadata", {}).get("namespace", "")
        self.objects.setdefault((plural, ns), []).append(obj)
        return obj

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Obj:
        self.paths.append(path)
        if path in self.errors:
            raise self.errors[path]
        plural, ns, name = _parse(path)
        items = [
            o
            for (p, n), objs in self.objects.items()
            if p == plural and (not ns or n == ns)
            for o in objs
        ]
        q = dict(query or {})
        for term in filter(None, str(q.get("fieldSelector", "")).split(",")):
            key, _, value = term.partition("=")
            items = [o for o in items if _field(o, key) == value]
        for term in filter(None, str(q.get("labelSelector", "")).split(",")):
            key, _, value = term.partition("=")
            items = [o for o in items if (o["metadata"].get("labels") or {}).get(key) == value]
        if name:
            found = [o for o in items if o["metadata"]["name"] == name]
            if not found:
                raise KubeError(404, "NotFound", f'{plural} "{name}" not found')
            return found[0]
        limit = int(q.get("limit", 0) or 0)
        more = bool(limit) and len(items) > limit
        return {
            "kind": "List",
            "metadata": {"continue": "next"} if more else {},
            "items": items[:limit] if limit else items,
        }

    def get_text(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        self.paths.append(path)
        if path in self.errors:
            raise self.errors[path]
        return self.texts[path]


def _parse(path: str) -> tuple[str, str, str]:
    parts = path.strip("/").split("/")
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    ns = ""
    if rest[0] == "namespaces" and len(rest) > 2:
        ns, rest = rest[1], rest[2:]
    return rest[0], ns, rest[1] if len(rest) > 1 else ""


def _field(obj: Obj, dotted: str) -> str:
    cur: Any = obj
    for part in dotted.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)
