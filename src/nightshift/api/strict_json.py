"""Strict JSON for every request body, checked once before any route sees it.

Python's parser accepts what JSON (RFC 8259) does not: ``NaN``, ``Infinity``
and ``-Infinity``, numbers too large for a double (``1e999`` becomes
``inf``), and duplicate object keys (the last one silently wins, so
``{"roles": ["viewer"], "roles": ["admin"]}`` reads as admin). A non-finite
number later breaks the canonical JSON of the audit trail; a duplicate key
lets one reviewer see one value while the server acts on another. Both are
refused here with a 422 that names where in the body the problem is.
"""

from __future__ import annotations

import email.message
import json
import math
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _NotFinite:
    """Stands in for a non-finite number until the walk names its place."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Duplicated(dict[str, Any]):
    """An object that had repeated keys (the keys are kept for the message)."""

    repeated: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in out and key not in repeated:
            repeated.append(key)
        out[key] = value
    if not repeated:
        return out
    marked = _Duplicated(out)
    marked.repeated = repeated
    return marked


def _float(text: str) -> float | _NotFinite:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


class _Flag:
    """A first pass that only notices a problem: C-level dicts, no marked copies
    and no walk, so a clean body (nearly every one, e.g. a worker's events)
    costs little more than a plain parse. Only a flagged body is walked."""

    def __init__(self) -> None:
        self.raised = False

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            self.raised = True
        return out

    def constant(self, text: str) -> None:
        self.raised = True

    def number(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.raised = True
        return value


def problems(raw: bytes) -> list[dict[str, str]] | None:
    """Where ``raw`` breaks strict JSON; ``None`` when it does not parse at all
    (FastAPI's own validation reports syntax errors)."""
    flag = _Flag()
    # Every float goes through a Python call: bodies hold few (a worker's 140 KB
    # of events, a dozen), and a regex pre-scan for overflowing literals cost
    # three times the whole parse.
    try:
        json.loads(
            raw, parse_constant=flag.constant, parse_float=flag.number,
            object_pairs_hook=flag.pairs,
        )  # fmt: skip
    except ValueError:  # syntax errors, and integers past Python's digit limit
        return None
    if not flag.raised:
        return []
    try:
        doc = json.loads(
            raw, parse_constant=_NotFinite, parse_float=_float, object_pairs_hook=_pairs
        )
    except ValueError:  # syntax errors, and integers past Python's digit limit
        return None
    found: list[dict[str, str]] = []
    _walk(doc, ["body"], found)
    return found


def _walk(node: Any, path: list[str], found: list[dict[str, str]]) -> None:
    where = ".".join(path)
    if isinstance(node, _NotFinite):
        found.append({"field": where, "problem": f"{node.text} is not a finite JSON number"})
    elif isinstance(node, dict):
        for key in getattr(node, "repeated", ()):
            found.append({"field": f"{where}.{key}", "problem": f"duplicate key {key!r}"})
        for key, value in node.items():
            _walk(value, [*path, key], found)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, [*path, str(i)], found)


def _is_json(scope: Scope) -> bool:
    """The content types FastAPI parses as JSON (none given counts as JSON)."""
    raw = dict(scope.get("headers") or []).get(b"content-type")
    if raw is None:
        return True
    header = email.message.Message()
    header["content-type"] = raw.decode("latin-1")
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class StrictJson:
    """ASGI middleware: a JSON body with a non-finite number or a repeated key is a 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        # The body is already bounded by BodyLimit (which wraps this), so it
        # is read whole here and replayed to the app.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        found = problems(raw) if raw.strip() else None
        if found:
            await _refuse(send, found)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, found: list[dict[str, str]]) -> None:
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in found[:5])
    body = json.dumps(
        {"error": "invalid_json", "message": f"invalid JSON body: {summary}", "details": found}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
