"""Corpus bundles on disk, and their replay.

One directory per case: ``truth.json`` (ground truth, question, namespace,
what the API server refused while staging) and ``calls.jsonl.gz``: the
header ``{"specs": [...]}`` then one record per recorded call, in the format
of nightshift.agent.tools.replay (call name + params -> status, text, data,
error). Replay answers a call whose params name a kind by any kubectl alias
(``po``, ``pod``, ``Pods``) with the recording made under the plural.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nightshift.agent.tools.protocol import ToolCall, ToolResult
from nightshift.agent.tools.replay import ReplayToolset
from nightshift.k8s.toolset import KINDS

Obj = dict[str, Any]


def canonical(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Params as recorded: empty values dropped, kinds spelled as their plural."""
    out = {k: v for k, v in params.items() if v not in (None, "", False)}
    if name.startswith("kubectl_") and isinstance(out.get("kind"), str):
        key = out["kind"].lower().split(".")[0]
        out["kind"] = KINDS[key][1] if key in KINDS else key
    return out


class CorpusReplay(ReplayToolset):
    async def call(self, call: ToolCall) -> ToolResult:
        return await super().call(ToolCall(call.name, canonical(call.name, call.params)))


@dataclass(frozen=True)
class Bundle:
    path: Path
    truth: Obj
    records: list[Obj]
    specs: list[str]

    @property
    def id(self) -> str:
        return str(self.truth["id"])

    def replay(self) -> CorpusReplay:
        return CorpusReplay(self.records, self.specs)


def write(path: Path, truth: Obj, specs: list[str], records: list[Obj]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", "utf-8")
    lines = [json.dumps({"specs": specs})] + [json.dumps(r, sort_keys=True) for r in records]
    with gzip.open(path / "calls.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("\n".join(lines) + "\n")


def load(path: Path) -> Bundle:
    truth = json.loads((path / "truth.json").read_text("utf-8"))
    with gzip.open(path / "calls.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    header = next((r for r in rows if "specs" in r), {"specs": []})
    return Bundle(path, truth, [r for r in rows if "call" in r], list(header["specs"]))


def load_all(root: Path) -> Iterator[Bundle]:
    for truth in sorted(root.glob("*/truth.json")):
        yield load(truth.parent)
