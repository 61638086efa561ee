"""Payees: what clients may send, who may see and remove which payee, what they see.

Plain rules, no I/O. The limits are the ones payee.proto and
payee_service.proto document; a change here is a change of the contract.

Decisions (written in the protos too):
- A payee belongs to one customer. Bank-wide billers (no owner; the sandbox's
  electric company and water utility) are listed to every customer next to
  their own payees, read by anyone with `banking.read`, and deleted by nobody
  through the API: the bank keeps its biller directory itself, and one
  customer's DELETE must not take a biller away from every other customer.
- Customers create, read and delete their own payees; another customer's
  payee is NOT_FOUND. Staff (and API clients acting for themselves, which
  act as staff) read every payee, and create and delete them for the owner
  they name (`ownerId`, required: VALIDATION_ERROR when missing). An
  AUDITOR reads only.
- The owner of a new payee is an ACTIVE customer.
- Two payees of one owner are the same payee when their names and their
  account numbers are equal ignoring case: ALREADY_EXISTS
  (reason CONFLICT, 409). A deleted payee does not count.
- Account numbers drop spaces and dashes (`ELEC-4402-1187` is
  `ELEC44021187`) before the check of server.domain.payments.
- Field errors name the JSON field (`accountNumber`); the edge gives REST
  clients the name they sent and gRPC clients the proto's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors, payments
from server.domain.masking import mask_account_number
from server.domain.principal import Principal
from server.domain.user_fields import Address, validate_address

NAME_LENGTH_MAX = 100
CATEGORY_LENGTH_MAX = 50
NICKNAME_LENGTH_MAX = 50
SEARCH_LENGTH_MAX = 100
PAYEES_PER_OWNER_MAX = 500
ID_LENGTH_MAX = 64
# Offset paging reads and skips every earlier row; deeper pages use page_token.
LIST_DEPTH_MAX = 10_000

TYPES = payments.PAYEE_TYPES
OWNER_ROLE = "CUSTOMER"
OWNER_STATUS = "ACTIVE"
# Characters dropped from an account number as written on a bill.
_NUMBER_SEPARATORS = str.maketrans("", "", " -")

FIELD_OWNER_ID = "ownerId"
FIELD_NAME = "name"
FIELD_TYPE = "type"
FIELD_ACCOUNT_NUMBER = payments.FIELD_ACCOUNT_NUMBER
FIELD_CATEGORY = "category"
FIELD_NICKNAME = "nickname"
FIELD_SEARCH = "search"
FIELD_PAYEE_ID = "payeeId"


# -- Value objects -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PayeeForm:
    """CreatePayee's input as sent (not validated)."""

    owner_id: str
    name: str
    type: str  # the enum word; "" when not set
    account_number: str
    category: str = ""
    nickname: str = ""
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class NewPayee:
    """A validated payee, before it is stored."""

    name: str
    type: str
    account_number: str
    category: str | None
    nickname: str | None
    address: Address | None


@dataclass(frozen=True, slots=True)
class PayeeRecord:
    """A stored payee as the rules see it (the full account number is not in here)."""

    id: str
    owner_id: str | None  # None: a bank-wide biller
    name: str
    type: str
    account_number_last4: str
    category: str | None
    nickname: str | None
    address: Address | None
    created_at: datetime

    @property
    def bank_wide(self) -> bool:
        return self.owner_id is None

    @property
    def masked_account_number(self) -> str:
        """`****1187`: all any response shows of the number."""
        return mask_account_number(self.account_number_last4)


@dataclass(frozen=True, slots=True)
class PayeeQuery:
    """Validated ListPayees filters. Always sorted by name (ignoring case), then id."""

    owner_id: str | None  # None: every owner (staff without a filter); "": nobody
    include_bank_wide: bool
    type: str | None
    category: str | None
    search: str | None

    def token_filters(self) -> dict[str, object]:
        """What a page token is bound to: a token only resumes the same query."""
        return {
            "owner_id": self.owner_id,
            "bank_wide": self.include_bank_wide,
            "type": self.type,
            "category": self.category,
            "search": self.search,
        }


# -- Field rules ---------------------------------------------------------------
def _text(value: str, field: str, length_max: int, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise errors.ValidationFailed(f"{field} is required", field=field)
    if len(text) > length_max:
        raise errors.ValidationFailed(
            f"{field} must be at most {length_max} characters",
            field=field,
            metadata={"length": str(len(text)), "length_max": str(length_max)},
        )
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise errors.ValidationFailed(f"{field} contains control characters", field=field)
    return text


def validate_name(value: str) -> str:
    return _text(value, FIELD_NAME, NAME_LENGTH_MAX, required=True)


def validate_type(word: str) -> str:
    """An enum word of PayeeType; unset (or unknown) is refused."""
    if word not in TYPES:
        raise errors.ValidationFailed(
            f"type is required: one of {', '.join(TYPES)}",
            field=FIELD_TYPE,
            metadata={"type": word[:40] or "PAYEE_TYPE_UNSPECIFIED"},
        )
    return word


def validate_account_number(value: str) -> str:
    """1 to 34 letters and digits once spaces and dashes are dropped."""
    return payments.validate_payee_account_number(value.translate(_NUMBER_SEPARATORS), "")


def validate_category(value: str) -> str | None:
    """Stored lower case; None when not given."""
    text = _text(value, FIELD_CATEGORY, CATEGORY_LENGTH_MAX, required=False).lower()
    return text or None


def validate_nickname(value: str) -> str | None:
    return _text(value, FIELD_NICKNAME, NICKNAME_LENGTH_MAX, required=False) or None


def validate_new_payee(form: PayeeForm) -> NewPayee:
    """Every field of a new payee, in the order the proto lists them."""
    return NewPayee(
        name=validate_name(form.name),
        type=validate_type(form.type),
        account_number=validate_account_number(form.account_number),
        address=validate_address(form.address) if form.address is not None else None,
        category=validate_category(form.category),
        nickname=validate_nickname(form.nickname),
    )


def name_key(name: str) -> str:
    """What two names are compared by: equal ignoring case."""
    return unicodedata.normalize("NFKC", name).casefold()


def same_name(existing: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Ids of the (id, name) pairs whose name equals `name` ignoring case."""
    key = name_key(name)
    return [payee_id for payee_id, other in existing if name_key(other) == key]


def same_account_number(stored: str, new: str) -> bool:
    """Account numbers compare ignoring case (`ac123` on a bill is `AC123`)."""
    return stored.upper() == new.upper()


def duplicate(payee_id: str) -> errors.AlreadyExists:
    return errors.AlreadyExists(
        "A payee with this name and account number already exists",
        field=FIELD_ACCOUNT_NUMBER,
        metadata={"payee_id": payee_id},
    )


def check_room(owner_id: str, payee_count: int) -> None:
    """At most PAYEES_PER_OWNER_MAX payees per owner (deleted ones do not count)."""
    if payee_count >= PAYEES_PER_OWNER_MAX:
        raise errors.BusinessRuleViolation(
            f"An owner may have at most {PAYEES_PER_OWNER_MAX} payees",
            metadata={"owner_id": owner_id, "max": str(PAYEES_PER_OWNER_MAX)},
        )


def check_page_depth(page: int, limit: int) -> None:
    if page * limit > LIST_DEPTH_MAX:
        raise errors.ValidationFailed(
            f"page times limit may not exceed {LIST_DEPTH_MAX:,}; use page_token",
            field="page",
            metadata={"depth_max": str(LIST_DEPTH_MAX)},
        )


# -- Who may do what -------------------------------------------------------------
def owner_for_create(principal: Principal, owner_id: str) -> str:
    """The owner of a new payee: customers add their own; writing staff name one."""
    principal.require_write()
    owner_id = owner_id.strip()
    if principal.is_customer:
        assert principal.user_id, "a customer principal carries its user id"
        if owner_id and owner_id != principal.user_id:
            raise errors.Forbidden(
                "Customers add payees for themselves only", metadata={"owner_id": owner_id[:80]}
            )
        return principal.user_id
    principal.require_staff(write=True)
    if not owner_id:
        raise errors.ValidationFailed(
            "ownerId is required: name the customer the payee belongs to", field=FIELD_OWNER_ID
        )
    if len(owner_id) > ID_LENGTH_MAX:
        raise owner_not_found(owner_id)
    return owner_id


def owner_not_found(owner_id: str) -> errors.NotFound:
    return errors.NotFound(
        "Owner not found", field=FIELD_OWNER_ID, metadata={"owner_id": owner_id[:80]}
    )


def check_owner(owner_id: str, role: str | None, status: str | None) -> None:
    """The owner exists (role None: no such user), is a customer, and is ACTIVE."""
    if role is None:
        raise owner_not_found(owner_id)
    if role != OWNER_ROLE:
        raise errors.ValidationFailed(
            "Payees belong to customers; ownerId names a staff user",
            field=FIELD_OWNER_ID,
            metadata={"owner_id": owner_id, "role": role},
        )
    if status != OWNER_STATUS:
        raise errors.BusinessRuleViolation(
            f"The owner is {status}; payees are added for ACTIVE customers only",
            field=FIELD_OWNER_ID,
            metadata={"owner_id": owner_id, "owner_status": str(status)},
        )


def payee_id_of(value: str) -> str:
    """The requested payee id; an empty one is refused (malformed ids are NOT_FOUND)."""
    payee_id = value.strip()
    if not payee_id:
        raise errors.ValidationFailed("payeeId is required", field=FIELD_PAYEE_ID)
    if len(payee_id) > ID_LENGTH_MAX:
        raise not_found(payee_id)
    return payee_id


def not_found(payee_id: str) -> errors.NotFound:
    return errors.NotFound("Payee not found", metadata={"payee_id": payee_id[:80]})


def check_can_read(principal: Principal, payee: PayeeRecord) -> None:
    """Bank-wide billers: everyone. Otherwise staff and the owner; others NOT_FOUND."""
    if payee.bank_wide:
        return
    if not principal.can_see(payee.owner_id):
        raise not_found(payee.id)


def check_can_delete(principal: Principal, payee: PayeeRecord) -> None:
    """The owner, or writing staff; bank-wide billers by nobody (module docstring)."""
    check_can_read(principal, payee)
    principal.require_write()
    if payee.bank_wide:
        raise errors.Forbidden(
            "Bank-wide billers are kept by the bank and cannot be deleted",
            metadata={"payee_id": payee.id},
        )
    if not principal.is_customer:
        principal.require_staff(write=True)


def list_query(
    principal: Principal, *, owner_id: str, type_word: str, category: str, search: str
) -> PayeeQuery:
    """Validated filters; `type_word` is the enum word or "" for any."""
    if type_word:
        validate_type(type_word)
    wanted_category = validate_category(category)
    text = _text(search, FIELD_SEARCH, SEARCH_LENGTH_MAX, required=False).lower()
    owner, bank_wide = _list_scope(principal, owner_id.strip()[: ID_LENGTH_MAX + 1])
    return PayeeQuery(
        owner_id=owner,
        include_bank_wide=bank_wide,
        type=type_word or None,
        category=wanted_category,
        search=text or None,
    )


def _list_scope(principal: Principal, owner_id: str) -> tuple[str | None, bool]:
    """(owner filter, whether bank-wide billers are listed too).

    An owner's list is what that owner may pay: their payees and the billers.
    Staff without a filter see every payee. A customer asking for another
    owner gets a filter that matches nothing: an empty page.
    """
    if principal.is_staff:
        return (owner_id, True) if owner_id else (None, True)
    own = principal.user_id or ""
    if not own or (owner_id and owner_id != own):
        return "", False
    return own, True
