"""A user finds every setting and every command documented: each Settings field's
environment variable is in the README or docs/, and so is each CLI command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
from typer.main import get_command

from nightshift.cli.main import app
from nightshift.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_FULL = re.compile(r"NIGHTSHIFT_[A-Z0-9_]+")
_SHORT = re.compile(r"(?<![A-Z0-9])(?:\.\.\.)?(_[A-Z0-9][A-Z0-9_]*)")


def _documentation() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text() for p in pages)


def documented_variables(text: str) -> set[str]:
    """Full names, plus the short forms of a table cell: in "`NIGHTSHIFT_K8S_NAMESPACE`
    / `_WORKER_IMAGE`", `_WORKER_IMAGE` is NIGHTSHIFT_K8S_WORKER_IMAGE (the first full
    name's first two words are the group)."""
    names = set(_FULL.findall(text))
    for cell in re.split(r"\|", text):
        full = _FULL.findall(cell)
        if not full:
            continue
        group = "_".join(full[0].split("_")[:2])
        rest = _FULL.sub("", cell)
        names.update(group + short for short in _SHORT.findall(rest))
    return names


def test_the_short_forms_of_a_settings_table_cell_are_read() -> None:
    cell = "| `NIGHTSHIFT_K8S_NAMESPACE` / `_WORKER_IMAGE`, `..._JOB_TTL_SECONDS` | x |"
    assert {
        "NIGHTSHIFT_K8S_NAMESPACE",
        "NIGHTSHIFT_K8S_WORKER_IMAGE",
        "NIGHTSHIFT_K8S_JOB_TTL_SECONDS",
    } <= documented_variables(cell)


def test_every_setting_is_documented() -> None:
    known = documented_variables(_documentation())
    missing = [
        f"NIGHTSHIFT_{field.upper()}"
        for field in Settings.model_fields
        if f"NIGHTSHIFT_{field.upper()}" not in known
    ]
    assert missing == [], "document these settings in README.md or docs/: " + ", ".join(missing)


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path


def test_every_cli_command_is_documented() -> None:
    text = _documentation()
    missing = [
        " ".join(path)
        for path in _commands(get_command(app))
        if not re.search(r"nightshift\s+" + r"\s+".join(map(re.escape, path)) + r"\b", text)
    ]
    assert missing == [], "document these commands: " + ", ".join(missing)
