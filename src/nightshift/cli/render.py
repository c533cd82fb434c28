"""Human-readable rendering of an investigation's event stream and result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

_STATUS_STYLE = {
    "queued": "yellow",
    "held": "yellow",
    "dispatched": "cyan",
    "running": "cyan",
    "succeeded": "bold green",
    "escalated": "bold magenta",
    "failed": "bold red",
    "cancelled": "red",
    "deadline_exceeded": "bold red",
}


def _res(h: Mapping[str, Any]) -> str:
    r = h.get("resource") or {}
    ns = f"{r.get('namespace')}/" if r.get("namespace") else ""
    return f"{ns}{r.get('kind', '?')}/{r.get('name', '?')}"


def _params(p: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in p.items() if v not in (None, ""))


class EventPrinter:
    def __init__(self, console: Console) -> None:
        self.c = console

    def __call__(self, kind: str, event: Mapping[str, Any]) -> None:
        d: Mapping[str, Any] = event.get("data") or {}
        c = self.c
        if kind == "status":
            st = str(d.get("status"))
            reason = f" - {d['reason']}" if d.get("reason") else ""
            c.print(Text(f"[{st}]{reason}", style=_STATUS_STYLE.get(st, "")))
        elif kind == "investigation.started":
            c.print(f"[bold]investigating[/bold] {d.get('question', '')}  "
                    f"[dim](tier {d.get('tier')}, reasoner {d.get('reasoner')})[/dim]")  # fmt: skip
        elif kind == "tool.requested":
            c.print(f"  [blue]→ {d.get('tool')}[/blue] {_params(d.get('params') or {})}",
                    highlight=False)  # fmt: skip
        elif kind == "tool.answered":
            status = d.get("status", "ok")
            style = "green" if status == "ok" else "yellow"
            summary = str(d.get("summary", ""))[:160]
            c.print(Text(f"  ← {d.get('id')} [{status}] {summary}", style=style))
        elif kind.startswith("hypothesis."):
            mark = {"created": "+", "updated": "~", "confirmed": "✔", "rejected": "✘"}
            verb = kind.split(".", 1)[1]
            conf = float(d.get("confidence", 0.0))
            style = "bold green" if verb == "confirmed" else ("dim" if verb == "rejected" else "")
            c.print(Text(f"    {mark.get(verb, '?')} {d.get('id')} {_res(d)} {d.get('fault')} "
                         f"{conf:.2f}", style=style))  # fmt: skip
        elif kind == "cycle.finished":
            top = d.get("top") or {}
            lead = f"leading: {_res(top)} {top.get('fault')} {float(top.get('confidence', 0)):.2f}"
            c.print(f"[bold]cycle {d.get('cycle')}[/bold] done  [dim]{lead if top else ''}[/dim]")
        elif kind in ("breaker.tripped", "budget.exhausted"):
            c.print(Text(f"! {kind}: {_params(d)} - escalating with the evidence trail",
                         style="bold magenta"))  # fmt: skip
        elif kind == "result":
            print_result(c, d)
        elif kind == "log":
            c.print(Text(f"  {d.get('level', 'info')}: {d.get('message', '')}", style="dim"))


def print_result(c: Console, d: Mapping[str, Any]) -> None:
    """Ranked root causes as readable blocks (explanations are paragraphs)."""
    causes = d.get("root_causes") or []
    c.print()
    c.print(f"[bold]diagnosis[/bold] ({d.get('outcome')}, {d.get('cycles')} cycles, "
            f"{d.get('tool_calls')} tool calls)")  # fmt: skip
    if d.get("summary"):
        c.print(Text(str(d["summary"])))
    for rc in causes:
        c.print()
        head = Text(f"#{rc.get('rank')}  ", style="bold")
        head.append(_res(rc), style="bold cyan")
        head.append(f"  {rc.get('fault')}  ", style="bold")
        head.append(f"confidence {float(rc.get('confidence', 0)):.2f}  ")
        head.append(f"remediation: {rc.get('remediation_class')}", style="green")
        c.print(head)
        evidence = ", ".join(rc.get("evidence_ids") or []) or "none"
        c.print(Text(f"    evidence: {evidence}", style="dim"))
        c.print(Padding(Text(str(rc.get("explanation", ""))), (0, 0, 0, 4)))
