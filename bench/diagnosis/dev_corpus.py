"""The HolmesGPT development corpus: cases, requests and the keyword rubric."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nightshift.agent.request import InvestigationRequest
from nightshift.domain.diagnosis import Diagnosis, RootCause
from nightshift.domain.taxonomy import load_taxonomy

RUBRIC = Path(__file__).with_name("dev_rubric.yaml")
DEFAULT_CORPUS = Path("/work/shared/benchmarks/holmesgpt-fixtures")


@dataclass(frozen=True, slots=True)
class DevCase:
    name: str
    path: Path
    request: InvestigationRequest
    rubric: tuple[tuple[str, ...], ...]


def load_cases(corpus: Path) -> tuple[list[DevCase], list[tuple[str, str]]]:
    """Scored cases, plus (name, reason) for every case left out."""
    spec: dict[str, Any] = yaml.safe_load(RUBRIC.read_text("utf-8"))["cases"]
    cases: list[DevCase] = []
    skipped: list[tuple[str, str]] = []
    for tc_file in sorted(corpus.glob("*/*/test_case.yaml")):
        case_dir = tc_file.parent
        name = f"{case_dir.parent.name}/{case_dir.name}"
        tc = yaml.safe_load(tc_file.read_text("utf-8")) or {}
        if not list(case_dir.glob("*.txt")):
            skipped.append((name, "no recordings"))
            continue
        if tc.get("skip"):
            skipped.append((name, "upstream skip: needs a live cluster"))
            continue
        entry = spec.get(name)
        if entry is None:
            skipped.append((name, "no rubric written"))
            continue
        if entry.get("scope") == "out-of-scope":
            skipped.append((name, f"out of scope: {entry.get('why', '')}"))
            continue
        rubric = tuple(tuple(str(k) for k in group) for group in entry["rubric"])
        cases.append(DevCase(name, case_dir, _request(case_dir, tc), rubric))
    return cases, skipped


def _request(case_dir: Path, tc: dict[str, Any]) -> InvestigationRequest:
    alert_file = case_dir / "investigate_request.json"
    if alert_file.exists():
        alert = json.loads(alert_file.read_text("utf-8"))
        subject = alert.get("subject") or {}
        labels = {k: str(v) for k, v in subject.items() if isinstance(v, str) and v}
        # An alert with an empty subject still carried its Prometheus labels
        # (namespace, pod ...): the agent gets those from Alertmanager too.
        for k, v in _raw_alert_labels(case_dir).items():
            labels.setdefault(k, v)
        question = f"{alert.get('title', '')} {alert.get('description', '')}".strip()
        return InvestigationRequest(
            question=question,
            alert_labels=labels,
            namespace=subject.get("namespace") or labels.get("namespace") or None,
        )
    health_file = case_dir / "workload_health_request.json"
    if health_file.exists():
        ask = json.loads(health_file.read_text("utf-8"))
        res = ask.get("resource") or {}
        return InvestigationRequest(
            question=str(ask.get("ask", "")),
            namespace=ask.get("namespace") or res.get("namespace"),
            resource=f"{res.get('kind', '')}/{res.get('name', '')}" if res.get("name") else None,
        )
    prompt = tc.get("user_prompt") or ""
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else ""
    return InvestigationRequest(question=str(prompt))


def _raw_alert_labels(case_dir: Path) -> dict[str, str]:
    issue_file = case_dir / "issue_data.json"
    if not issue_file.exists():
        return {}
    raw = json.loads(issue_file.read_text("utf-8")).get("raw") or {}
    labels = raw.get("labels") if isinstance(raw, dict) else None
    if not isinstance(labels, dict):
        return {}
    return {str(k): str(v) for k, v in labels.items() if isinstance(v, str) and v}


def cause_text(cause: RootCause) -> str:
    title = load_taxonomy().get(cause.fault).title
    return f"{cause.fault} {title} {cause.resource} {cause.explanation}".lower()


def satisfies(text: str, rubric: tuple[tuple[str, ...], ...]) -> bool:
    return all(any(k.lower() in text for k in group) for group in rubric)


def score(diagnosis: Diagnosis, rubric: tuple[tuple[str, ...], ...]) -> tuple[bool, bool]:
    """(top-1 hit, top-3 hit)."""
    texts = [cause_text(c) for c in diagnosis.root_causes[:3]] or [diagnosis.summary.lower()]
    hits = [satisfies(t, rubric) for t in texts]
    return hits[0], any(hits)
