"""Who may do what: role implication and the principal making a request."""

from __future__ import annotations

from dataclasses import dataclass

from nightshift.domain.vocabulary import PrincipalKind, Role

# A role grants itself and everything it implies. ops-lead and platform-owner
# are distinct (promotion to autonomous-l1 needs one of each), both operate.
_IMPLIES: dict[Role, frozenset[Role]] = {
    Role.VIEWER: frozenset({Role.VIEWER}),
    Role.OPERATOR: frozenset({Role.OPERATOR, Role.VIEWER}),
    Role.OPS_LEAD: frozenset({Role.OPS_LEAD, Role.OPERATOR, Role.VIEWER}),
    Role.PLATFORM_OWNER: frozenset({Role.PLATFORM_OWNER, Role.OPERATOR, Role.VIEWER}),
    Role.ADMIN: frozenset(Role),
    # Implies nothing, and nothing but admin implies it: an alert sender can
    # neither read nor submit investigations, and no human role sends alerts.
    Role.ALERT_SENDER: frozenset({Role.ALERT_SENDER}),
    # Likewise: a change sender posts changes and reads nothing.
    Role.CHANGE_SENDER: frozenset({Role.CHANGE_SENDER}),
}


def effective_roles(roles: frozenset[Role]) -> frozenset[Role]:
    out: set[Role] = set()
    for role in roles:
        out |= _IMPLIES[role]
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request.

    A worker principal is bound to exactly one investigation and holds no
    roles: it can only use that investigation's worker endpoints.
    """

    name: str
    kind: PrincipalKind
    roles: frozenset[Role]
    user_id: str | None = None
    investigation_id: str | None = None

    @property
    def is_worker(self) -> bool:
        return self.investigation_id is not None

    def has(self, role: Role) -> bool:
        return role in effective_roles(self.roles)
