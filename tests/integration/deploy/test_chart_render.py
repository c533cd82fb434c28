"""Every reviewed values file lints, renders, and is accepted by a real 1.36 API server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nightshift.k8s.helm_values import ENVIRONMENTS, PHASES
from tests.integration.deploy.conftest import CHART, Tool

VALUES = [CHART / f"values-{env}-{phase}.yaml" for env in ENVIRONMENTS for phase in PHASES]
RELEASE_NS = "nightshift"


def _render(helm: Tool, values: Path) -> list[dict[str, Any]]:
    out = helm.run("template", "nightshift", str(CHART), "-n", RELEASE_NS, "-f", str(values))
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def test_there_are_twelve_reviewed_values_files() -> None:
    assert len(VALUES) == 12 and all(p.exists() for p in VALUES)


@pytest.mark.parametrize("values", VALUES, ids=lambda p: p.stem)
def test_helm_lint_passes_strictly(helm: Tool, values: Path) -> None:
    out = helm.run("lint", "--strict", str(CHART), "-f", str(values))
    assert "0 chart(s) failed" in out.stdout, out.stdout


@pytest.mark.parametrize("values", VALUES, ids=lambda p: p.stem)
def test_rendered_objects_pass_strict_server_side_validation(
    helm: Tool, kubectl: Tool, values: Path
) -> None:
    objects = _render(helm, values)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "ServiceAccount", "ValidatingAdmissionPolicy"} <= kinds
    # Namespaced objects are dry-run into namespaces that must exist; the dry run
    # of a Namespace itself persists nothing, so create both for real first.
    namespaces = {RELEASE_NS} | {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    namespaces |= {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")}
    for ns in sorted(namespaces):
        kubectl.run("create", "namespace", ns, check=False)
    out = kubectl.run(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "--field-manager=chart-test",
        "--force-conflicts",  # the install test may own the same cluster-scoped policies
        "-f",
        "-",
        stdin=yaml.safe_dump_all(objects),
    )
    accepted = [line for line in out.stdout.splitlines() if "(server dry run)" in line]
    assert len(accepted) == len(objects), out.stdout


def _write(tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def test_an_unknown_phase_is_refused_by_the_schema_with_the_allowed_ones(
    helm: Tool, tmp_path: Path
) -> None:
    values = yaml.safe_load((CHART / "values-dev-shadow.yaml").read_text())
    values["phase"] = "yolo"
    out = helm.run(
        "template", "nightshift", str(CHART), "-f", str(_write(tmp_path, values)), check=False
    )
    assert out.returncode != 0
    assert "at '/phase': value must be one of" in out.stderr and "'shadow'" in out.stderr, (
        out.stderr
    )


def test_remediation_rbac_in_a_shadow_file_fails_the_render_naming_the_agent(
    helm: Tool, tmp_path: Path
) -> None:
    values = yaml.safe_load((CHART / "values-production-shadow.yaml").read_text())
    limited = yaml.safe_load((CHART / "values-production-autonomous-l1.yaml").read_text())
    values["agents"]["rendered"] = limited["agents"]["rendered"]
    out = helm.run(
        "template", "nightshift", str(CHART), "-f", str(_write(tmp_path, values)), check=False
    )
    assert out.returncode != 0
    assert "is declared at phase autonomous-l1 in a shadow values file" in out.stderr, out.stderr


def test_the_data_dir_is_one_the_control_plane_creates_below_its_volume(helm: Tool) -> None:
    # The kubelet creates an emptyDir owned by root (group from fsGroup); the control
    # plane makes its data dir 0700, which only the owner may, so it must create it.
    [deploy] = [o for o in _render(helm, VALUES[0]) if o["kind"] == "Deployment"]
    [container] = deploy["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    data = Path(env["NIGHTSHIFT_DATA_DIR"])
    assert Path(mounts["data"]) in data.parents, (data, mounts)
