"""Users: what clients may send, who may see and change whom, and what they see.

Plain rules, no I/O. The limits are the ones protos/backoffice/v1/user.proto
and user_service.proto document; a change here is a change of the contract.

Decisions worth knowing (the proto comments leave them open):
- Field errors name the request field in snake_case (`date_of_birth`,
  `address.line1`), as the rest of the API does.
- Each field's own rules (email, password, phone, ...) are in
  user_fields.py; listing (filters, sorts, page tokens, `fields`) in
  user_queries.py.
- A malformed user id answers NOT_FOUND like an unknown one: ids are opaque.
- Permission checks look at what would really change, so a client that reads
  a user and writes the same values back (PUT) is never refused for fields
  it did not change.
- The last ACTIVE ADMIN can be neither deactivated, locked nor demoted:
  without one nobody could administer staff any more (BusinessRuleViolation,
  422 VALIDATION_ERROR / FAILED_PRECONDITION).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from server.domain import errors
from server.domain.masking import mask_tail
from server.domain.principal import ADMIN, CUSTOMER, ROLES, Principal
from server.domain.user_fields import (
    Address,
    bounded,
    mask_tax_id,
    normalize_email,
    normalize_phone,
    normalize_tax_id,
    parse_date_of_birth,
    validate_address,
    validate_name,
    validate_password,
)

REASON_LENGTH_MAX = 500
RESET_TOKEN_LENGTH_MAX = 200
RESET_TOKEN_LIFETIME = timedelta(minutes=30)
USER_ID_LENGTH_MAX = 64

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
LOCKED = "LOCKED"
STATUSES = (ACTIVE, INACTIVE, LOCKED)

ME = "me"
USER_ID_PREFIX = "usr_"


# -- Value objects -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored user as the rules see it (the full tax id is not in here)."""

    id: str
    email: str
    name: str
    role: str
    status: str
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    date_of_birth: str | None = None
    tax_id_last4: str | None = None
    address: Address | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as one caller may see it: masked, ready to encode."""

    id: str
    email: str
    name: str
    phone: str
    date_of_birth: str
    tax_id: str
    address: Address | None
    role: str
    status: str
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewUserForm:
    """CreateUser's input as sent; empty strings mean 'not given'."""

    email: str
    name: str
    password: str
    phone: str = ""
    date_of_birth: str = ""
    tax_id: str = ""
    address: Address | None = None
    role: str = ""


@dataclass(frozen=True, slots=True)
class NewUser:
    """A validated CreateUser: normalised values, no password."""

    email: str
    name: str
    role: str
    phone: str | None
    date_of_birth: str | None
    tax_id: str | None
    address: Address | None


@dataclass(frozen=True, slots=True)
class UserChangeForm:
    """UpdateUser's input as sent; None means the field was absent."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None
    date_of_birth: str | None = None
    tax_id: str | None = None
    address: Address | None = None
    role: str | None = None
    status: str | None = None


# -- Validation ----------------------------------------------------------------
def validate_role(value: str, *, default: str | None = None) -> str:
    """A role name; empty gives `default` (or is refused when there is none)."""
    if not value and default is not None:
        return default
    if value not in ROLES:
        raise errors.ValidationFailed(
            f"role must be one of {', '.join(ROLES)}", field="role", metadata={"value": value}
        )
    return value


def validate_status_change(value: str) -> str:
    """UpdateUser may set ACTIVE or LOCKED; INACTIVE is DeleteUser's job."""
    if value == INACTIVE:
        raise errors.ValidationFailed(
            "Deactivate a user with DeleteUser, not by setting INACTIVE", field="status"
        )
    if value not in (ACTIVE, LOCKED):
        raise errors.ValidationFailed(
            "status must be ACTIVE or LOCKED", field="status", metadata={"value": value}
        )
    return value


def validate_new_user(form: NewUserForm, today: date) -> NewUser:
    """Every CreateUser rule but permissions and uniqueness."""
    email = normalize_email(form.email)
    name = validate_name(form.name)
    validate_password(form.password, email)
    return NewUser(
        email=email,
        name=name,
        role=validate_role(form.role, default=CUSTOMER),
        phone=normalize_phone(form.phone),
        date_of_birth=parse_date_of_birth(form.date_of_birth, today),
        tax_id=normalize_tax_id(form.tax_id),
        address=validate_address(form.address) if form.address is not None else None,
    )


def validate_changes(form: UserChangeForm, today: date) -> dict[str, Any]:
    """The requested changes, normalised: field -> new value (None clears)."""
    changes: dict[str, Any] = {}
    if form.email is not None:
        changes["email"] = normalize_email(form.email)
    if form.name is not None:
        # Email and name cannot be cleared: an empty name is refused here.
        changes["name"] = validate_name(form.name)
    if form.phone is not None:
        changes["phone"] = normalize_phone(form.phone)
    if form.date_of_birth is not None:
        changes["date_of_birth"] = parse_date_of_birth(form.date_of_birth, today)
    if form.tax_id is not None:
        changes["tax_id"] = normalize_tax_id(form.tax_id)
    if form.address is not None:
        changes["address"] = validate_address(form.address)
    if form.role is not None:
        changes["role"] = validate_role(form.role)
    if form.status is not None:
        changes["status"] = validate_status_change(form.status)
    return changes


def diff(
    record: UserRecord, requested: Mapping[str, Any], current_tax_id: str | None
) -> dict[str, Any]:
    """The requested changes that really change something."""
    current: dict[str, Any] = {
        "email": record.email,
        "name": record.name,
        "phone": record.phone,
        "date_of_birth": record.date_of_birth,
        "tax_id": current_tax_id,
        "address": record.address,
        "role": record.role,
        "status": record.status,
    }
    return {name: value for name, value in requested.items() if current[name] != value}


def validate_reason(value: str) -> str:
    return bounded(value, "reason", REASON_LENGTH_MAX, required=False)


def check_reset_token(token: str) -> str:
    if not token or len(token) > RESET_TOKEN_LENGTH_MAX:
        raise invalid_reset_token()
    return token


def invalid_reset_token() -> errors.ValidationFailed:
    """One answer for unknown, used, expired and inactive users' tokens."""
    return errors.ValidationFailed("The reset token is invalid or has expired", field="token")


def reset_token_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    return used_at is None and now < expires_at


# -- Who may see and do what ---------------------------------------------------
def resolve_user_id(principal: Principal, raw: str) -> str:
    """The id a request names (`me` is the caller), if the caller may see it.

    Unknown, malformed and other customers' ids all answer NOT_FOUND, so that
    ids cannot be probed.
    """
    user_id = principal.user_id if raw.strip() == ME else raw.strip()
    if (
        not user_id
        or len(user_id) > USER_ID_LENGTH_MAX
        or not user_id.startswith(USER_ID_PREFIX)
        or not principal.can_see(user_id)
    ):
        raise user_not_found(raw)
    return user_id


def user_not_found(raw: str) -> errors.NotFound:
    return errors.NotFound("User not found", metadata={"user_id": raw[:USER_ID_LENGTH_MAX]})


def sees_personal_data(principal: Principal, user_id: str) -> bool:
    """Phone and date of birth in full: the user, staff, admin-scoped clients."""
    if principal.user_id is not None:
        return principal.user_id == user_id or principal.is_staff
    return "backoffice.admin" in principal.scopes


def present(record: UserRecord, principal: Principal) -> UserView:
    """The user as `principal` may see it (user.proto says who sees what)."""
    full = sees_personal_data(principal, record.id)
    phone = record.phone or ""
    return UserView(
        id=record.id,
        email=record.email,
        name=record.name,
        phone=phone if full else mask_tail(phone),
        date_of_birth=(record.date_of_birth or "") if full else "",
        # Write-only in full: everyone, the user included, sees the last four.
        tax_id=mask_tax_id(record.tax_id_last4),
        address=record.address,
        role=record.role,
        status=record.status,
        created_at=record.created_at,
        updated_at=record.updated_at,
        last_login_at=record.last_login_at,
    )


def check_create(principal: Principal, role: str) -> None:
    """Staff who write create customers; only an ADMIN creates staff."""
    principal.require_staff(write=True)
    if role != CUSTOMER:
        principal.require_admin()


def _require_may_change_staff(principal: Principal, target: UserRecord) -> None:
    # A teller who could edit an administrator's email could take the account
    # over with a password reset: staff users are an ADMIN's business.
    if target.role != CUSTOMER and target.id != principal.user_id:
        principal.require_admin()


def check_update(principal: Principal, target: UserRecord, changed: Mapping[str, Any]) -> None:
    """Raises Forbidden when `principal` may not make `changed` to `target`."""
    if not changed:
        return
    principal.require_write()
    if principal.is_customer:
        staff_only = sorted(set(changed) & {"date_of_birth", "tax_id", "role", "status"})
        if staff_only:
            raise errors.Forbidden(
                f"Only bank staff may change {', '.join(staff_only)}",
                field=staff_only[0],
                metadata={"fields": ",".join(staff_only)},
            )
        return
    principal.require_staff(write=True)
    _require_may_change_staff(principal, target)
    if "role" in changed or "status" in changed:
        principal.require_admin()
        if target.id == principal.user_id:
            raise errors.Forbidden(
                "Administrators cannot change their own role or status",
                field="role" if "role" in changed else "status",
            )


def check_deactivate(principal: Principal, target: UserRecord) -> None:
    principal.require_staff(write=True)
    if target.id == principal.user_id:
        raise errors.Forbidden("Nobody can deactivate themselves")
    _require_may_change_staff(principal, target)


def removes_active_admin(target: UserRecord, role: str, status: str) -> bool:
    """True when `target` is an ACTIVE ADMIN and would stop being one."""
    was = target.role == ADMIN and target.status == ACTIVE
    return was and not (role == ADMIN and status == ACTIVE)


def require_another_admin(other_active_admins: int) -> None:
    if other_active_admins < 1:
        raise errors.BusinessRuleViolation(
            "The last active administrator cannot be deactivated, locked or demoted",
            metadata={"rule": "last_active_admin"},
        )
