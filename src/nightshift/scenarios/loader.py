"""Finding, reading, validating and materializing scenario files.

A malformed file raises ``ScenarioError`` naming the file and the field path
(``pods[2].containers[0].restarts``), because the people writing scenarios are
users, not the authors of this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nightshift.domain.vocabulary import Domain, Tier
from nightshift.scenarios.actions_catalog import ACTION_TYPES
from nightshift.scenarios.materialize import expand_alert_storm, materialize
from nightshift.scenarios.model import Scenario
from nightshift.scenarios.patching import SECTION_KEYS, merge_raw


class ScenarioError(ValueError):
    """A scenario cannot be found or is not valid; the message says where and why."""


def data_dir() -> Path:
    return Path(str(resources.files("nightshift.scenarios") / "data"))


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    name: str
    title: str
    tier: Tier
    domains: tuple[Domain, ...]
    path: Path


# libyaml when present: the cascade's 500-line file parses ~10x faster
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=64)
def _parse_file(path: str, mtime_ns: int) -> object:
    """Parsed YAML per file version. Callers must treat the result as read-only."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_LOADER)  # noqa: S506 - a safe loader class


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = _parse_file(str(path), path.stat().st_mtime_ns)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"scenario file {path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ScenarioError(f"scenario file {path}: cannot be read: {exc}") from exc
    if not isinstance(doc, dict):
        raise ScenarioError(f"scenario file {path}: expected a mapping at the top level")
    return doc


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _format_validation(path: Path, exc: ValidationError) -> str:
    lines = [f"scenario file {path}: {exc.error_count()} invalid field(s):"]
    for err in exc.errors()[:20]:
        lines.append(f"  field '{_field_path(tuple(err['loc']))}': {err['msg']}")
    return "\n".join(lines)


# An installed scenario's name: what a network caller may ask for. Never a path.
_INSTALLED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def installed_path(name: str) -> Path:
    """The file of an installed scenario; anything that is not a bare name is
    refused, so a request cannot make the server read a file of its choosing."""
    if not isinstance(name, str) or not _INSTALLED_NAME.fullmatch(name):
        raise ScenarioError(
            f"{str(name)[:80]!r} is not the name of an installed scenario (lowercase letters, "
            "digits and '-'; paths are not accepted; see `nightshift scenarios`)"
        )
    path = data_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(i.name for i in list_scenarios())
        raise ScenarioError(f"unknown scenario '{name}'; installed scenarios: {known}")
    return path


def load_installed(name: str) -> Scenario:
    """Load an installed scenario by name only: the loader for names that come
    from requests (the control plane and the worker use it).

    The parse is remembered for the file as it is (path, mtime, size): a worker
    reads its scenario twice, for its probe bounds and for its world, and each
    parse cost ~4 % of a forked worker's CPU. Callers only read a loaded
    scenario (a world copies its state before its first action)."""
    path = installed_path(name)
    stat = path.stat()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


# Room for every shipped scenario: the worker template keeps them all parsed.
@lru_cache(maxsize=64)
def _parsed(path: Path, _mtime_ns: int, _size: int) -> Scenario:
    return parse_scenario(_read_yaml(path), path)


def resolve_path(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise ScenarioError(f"scenario file {candidate}: no such file")
        return candidate
    path = data_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(i.name for i in list_scenarios())
        raise ScenarioError(f"unknown scenario '{name_or_path}'; shipped scenarios: {known}")
    return path


def parse_scenario(doc: dict[str, Any], path: Path) -> Scenario:
    """Validate and materialize an already-read document (``path`` is for messages)."""
    base_name = doc.get("base")
    if base_name is not None:
        base_path = data_dir() / "bases" / f"{base_name}.yaml"
        if not base_path.is_file():
            raise ScenarioError(f"scenario file {path}: field 'base': no base named '{base_name}'")
        doc = merge_raw(_read_yaml(base_path), doc)
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        raise ScenarioError(_format_validation(path, exc)) from exc
    expand_alert_storm(scenario)
    try:
        materialize(scenario)
    except ValueError as exc:
        raise ScenarioError(f"scenario file {path}: {exc}") from exc
    problems = check_consistency(scenario)
    if problems:
        raise ScenarioError(
            f"scenario file {path}: inconsistent:\n" + "\n".join(f"  {p}" for p in problems)
        )
    return scenario


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name, or any scenario file by path (a trusted
    caller's choice; for names from a request use :func:`load_installed`)."""
    path = resolve_path(name_or_path)
    return parse_scenario(_read_yaml(path), path)


def list_scenarios() -> list[ScenarioInfo]:
    """The shipped scenarios (metadata only, without full validation)."""
    infos: list[ScenarioInfo] = []
    for path in sorted(data_dir().glob("*.yaml")):
        meta = _read_yaml(path).get("metadata") or {}
        try:
            infos.append(
                ScenarioInfo(
                    name=str(meta["name"]),
                    title=str(meta["title"]),
                    tier=Tier(meta["tier"]),
                    domains=tuple(Domain(d) for d in meta["domains"]),
                    path=path,
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ScenarioError(f"scenario file {path}: field 'metadata': {exc!r}") from exc
    return infos


def check_consistency(scenario: Scenario) -> list[str]:
    """Cross-field rules pydantic cannot express: unique identities, references."""
    problems: list[str] = []
    for section, key in SECTION_KEYS.items():
        if section == "alerts":
            continue  # the same alert may legitimately fire twice per target
        seen: set[tuple[str, ...]] = set()
        for i, item in enumerate(getattr(scenario, section)):
            k = key(item)
            if k in seen:
                problems.append(f"field '{section}[{i}]': duplicate {'/'.join(k)}")
            seen.add(k)
    nodes = {n.name for n in scenario.nodes}
    for i, pod in enumerate(scenario.pods):
        if pod.node is not None and nodes and pod.node not in nodes:
            problems.append(f"field 'pods[{i}].node': no node named '{pod.node}'")
        if pod.owner and pod.owner.split("/", 1)[0].lower() in (
            "deployment",
            "statefulset",
            "daemonset",
        ):
            kind, _, name = pod.owner.partition("/")
            if not any(
                w.name == name and w.namespace == pod.namespace and w.kind.lower() == kind.lower()
                for w in scenario.deployments
            ):
                problems.append(f"field 'pods[{i}].owner': no {pod.owner} in {pod.namespace}")
    gt = scenario.ground_truth
    for i, rem in enumerate([*gt.remediation, *gt.harmful_actions]):
        if rem.action not in ACTION_TYPES:
            known = ", ".join(sorted(ACTION_TYPES))
            problems.append(
                f"field 'ground_truth.remediation[{i}].action': unknown action "
                f"'{rem.action}' (known: {known})"
            )
    trigger = scenario.trigger
    if trigger.kind == "alert" and trigger.alert not in {a.name for a in scenario.alerts}:
        problems.append(f"field 'trigger.alert': no firing alert named '{trigger.alert}'")
    if trigger.kind == "question" and not trigger.question:
        problems.append("field 'trigger.question': a question trigger needs the question")
    return problems
