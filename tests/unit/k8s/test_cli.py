"""`nightshift k8s render` from an identities file (no database, no cluster)."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from nightshift.cli.k8s import register

AGENTS = """
agents:
  - name: fixer
    owner: {id: alice, kind: human, contact: alice@example.com}
    authority_class: supervised
    phase: limited-remediation
    boundaries: {namespaces: [shop], domains: [kubernetes], action_types: [restart-pod]}
"""


def test_render_prints_every_object_for_the_registered_agents(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    (tmp_path / "agents.yaml").write_text(AGENTS)
    result = CliRunner().invoke(app, ["k8s", "render", "--agents", str(tmp_path / "agents.yaml")])
    assert result.exit_code == 0, result.output
    objects = list(yaml.safe_load_all(result.stdout))
    role = next(o for o in objects if o["kind"] == "Role")
    assert role["metadata"]["namespace"] == "shop"
    pods = next(r for r in role["rules"] if r["apiGroups"] == [""] and "pods" in r["resources"])
    assert pods["verbs"] == ["delete", "get", "list", "watch"]
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"] == [
        "nsa-fixer-limited-remediation"
    ]


def test_render_refuses_a_malformed_identities_file(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    (tmp_path / "agents.yaml").write_text("agents: [{name: x}]")
    result = CliRunner().invoke(app, ["k8s", "render", "--agents", str(tmp_path / "agents.yaml")])
    assert result.exit_code == 2
