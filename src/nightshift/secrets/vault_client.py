"""hvac clients built explicitly, and hvac's errors translated into the broker's.

hvac falls back to ``VAULT_TOKEN``/``~/.vault-token``/``VAULT_ADDR`` when it
is given no token or URL: a test meant to be unauthenticated would silently
run as root, and a control plane could run with an operator's token. Every
client here is built with an explicit URL and an explicit (possibly empty)
token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import hvac  # type: ignore[import-untyped]
from hvac import exceptions as hvac_errors

from nightshift.secrets.protocol import (
    AccessDenied,
    BrokerUnavailable,
    SecretBrokerError,
    SecretNotFound,
)

_UNAVAILABLE = (
    hvac_errors.VaultDown,  # sealed
    hvac_errors.InternalServerError,
    hvac_errors.BadGateway,
    hvac_errors.RateLimitExceeded,
    OSError,  # requests' ConnectionError and Timeout derive from it
)


@dataclass(frozen=True, slots=True)
class VaultEndpoint:
    """How to reach the server (NIGHTSHIFT_VAULT_ADDR, _CACERT, _NAMESPACE, _TIMEOUT)."""

    addr: str
    verify: bool | str = True  # False, True or a CA bundle path
    namespace: str | None = None
    timeout: float = 5.0

    def client(self, token: str = "") -> Any:
        """An hvac client that uses exactly ``token`` (empty: none) and nothing from the env."""
        return hvac.Client(
            url=self.addr,
            token=token,
            verify=self.verify,
            namespace=self.namespace,
            timeout=self.timeout,
        )


@dataclass(frozen=True, slots=True)
class VaultAuth:
    """How the control plane authenticates (NIGHTSHIFT_VAULT_AUTH_METHOD and friends).

    ``token``: a token with the ``nightshift-control-plane`` policy.
    ``jwt`` / ``kubernetes``: log in with the service-account token read from
    ``jwt_path`` against ``role`` on ``mount`` (re-read at every login, since
    projected tokens rotate).
    """

    method: Literal["token", "jwt", "kubernetes"] = "token"
    token: str = field(default="", repr=False)
    role: str = ""
    jwt_path: Path = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
    mount: str | None = None

    def login(self, endpoint: VaultEndpoint) -> tuple[Any, float | None]:
        """An authenticated hvac client and its token's lifetime in seconds (None: static).

        Raises BrokerUnavailable / AccessDenied.
        """
        if self.method == "token":
            if not self.token:
                raise AccessDenied("no Vault token configured (NIGHTSHIFT_VAULT_TOKEN)")
            return endpoint.client(self.token), None
        client = endpoint.client()
        try:
            jwt = self.jwt_path.read_text().strip()
        except OSError as exc:
            raise AccessDenied(f"cannot read the service-account token {self.jwt_path}") from exc
        if self.method == "jwt":
            response = jwt_login(client, role=self.role, jwt=jwt, mount=self.mount or "jwt")
        else:
            with vault_errors("kubernetes login"), _login_refused("kubernetes"):
                response = client.auth.kubernetes.login(
                    role=self.role, jwt=jwt, mount_point=self.mount or "kubernetes"
                )
        return client, float(response["auth"]["lease_duration"])


def jwt_login(client: Any, *, role: str, jwt: str, mount: str) -> dict[str, Any]:
    """Log ``client`` in with a JWT; a token the role does not accept is AccessDenied."""
    with vault_errors("JWT login"), _login_refused("JWT"):
        response: dict[str, Any] = client.auth.jwt.jwt_login(role=role, jwt=jwt, path=mount)
    return response


@contextmanager
def _login_refused(method: str) -> Iterator[None]:
    try:
        yield
    except hvac_errors.InvalidRequest as exc:
        # The server's reason ("invalid audience (aud) claim", ...) never echoes the JWT.
        reason = str(exc).split(", on ", 1)[0].strip()
        raise AccessDenied(f"{method} login refused: {reason}") from exc


@contextmanager
def vault_errors(what: str) -> Iterator[None]:
    """Translate hvac/requests errors into broker errors (messages carry no secrets)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise BrokerUnavailable(
            f"{what}: Vault/OpenBao unreachable or sealed ({type(exc).__name__})"
        ) from exc
    except (hvac_errors.Forbidden, hvac_errors.Unauthorized) as exc:
        raise AccessDenied(f"{what}: permission denied by the server") from exc
    except hvac_errors.InvalidPath as exc:
        raise SecretNotFound(f"{what}: no such path on the server") from exc
    except hvac_errors.VaultError as exc:
        raise SecretBrokerError(f"{what}: server refused ({type(exc).__name__})") from exc
