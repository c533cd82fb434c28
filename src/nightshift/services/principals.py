"""Users and API tokens.

Tokens are random, shown once, and stored as SHA-256 hashes (they are
high-entropy, so a slow KDF buys nothing and would cost every request).
A worker token is bound to one investigation and dies with it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.errors import Conflict, Invalid, NotFound
from nightshift.store.database import Database
from nightshift.store.tables import ApiTokenRow, UserRow, as_utc

TOKEN_PREFIX = "nsh_"  # noqa: S105 - a public prefix
WORKER_TOKEN_PREFIX = "nsw_"  # noqa: S105
_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    kind: PrincipalKind
    roles: frozenset[Role]
    contact: str
    active: bool


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        name=row.name,
        kind=PrincipalKind(row.kind),
        roles=frozenset(Role(r) for r in row.roles),
        contact=row.contact,
        active=row.active,
    )


class PrincipalService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create_user(
        self, name: str, *, kind: PrincipalKind, roles: frozenset[Role], contact: str = ""
    ) -> User:
        if not _NAME.match(name):
            raise Invalid(
                "user name must be 1-128 lowercase letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        if Role.CHANGE_SENDER in roles and (kind is PrincipalKind.HUMAN or len(roles) > 1):
            raise Invalid("change-sender is a role for service principals only, held alone")
        if kind is PrincipalKind.HUMAN and not contact.strip():
            raise Invalid("a human user needs a contact (e-mail, pager or chat handle)")
        if Role.ALERT_SENDER in roles and (kind is PrincipalKind.HUMAN or len(roles) > 1):
            raise Invalid("alert-sender is a role for service principals only, held alone")
        with self._db.transaction() as s:
            if s.scalar(select(UserRow.id).where(UserRow.name == name)):
                raise Conflict(f"user {name!r} already exists")
            row = UserRow(
                id=new_id(),
                name=name,
                kind=kind.value,
                roles=sorted(r.value for r in roles),
                contact=contact.strip(),
                active=True,
            )
            s.add(row)
            return _user(row)

    def get_user(self, name: str) -> User:
        with self._db.read() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise NotFound(f"no user named {name!r}")
            return _user(row)

    def get_user_by_id(self, user_id: str) -> User:
        with self._db.read() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"no user with id {user_id!r}")
            return _user(row)

    def list_users(self) -> list[User]:
        with self._db.read() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def set_active(self, name: str, active: bool) -> User:
        with self._db.transaction() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise NotFound(f"no user named {name!r}")
            row.active = active
            return _user(row)

    def create_token(
        self, user_name: str, *, description: str = "", expires_at: datetime | None = None
    ) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._db.transaction() as s:
            user = s.scalar(select(UserRow).where(UserRow.name == user_name))
            if user is None:
                raise NotFound(f"no user named {user_name!r}")
            s.add(
                ApiTokenRow(
                    id=new_id(),
                    token_hash=hash_token(token),
                    prefix=token[:10],
                    user_id=user.id,
                    description=description,
                    expires_at=expires_at,
                )
            )
        return token

    def authenticate(self, token: str) -> Caller | None:
        """The principal for a presented token, or None (unknown, expired, revoked)."""
        if not token.startswith((TOKEN_PREFIX, WORKER_TOKEN_PREFIX)) or len(token) > 128:
            return None
        digest = hash_token(token)
        now = datetime.now(UTC)
        with self._db.read() as s:
            row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
            # Constant-time compare on the hash we looked up, for form's sake.
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            if row.revoked_at is not None:
                return None
            if row.expires_at is not None and as_utc(row.expires_at) <= now:
                return None
            if row.investigation_id is not None:
                return Caller(
                    name=f"worker:{row.investigation_id}",
                    kind=PrincipalKind.SERVICE,
                    roles=frozenset(),
                    investigation_id=row.investigation_id,
                )
            user = s.get(UserRow, row.user_id) if row.user_id else None
            if user is None or not user.active:
                return None
            return Caller(
                name=user.name,
                kind=PrincipalKind(user.kind),
                roles=frozenset(Role(r) for r in user.roles),
                user_id=user.id,
            )


def issue_worker_token(s: Session, investigation_id: str, expires_at: datetime) -> str:
    """Create the one token a worker gets, inside the caller's transaction."""
    token = WORKER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    s.add(
        ApiTokenRow(
            id=new_id(),
            token_hash=hash_token(token),
            prefix=token[:10],
            investigation_id=investigation_id,
            description="worker",
            expires_at=expires_at,
        )
    )
    return token


def revoke_worker_tokens(s: Session, investigation_id: str) -> None:
    s.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.investigation_id == investigation_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
