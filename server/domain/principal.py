"""Who is calling, and what that caller may see and do.

Customers see and move only their own money: another customer's resource is
answered as NOT_FOUND, so that ids cannot be probed. Staff roles act per
their job: AUDITOR reads everything and writes nothing; TELLER, OPERATIONS and
ADMIN read and write; ADMIN alone administers clients and users' roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import errors

CUSTOMER = "CUSTOMER"
TELLER = "TELLER"
OPERATIONS = "OPERATIONS"
ADMIN = "ADMIN"
AUDITOR = "AUDITOR"
ROLES = (CUSTOMER, TELLER, OPERATIONS, ADMIN, AUDITOR)
STAFF_ROLES = frozenset({TELLER, OPERATIONS, ADMIN, AUDITOR})
WRITING_STAFF_ROLES = frozenset({TELLER, OPERATIONS, ADMIN})

ALL_SCOPES = frozenset({"banking.read", "banking.write", "backoffice.admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    client_id: str
    role: str
    user_id: str | None = None
    scopes: frozenset[str] = ALL_SCOPES
    ip_address: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == CUSTOMER

    def can_see(self, owner_id: str | None) -> bool:
        """True when the caller may read a resource owned by `owner_id`."""
        return self.is_staff or (owner_id is not None and owner_id == self.user_id)

    def initiated(self, user_id: str | None, client_id: str | None) -> bool:
        """True when this caller is who created a record made by `user_id` through
        `client_id`: that user, or (for a record made without a user) that client
        calling without a user."""
        if user_id:
            return self.user_id == user_id
        return self.user_id is None and client_id is not None and self.client_id == client_id

    def can_see_request_metadata(self, user_id: str | None, client_id: str | None) -> bool:
        """Where a request came from (address, device) is shown to staff and to its
        initiator only: never to the other party of a transfer."""
        return self.is_staff or self.initiated(user_id, client_id)

    def require_staff(self, *, write: bool = False) -> None:
        allowed = WRITING_STAFF_ROLES if write else STAFF_ROLES
        if self.role not in allowed:
            raise errors.Forbidden(
                "This operation is reserved to bank staff", metadata={"role": self.role}
            )

    def require_admin(self) -> None:
        if self.role != ADMIN:
            raise errors.Forbidden(
                "This operation is reserved to administrators", metadata={"role": self.role}
            )

    def require_scope(self, scope: str) -> None:
        """For a rule inside an RPC open to more scopes (a customer never holds
        backoffice.admin, whatever a token says)."""
        held = self.scopes - {"backoffice.admin"} if self.is_customer else self.scopes
        if scope not in held:
            raise errors.Forbidden(
                f"This operation needs the {scope} scope", metadata={"missing_scope": scope}
            )

    def require_write(self) -> None:
        """Auditors read only."""
        if self.role == AUDITOR:
            raise errors.Forbidden("Auditors have read-only access", metadata={"role": self.role})


# Internal callers before authentication is configured: a trusted back-office
# service acting with administrator rights.
INTERNAL = Principal(client_id="internal", role=ADMIN)
