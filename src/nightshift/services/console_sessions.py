"""Web-console sessions and one-time sign-in links.

A person signs in by pasting an API token; the console then holds a random
session secret in an HttpOnly cookie instead of the token. Each request
re-reads the user (active? which roles now?) and the token the session came
from (revoked? expired?), so taking a role or a token away takes effect on
the next click. A one-time link is a short-lived secret that opens exactly
one session (``scripts/demo`` prints one for the demo owner).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session as OrmSession

from nightshift.domain.access import Caller
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.errors import Invalid, NotFound
from nightshift.services.principals import hash_token
from nightshift.store.database import Database
from nightshift.store.tables import ApiTokenRow, ConsoleSessionRow, UserRow, as_utc

SESSION_PREFIX = "nss_"  # public prefixes, like the API tokens' nsh_
LINK_PREFIX = "nsl_"
MAX_LINK_SECONDS = 900  # a link is for the next few minutes, not a standing credential


@dataclass(frozen=True, slots=True)
class Session:
    """An open console session: who, the CSRF token of its forms, when it ends."""

    caller: Caller
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Opened:
    secret: str  # goes into the cookie, never stored
    session: Session


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ConsoleSessionService:
    def __init__(self, db: Database, lifetime: timedelta) -> None:
        self._db = db
        self._lifetime = lifetime

    def sign_in(self, token: str) -> Opened:
        """A session for a human's valid API token; :class:`Invalid` otherwise."""
        token = token.strip()
        if len(token) > 128 or not token.startswith("nsh_"):
            raise Invalid("not a Nightshift API token (they start with nsh_)")
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(token)))
            if row is None or row.revoked_at is not None or row.user_id is None:
                raise Invalid("invalid, expired or revoked token")
            if row.expires_at is not None and as_utc(row.expires_at) <= now:
                raise Invalid("invalid, expired or revoked token")
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                raise Invalid("invalid, expired or revoked token")
            if user.kind != PrincipalKind.HUMAN.value:
                raise Invalid("the console is for people; service tokens use the API")
            expires = now + self._lifetime
            if row.expires_at is not None:
                expires = min(expires, as_utc(row.expires_at))
            return self._open(s, user.id, row.id, expires)

    def issue_link(self, user_name: str, ttl_seconds: int = 300) -> str:
        """A single-use sign-in secret for ``user_name``, valid ``ttl_seconds``."""
        if not 1 <= ttl_seconds <= MAX_LINK_SECONDS:
            raise Invalid(f"ttl_seconds must be between 1 and {MAX_LINK_SECONDS}")
        secret = LINK_PREFIX + secrets.token_urlsafe(32)
        with self._db.transaction() as s:
            user = s.scalar(select(UserRow).where(UserRow.name == user_name))
            if user is None:
                raise NotFound(f"no user named {user_name!r}")
            if not user.active or user.kind != PrincipalKind.HUMAN.value:
                raise Invalid("sign-in links are for active human users")
            s.add(
                ConsoleSessionRow(
                    id=new_id(),
                    kind="link",
                    secret_hash=_digest(secret),
                    user_id=user.id,
                    expires_at=datetime.now(UTC) + timedelta(seconds=ttl_seconds),
                )
            )
        return secret

    def redeem_link(self, secret: str) -> Opened:
        """Consume a link and open a session; a used, expired or unknown link is Invalid."""
        now = datetime.now(UTC)
        if not secret.startswith(LINK_PREFIX) or len(secret) > 128:
            raise Invalid("this sign-in link is not valid")
        with self._db.transaction() as s:
            # The conditional UPDATE is what makes a link single-use under races.
            consumed = s.execute(
                update(ConsoleSessionRow)
                .where(
                    ConsoleSessionRow.secret_hash == _digest(secret),
                    ConsoleSessionRow.kind == "link",
                    ConsoleSessionRow.used_at.is_(None),
                )
                .values(used_at=now)
            )
            row = s.scalar(
                select(ConsoleSessionRow).where(ConsoleSessionRow.secret_hash == _digest(secret))
            )
            if consumed.rowcount != 1 or row is None or as_utc(row.expires_at) <= now:  # type: ignore[attr-defined]
                raise Invalid("this sign-in link was already used, has expired or is unknown")
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                raise Invalid("this sign-in link's user is no longer active")
            return self._open(s, user.id, None, now + self._lifetime)

    def authenticate(self, secret: str) -> Session | None:
        if not secret.startswith(SESSION_PREFIX) or len(secret) > 128:
            return None
        now = datetime.now(UTC)
        with self._db.read() as s:
            row = s.scalar(
                select(ConsoleSessionRow).where(ConsoleSessionRow.secret_hash == _digest(secret))
            )
            if row is None or row.kind != "session" or row.revoked_at is not None:
                return None
            if as_utc(row.expires_at) <= now:
                return None
            if row.api_token_id is not None:
                token = s.get(ApiTokenRow, row.api_token_id)
                if token is None or token.revoked_at is not None:
                    return None
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                return None
            caller = Caller(
                name=user.name,
                kind=PrincipalKind(user.kind),
                roles=frozenset(Role(r) for r in user.roles),
                user_id=user.id,
            )
            return Session(caller=caller, csrf=row.csrf, expires_at=as_utc(row.expires_at))

    def sign_out(self, secret: str) -> None:
        with self._db.transaction() as s:
            s.execute(
                update(ConsoleSessionRow)
                .where(
                    ConsoleSessionRow.secret_hash == _digest(secret),
                    ConsoleSessionRow.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )

    def _open(self, s: OrmSession, user_id: str, token_id: str | None, expires: datetime) -> Opened:
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        s.add(
            ConsoleSessionRow(
                id=new_id(),
                kind="session",
                secret_hash=_digest(secret),
                user_id=user_id,
                api_token_id=token_id,
                csrf=csrf,
                expires_at=expires,
            )
        )
        s.flush()
        user = s.get(UserRow, user_id)
        assert user is not None
        caller = Caller(
            name=user.name,
            kind=PrincipalKind(user.kind),
            roles=frozenset(Role(r) for r in user.roles),
            user_id=user.id,
        )
        return Opened(secret=secret, session=Session(caller, csrf, expires))
