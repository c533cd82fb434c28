"""The test control plane itself: etcd 3.6 under an API server with its watch cache on."""

from __future__ import annotations

from pathlib import Path

import pytest

from nightshift.k8s.client import KubeApi
from tests.integration.k8s.cluster import ControlPlane, ControlPlaneError, etcd_binary

pytestmark = pytest.mark.slow


def test_the_api_server_serves_from_its_watch_cache_over_etcd_3_6(
    control_plane: ControlPlane, admin: KubeApi
) -> None:
    assert '"etcd-version":"3.6.' in (control_plane.workdir / "etcd.log").read_text()
    metrics = admin.get_text("/metrics")
    # One cacher per resource once the cache is on; none with --watch-cache=false.
    cached = [
        line
        for line in metrics.splitlines()
        if line.startswith("apiserver_watch_cache_initializations_total{")
    ]
    assert any('resource="pods"' in line for line in cached), cached[:5]


def test_a_named_etcd_that_is_not_an_executable_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "etcd"
    monkeypatch.setenv("NIGHTSHIFT_TEST_ETCD", str(missing))
    with pytest.raises(ControlPlaneError, match="not an executable"):
        etcd_binary()
