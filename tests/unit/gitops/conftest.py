"""A real Git repository holding the test shop's manifests: a bare "origin" and
the working copy Nightshift commits into."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nightshift.gitops.working_copy import WorkingCopy

SHOP = """\
# The shop's checkout service and the policy that confines its egress.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: 2   # two is enough at night
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: checkout
          image: registry.example/checkout:2.3.1
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: checkout-egress
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: checkout}
  policyTypes: [Egress]
  egress:
    - to:
        - podSelector:
            matchLabels: {app: risk-scoring}
"""

KUSTOMIZATION = """\
namespace: data
resources:
  - pgbouncer.yaml
"""

PGBOUNCER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pgbouncer
spec:
  replicas: 1
"""


def git(cwd: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}  # fmt: skip
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> WorkingCopy:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    root = tmp_path / "gitops"
    git(tmp_path, "clone", "--quiet", str(origin), str(root))
    (root / "shop").mkdir()
    (root / "shop" / "checkout.yaml").write_text(SHOP)
    (root / "data").mkdir()
    (root / "data" / "kustomization.yaml").write_text(KUSTOMIZATION)
    (root / "data" / "pgbouncer.yaml").write_text(PGBOUNCER)
    git(root, "checkout", "--quiet", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "the shop")
    git(root, "push", "--quiet", "-u", "origin", "main")
    return WorkingCopy(root)
