"""The worker reads its settings from the environment the executor built: every
field under its NIGHTSHIFT_ name, a bad backend refused with the variable named,
and the single-use hand-off never printed."""

from __future__ import annotations

import pytest

from nightshift.settings import Settings
from nightshift.worker_settings import WorkerSettings


def test_each_field_comes_from_its_prefixed_variable() -> None:
    got = WorkerSettings.from_env(
        {
            "NIGHTSHIFT_SECRETS_BACKEND": "vault",
            "NIGHTSHIFT_VAULT_ADDR": "https://vault:8200",
            "nightshift_vault_prefix": "team-a",  # any case, like the control plane's
            "NIGHTSHIFT_DATABASE_URL": "postgresql://not/the/worker's",
        }
    )
    assert got.secrets_backend == "vault"
    assert got.vault_addr == "https://vault:8200"
    assert got.vault_prefix == "team-a"
    assert got.vault_kv_mount == "secret"  # the default when unset


def test_a_given_value_wins_over_the_environment() -> None:
    got = WorkerSettings.from_env({"NIGHTSHIFT_SECRETS_HANDOFF": "old"}, secrets_handoff="new")
    assert got.secrets_handoff == "new"


def test_an_unknown_backend_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="NIGHTSHIFT_SECRETS_BACKEND must be one of local, vault"):
        WorkerSettings.from_env({"NIGHTSHIFT_SECRETS_BACKEND": "etcd"})


def test_the_handoff_is_never_printed() -> None:
    assert "nsh_code" not in repr(WorkerSettings(secrets_handoff="nsh_code"))


def test_the_control_plane_hands_on_what_the_worker_reads_back() -> None:
    plane = Settings(secrets_backend="vault", vault_addr="https://v:8200", vault_namespace="ns1")
    env = plane.worker_settings().env()
    assert (
        WorkerSettings.from_env({**env, "NIGHTSHIFT_SECRETS_BACKEND": "vault"})
        == plane.worker_settings()
    )


def test_the_worker_loads_neither_the_planes_settings_nor_pydantic_plugins() -> None:
    """Each costs a spawned worker 10-60 ms before its first event, for nothing."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from nightshift.__main__ import worker_imports; worker_imports();"
        " import pydantic.plugin._loader as plugins;"
        " print('pydantic_settings' in sys.modules, 'nightshift.settings' in sys.modules,"
        " plugins._plugins is None)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "False", "True"]


def test_the_template_forks_its_workers_with_the_same_environment() -> None:
    from nightshift.runtime.executors.local_template import template_env

    assert template_env({"PATH": "/bin"})["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
