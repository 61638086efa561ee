"""Users: what clients may send, who may see and change whom, and what they see.

Plain rules, no I/O. The limits are the ones protos/backoffice/v1/user.proto
and user_service.proto document; a change here is a change of the contract.

Decisions worth knowing (the proto comments leave them open):
- Field errors name the request field in snake_case (`date_of_birth`,
  `address.line1`), as the rest of the API does.
- Emails are ASCII only (no internationalised addresses yet): trimmed,
  lower-cased, one `@`, an RFC 5322 dot-atom local part and a DNS domain with
  a letter TLD.
- A malformed user id answers NOT_FOUND like an unknown one: ids are opaque.
- Permission checks look at what would really change, so a client that reads
  a user and writes the same values back (PUT) is never refused for fields
  it did not change.
- The last ACTIVE ADMIN can be neither deactivated, locked nor demoted:
  without one nobody could administer staff any more (BusinessRuleViolation,
  422 VALIDATION_ERROR / FAILED_PRECONDITION).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from server.domain import errors
from server.domain.masking import mask_tail
from server.domain.principal import ADMIN, CUSTOMER, ROLES, Principal

EMAIL_LENGTH_MAX = 254
EMAIL_LOCAL_LENGTH_MAX = 64
NAME_LENGTH_MAX = 200
PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 128
# A local part shorter than this ("jo") appears inside too many good passwords
# to be refused on sight.
PASSWORD_LOCAL_PART_LENGTH_MIN = 3
PASSWORD_DISTINCT_CHARACTERS_MIN = 4
SEARCH_LENGTH_MAX = 100
FIELDS_LENGTH_MAX = 500
REASON_LENGTH_MAX = 500
RESET_TOKEN_LENGTH_MAX = 200
RESET_TOKEN_LIFETIME = timedelta(minutes=30)
USER_ID_LENGTH_MAX = 64
AGE_YEARS_MAX = 130
# Offset paging reads and skips every earlier row; deeper pages use page_token.
PAGE_DEPTH_MAX = 10_000
ADDRESS_LINE_LENGTH_MAX = 100
ADDRESS_CITY_LENGTH_MAX = 100
ADDRESS_STATE_LENGTH_MAX = 50
ADDRESS_POSTAL_CODE_LENGTH_MAX = 20

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
LOCKED = "LOCKED"
STATUSES = (ACTIVE, INACTIVE, LOCKED)

ME = "me"
USER_ID_PREFIX = "usr_"

# The User resource's fields, in proto order (partial responses name these).
USER_FIELDS = (
    "id",
    "email",
    "name",
    "phone",
    "date_of_birth",
    "tax_id",
    "address",
    "role",
    "status",
    "created_at",
    "updated_at",
    "last_login_at",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# Both spellings, compared case-insensitively: `date_of_birth`, `dateOfBirth`.
_FIELD_NAMES = {spelling.lower(): name for name in USER_FIELDS for spelling in (name, _camel(name))}

# Sort names a client may give (snake_case or lowerCamelCase, lower-cased by
# the caller) -> the canonical sort field.
SORT_FIELDS = {
    "created_at": "created_at",
    "createdat": "created_at",
    "name": "name",
    "email": "email",
    "last_login_at": "last_login_at",
    "lastloginat": "last_login_at",
}
DATETIME_SORTS = frozenset({"created_at", "last_login_at"})

_EMAIL_LOCAL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL_TLD_RE = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# E.164: a plus, a country code that does not start with 0, 7 to 15 digits in all.
_PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TAX_ID_RE = re.compile(r"^[0-9]{9}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

# A short stand-in for a breached-password list: the most common passwords
# that are long enough to pass the length rule. Compared lower-cased.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "password1234!",
        "password2024",
        "password2025",
        "passwordpassword",
        "passw0rd1234",
        "p@ssw0rd1234",
        "p@ssword1234",
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789000",
        "123123123123",
        "987654321098",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopas",
        "qwerty123456",
        "qwerty1234567",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl123",
        "abc123456789",
        "abcd12345678",
        "abcdefghijkl",
        "iloveyou1234",
        "iloveyouiloveyou",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "admin1234567",
        "administrator",
        "changeme1234",
        "football1234",
        "baseball1234",
        "monkey123456",
        "sunshine1234",
        "princess1234",
        "dragon123456",
        "trustno1trustno1",
    }
)


# -- Value objects -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    country: str
    line2: str = ""
    state: str = ""
    postal_code: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Address:
        return cls(
            line1=str(data.get("line1", "")),
            line2=str(data.get("line2", "")),
            city=str(data.get("city", "")),
            state=str(data.get("state", "")),
            postal_code=str(data.get("postal_code", "")),
            country=str(data.get("country", "")),
        )


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


@dataclass(frozen=True, slots=True)
class UserQuery:
    """A validated ListUsers filter and sort."""

    search: str = ""
    role: str | None = None
    status: str | None = None
    sort: str = "created_at"
    order: str = "desc"

    def filters(self) -> dict[str, Any]:
        """What a page token is bound to."""
        return {
            "search": self.search,
            "role": self.role,
            "status": self.status,
            "sort": self.sort,
            "order": self.order,
        }


# -- Validation ----------------------------------------------------------------
def normalize_email(value: str, field: str = "email") -> str:
    """The stored form of an email (trimmed, lower-cased), or ValidationFailed."""
    text = value.strip().lower()
    if not text:
        raise errors.ValidationFailed("Email is required", field=field)
    if len(text) > EMAIL_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"Email must be at most {EMAIL_LENGTH_MAX} characters",
            field=field,
            metadata={"length_max": str(EMAIL_LENGTH_MAX)},
        )
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    valid = (
        text.isascii()
        and bool(at)
        and 0 < len(local) <= EMAIL_LOCAL_LENGTH_MAX
        and _EMAIL_LOCAL_RE.match(local) is not None
        and len(labels) >= 2
        and all(_EMAIL_LABEL_RE.match(label) for label in labels)
        and _EMAIL_TLD_RE.match(labels[-1]) is not None
    )
    if not valid:
        raise errors.ValidationFailed("Email is not a valid email address", field=field)
    return text


def _no_control_characters(text: str) -> bool:
    return not any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def validate_name(value: str) -> str:
    text = value.strip()
    if not text:
        raise errors.ValidationFailed("Name is required", field="name")
    if len(text) > NAME_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"Name must be at most {NAME_LENGTH_MAX} characters",
            field="name",
            metadata={"length_max": str(NAME_LENGTH_MAX)},
        )
    if not _no_control_characters(text):
        raise errors.ValidationFailed("Name contains control characters", field="name")
    return text


def validate_password(password: str, email: str, field: str = "password") -> None:
    """Refuses a weak password. The password never appears in the error."""
    if not password:
        raise errors.ValidationFailed("Password is required", field=field)
    if len(password) < PASSWORD_LENGTH_MIN:
        raise errors.ValidationFailed(
            f"Password must be at least {PASSWORD_LENGTH_MIN} characters",
            field=field,
            metadata={"length_min": str(PASSWORD_LENGTH_MIN)},
        )
    if len(password) > PASSWORD_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"Password must be at most {PASSWORD_LENGTH_MAX} characters",
            field=field,
            metadata={"length_max": str(PASSWORD_LENGTH_MAX)},
        )
    folded = password.lower()
    local = email.partition("@")[0].lower()
    if len(local) >= PASSWORD_LOCAL_PART_LENGTH_MIN and local in folded:
        raise errors.ValidationFailed("Password must not contain the email address", field=field)
    if folded in COMMON_PASSWORDS or len(set(folded)) < PASSWORD_DISTINCT_CHARACTERS_MIN:
        raise errors.ValidationFailed("Password is too common or too simple", field=field)


def normalize_phone(value: str) -> str | None:
    """E.164 phone number; empty means none."""
    text = value.strip()
    if not text:
        return None
    if not _PHONE_RE.match(text):
        raise errors.ValidationFailed(
            "Phone must be in E.164 form, e.g. +14155550123", field="phone"
        )
    return text


def parse_date_of_birth(value: str, today: date) -> str | None:
    """`YYYY-MM-DD`, before `today`, age at most 130; empty means none."""
    text = value.strip()
    if not text:
        return None
    try:
        if not _DATE_RE.match(text):
            raise ValueError(text)
        born = date.fromisoformat(text)
    except ValueError:
        raise errors.ValidationFailed(
            "Date of birth must be a date YYYY-MM-DD",
            field="date_of_birth",
            metadata={"value": text[:40]},
        ) from None
    if born >= today:
        raise errors.ValidationFailed("Date of birth must be in the past", field="date_of_birth")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > AGE_YEARS_MAX:
        raise errors.ValidationFailed(
            f"Date of birth gives an age above {AGE_YEARS_MAX} years",
            field="date_of_birth",
            metadata={"age_years_max": str(AGE_YEARS_MAX)},
        )
    return text


def normalize_tax_id(value: str) -> str | None:
    """Nine digits, dashes dropped; empty means none."""
    text = value.strip()
    if not text:
        return None
    digits = text.replace("-", "")
    if not _TAX_ID_RE.match(digits):
        raise errors.ValidationFailed("Tax id must be 9 digits (dashes allowed)", field="tax_id")
    return digits


def mask_tax_id(last4: str | None) -> str:
    """`6789` -> `***-**-6789` (every response shows only this)."""
    return f"***-**-{last4}" if last4 else ""


def _bounded(value: str, field: str, length_max: int, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise errors.ValidationFailed(f"{field} is required", field=field)
    if len(text) > length_max:
        raise errors.ValidationFailed(
            f"{field} must be at most {length_max} characters",
            field=field,
            metadata={"length_max": str(length_max)},
        )
    if not _no_control_characters(text):
        raise errors.ValidationFailed(f"{field} contains control characters", field=field)
    return text


def validate_address(address: Address) -> Address:
    line1 = _bounded(address.line1, "address.line1", ADDRESS_LINE_LENGTH_MAX, required=True)
    line2 = _bounded(address.line2, "address.line2", ADDRESS_LINE_LENGTH_MAX, required=False)
    city = _bounded(address.city, "address.city", ADDRESS_CITY_LENGTH_MAX, required=True)
    state = _bounded(address.state, "address.state", ADDRESS_STATE_LENGTH_MAX, required=False)
    postal_code = _bounded(
        address.postal_code,
        "address.postal_code",
        ADDRESS_POSTAL_CODE_LENGTH_MAX,
        required=False,
    )
    # Lower case is accepted and stored upper-cased, as the proto prints it.
    country = address.country.strip().upper()
    if not _COUNTRY_RE.match(country):
        raise errors.ValidationFailed(
            "address.country must be an ISO 3166-1 alpha-2 code such as US",
            field="address.country",
        )
    return Address(
        line1=line1, line2=line2, city=city, state=state, postal_code=postal_code, country=country
    )


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
    return _bounded(value, "reason", REASON_LENGTH_MAX, required=False)


def validate_search(value: str) -> str:
    text = value.strip()
    if len(text) > SEARCH_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"search must be at most {SEARCH_LENGTH_MAX} characters",
            field="search",
            metadata={"length_max": str(SEARCH_LENGTH_MAX)},
        )
    return text.lower()


def list_query(search: str, role: str, status: str, sort: str, order: str) -> UserQuery:
    """ListUsers' filters; empty role or status means any."""
    if status and status not in STATUSES:
        raise errors.ValidationFailed("status is not a user status", field="status")
    return UserQuery(
        search=validate_search(search),
        role=validate_role(role) if role else None,
        status=status or None,
        sort=sort,
        order=order,
    )


def check_page_depth(page: int, limit: int, keyset: bool) -> None:
    if not keyset and page * limit > PAGE_DEPTH_MAX:
        raise errors.ValidationFailed(
            f"page times limit may not exceed {PAGE_DEPTH_MAX}; use page_token",
            field="page",
            metadata={"depth_max": str(PAGE_DEPTH_MAX)},
        )


def keyset_after(sort: str, after: list[Any] | None) -> tuple[str | None, str] | None:
    """The (sort value, id) a page token resumes after, checked for shape.

    The token is client-held, so its values must be plausible before they
    reach SQL: a string for a timestamp column that is not a timestamp would
    make PostgreSQL fail.
    """
    if after is None:
        return None
    invalid = errors.ValidationFailed("page_token is not valid", field="page_token")
    if len(after) != 2 or not isinstance(after[1], str):
        raise invalid
    value, last_id = after
    if not isinstance(value, str):
        raise invalid
    if sort in DATETIME_SORTS:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise invalid from None
    return value, last_id


def parse_fields(text: str) -> frozenset[str] | None:
    """Partial response: the fields to keep (always `id`); None keeps all."""
    if not text.strip():
        return None
    if len(text) > FIELDS_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"fields must be at most {FIELDS_LENGTH_MAX} characters", field="fields"
        )
    selected = {"id"}
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        canonical = _FIELD_NAMES.get(name.lower())
        if canonical is None:
            raise errors.ValidationFailed(
                f"Unknown field {name[:50]!r} in fields",
                field="fields",
                metadata={"value": name[:50], "allowed": ",".join(USER_FIELDS)},
            )
        selected.add(canonical)
    return frozenset(selected)


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
