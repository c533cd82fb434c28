"""The pieces every ``kubectl describe`` shares: the prefix writer, labels, events.

Describe output is written as tab-separated cells through one Go tabwriter
with explicit flushes (see tabwriter.py); building the same cells here and
aligning them the same way is what makes our text match kubectl's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from nightshift.k8s.kubectl_time import since
from nightshift.k8s.tabwriter import flushed

Obj = dict[str, Any]
MAX_ANNOTATION = 140  # describe shortens longer annotation values


class Writer:
    """``PrefixWriter``: LEVEL_n indents by two spaces per level; ``flush`` ends a block."""

    def __init__(self) -> None:
        self._sections: list[list[str]] = [[]]

    def w(self, level: int, text: str) -> None:
        self._sections[-1].append("  " * level + text)

    def flush(self) -> None:
        self._sections.append([])

    def text(self) -> str:
        return flushed("".join(s) for s in self._sections).rstrip("\n")


def multiline(
    w: Writer, title: str, values: Mapping[str, str] | None, sep: str = "=", indent: str = ""
) -> None:
    """``printLabelsMultiline`` (sep ``=``) and the annotation variant (sep ``: ``)."""
    w.w(0, f"{indent}{title}:\t")
    items = sorted((values or {}).items())
    if sep != "=":
        items = [
            (k, v) for k, v in items if k != "kubectl.kubernetes.io/last-applied-configuration"
        ]
    if not items:
        w.w(0, "<none>\n")
        return
    for i, (k, v) in enumerate(items):
        lead = f"{indent}\t" if i else ""
        v = v.removesuffix("\n")
        if sep != "=" and (len(v) + len(k) + 2 > MAX_ANNOTATION or "\n" in v):
            w.w(0, f"{lead}{k}:\n")
            for part in v.split("\n"):
                short = (
                    part if len(part) <= MAX_ANNOTATION - 2 else part[: MAX_ANNOTATION - 2] + "..."
                )
                w.w(0, f"{indent}\t  {short}\n")
            continue
        w.w(0, f"{lead}{k}{sep}{v}\n")


def tolerations(w: Writer, title: str, items: Sequence[Obj] | None, indent: str = "") -> None:
    w.w(0, f"{indent}{title}:\t")
    if not items:
        w.w(0, "<none>\n")
        return
    for i, t in enumerate(sorted(items, key=lambda t: str(t.get("key", "")))):
        text = f"{indent}\t" if i else ""
        text += str(t.get("key", ""))
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if t.get("key") or t.get("effect") else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w.w(0, text + "\n")


def sorted_by_last(events: Sequence[Obj]) -> list[Obj]:
    """``SortableEvents``: by lastTimestamp (eventTime for new-style events)."""
    return sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def interval(e: Obj, now: datetime | None) -> str:
    first = since(e.get("eventTime") or e.get("firstTimestamp"), now)
    if e.get("series"):
        s = e["series"]
        return f"{since(s.get('lastObservedTime'), now)} (x{s.get('count')} over {first})"
    if int(e.get("count") or 0) > 1:
        return f"{since(e.get('lastTimestamp'), now)} (x{e['count']} over {first})"
    return first


def events(w: Writer, items: Sequence[Obj] | None, now: datetime | None) -> None:
    """``DescribeEvents``; ``None`` means kubectl was told ``--show-events=false``."""
    if items is None:
        return
    if not items:
        w.w(0, "Events:\t<none>\n")
        return
    w.flush()
    w.w(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.w(1, "----\t------\t----\t----\t-------\n")
    for e in sorted_by_last(items):
        source = (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""
        msg = str(e.get("message", "")).strip()
        w.w(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{interval(e, now)}\t{source}\t{msg}\n")


def controller_of(o: Obj) -> str:
    for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


def or_none(value: object) -> str:
    text = "" if value is None else str(value)
    return text or "<none>"
