"""The worker's own settings, read from the environment the executor built.

A plain dataclass, not a pydantic-settings class, on purpose: every spawned
worker (and every Job) imports this module before its first event, and
pydantic-settings with its source providers costs ~60 ms of import there for
nine strings. The control plane's ``Settings`` validates the same values when
it starts and hands them on through ``Settings.worker_settings()``; a worker only
re-checks the one choice that selects code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

PREFIX = "NIGHTSHIFT_"
# Set in every worker's environment before its first model is built: pydantic
# looks for plugins by walking every installed distribution's entry points then
# (~10-20 ms a worker), and the worker uses none.
WORKER_ENV = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}
BACKENDS = ("local", "vault")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """The worker token itself is read separately and removed from the environment
    at once (see ``runtime.worker``); the hand-off is never printed."""

    secrets_backend: Literal["local", "vault"] = "local"
    secrets_handoff: str = field(default="", repr=False)
    vault_addr: str = ""
    vault_cacert: str = ""
    vault_namespace: str = ""
    vault_kv_mount: str = "secret"
    vault_prefix: str = "nightshift"
    vault_database_mount: str = "database"
    vault_dynamic_sources: str = ""

    def __post_init__(self) -> None:
        if self.secrets_backend not in BACKENDS:
            raise ValueError(
                f"{PREFIX}SECRETS_BACKEND must be one of {', '.join(BACKENDS)},"
                f" not {self.secrets_backend!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: str) -> WorkerSettings:
        """Each field from ``NIGHTSHIFT_<FIELD>`` (any case), unless ``given``."""
        env = {k.upper(): v for k, v in (os.environ if environ is None else environ).items()}
        values: dict[str, str] = {}
        for name in cls.__dataclass_fields__:
            value = given.get(name, env.get(PREFIX + name.upper()))
            if value is not None:
                values[name] = value
        backend = cast(Literal["local", "vault"], values.pop("secrets_backend", "local"))
        return cls(secrets_backend=backend, **values)

    def env(self) -> dict[str, str]:
        """As environment variables for the worker unit; the executor adds the backend
        and the single-use hand-off itself."""
        if self.secrets_backend != "vault":
            return {}
        env = {
            "NIGHTSHIFT_VAULT_ADDR": self.vault_addr,
            "NIGHTSHIFT_VAULT_KV_MOUNT": self.vault_kv_mount,
            "NIGHTSHIFT_VAULT_PREFIX": self.vault_prefix,
            "NIGHTSHIFT_VAULT_DATABASE_MOUNT": self.vault_database_mount,
        }
        optional = {
            "NIGHTSHIFT_VAULT_CACERT": self.vault_cacert,
            "NIGHTSHIFT_VAULT_NAMESPACE": self.vault_namespace,
            "NIGHTSHIFT_VAULT_DYNAMIC_SOURCES": self.vault_dynamic_sources,
        }
        env.update({k: v for k, v in optional.items() if v})
        return env
