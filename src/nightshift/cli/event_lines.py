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


LEGEND = (
    "legend: ├─ a tool answer [ok | no_data | error | timeout]   "
    "+ new  ~ changed  ✔ confirmed  ✘ rejected hypothesis   "
    "↳ the strongest hypothesis that answer moved"
)
_MARK = {"created": "+", "updated": "~", "confirmed": "✔", "rejected": "✘"}


class EventPrinter:
    """A compact tree: one branch per cycle, one line per tool answer.

    Hypothesis events are folded into their answer's line (counts and the
    strongest one moved), so a 300-alert storm stays readable."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self._moved: list[tuple[str, Mapping[str, Any]]] = []

    def __call__(self, kind: str, event: Mapping[str, Any]) -> None:
        d: Mapping[str, Any] = event.get("data") or {}
        c = self.c
        if kind.startswith("hypothesis."):
            verb = kind.split(".", 1)[1]
            if verb == "confirmed":
                self._flush()
                conf = float(d.get("confidence", 0.0))
                what = f"✔ confirmed {d.get('id')} {_res(d)} {d.get('fault')} {conf:.2f}"
                c.print(Text(what, style="bold green"))
            else:
                self._moved.append((verb, d))
            return
        self._flush()
        if kind == "status":
            st = str(d.get("status"))
            reason = f" - {d['reason']}" if d.get("reason") else ""
            c.print(Text(f"[{st}]{reason}", style=_STATUS_STYLE.get(st, "")))
        elif kind == "investigation.started":
            c.print(f"[bold]investigating[/bold] {d.get('question', '')}  "
                    f"[dim](tier {d.get('tier')}, reasoner {d.get('reasoner')})[/dim]")  # fmt: skip
            c.print(Text(LEGEND, style="dim"))
        elif kind == "tool.answered":
            status = str(d.get("status", "ok"))
            style = "green" if status == "ok" else "yellow"
            # when a tool had nothing, its own message says why (never a bare "empty")
            summary = " ".join(str(d.get("summary") or "(the tool gave no message)").split())
            line = Text("├─ ", style="dim")
            line.append(f"{d.get('id')} {d.get('tool')} ", style="blue")
            line.append(f"{_params(d.get('params') or {})} ", style="dim")
            line.append(f"[{status}] ", style=style)
            line.append(summary[:140])
            c.print(line)
        elif kind == "cycle.finished":
            top = d.get("top") or {}
            lead = (
                f"leading {_res(top)} {top.get('fault')} {float(top.get('confidence', 0)):.2f}"
                if top
                else "no hypothesis yet"
            )
            cpu = d.get("reasoner_cpu_ms")
            cost = f", reasoner {float(cpu):.1f} ms" if cpu is not None else ""
            c.print(Text(f"└─ cycle {d.get('cycle')}: {lead} "
                         f"({d.get('tool_calls')} calls so far{cost})", style="bold"))  # fmt: skip
        elif kind in ("breaker.tripped", "budget.exhausted"):
            c.print(Text(f"! {kind}: {_params(d)} - escalating with the evidence trail",
                         style="bold magenta"))  # fmt: skip
        elif kind == "result":
            print_result(c, d)
        elif kind == "log":
            c.print(Text(f"  {d.get('level', 'info')}: {d.get('message', '')}", style="dim"))

    def _flush(self) -> None:
        """One line for the hypotheses the last answer moved."""
        if not self._moved:
            return
        counts = {v: sum(1 for verb, _d in self._moved if verb == v) for v in _MARK}
        tally = " ".join(f"{_MARK[v]}{n}" for v, n in counts.items() if n)
        best = max(self._moved, key=lambda m: float(m[1].get("confidence", 0.0)))[1]
        self.c.print(Text(f"│    {tally}  ↳ {best.get('id')} {_res(best)} {best.get('fault')} "
                          f"{float(best.get('confidence', 0.0)):.2f}", style="dim"))  # fmt: skip
        self._moved = []


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
    print_chain(c, d.get("causal_chain") or [])


def print_chain(c: Console, chain: list[Mapping[str, Any]]) -> None:
    """Root cause -> intermediate effects -> symptoms, one link per line."""
    if len(chain) < 2:
        return
    c.print()
    c.print("[bold]causal chain[/bold] (root cause -> effects -> symptoms)")
    for i, link in enumerate(chain):
        arrow = "  " if i == 0 else "  " + "   " * (i - 1) + "└→ "
        line = Text(arrow)
        line.append(_res(link), style="bold cyan" if i == 0 else "cyan")
        line.append(f"  {link.get('fault')}  [{link.get('role')}] ")
        line.append(f"{float(link.get('confidence', 0)):.2f}", style="dim")
        c.print(line)
