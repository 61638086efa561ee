"""User rules without a database: validation, masking, who may do what."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from server.domain import errors
from server.domain import user_fields as fields
from server.domain import user_queries as queries
from server.domain import users as rules
from server.domain.principal import (
    ADMIN,
    AUDITOR,
    CUSTOMER,
    OPERATIONS,
    TELLER,
    Principal,
)

TODAY = date(2025, 6, 15)
NOW = datetime(2025, 6, 15, 12, 0, 0)

ALICE = Principal(client_id="app", role=CUSTOMER, user_id="usr_alice")
BOB_ID = "usr_bob"
TELLER_TOM = Principal(client_id="app", role=TELLER, user_id="usr_tom")
OPS_OLGA = Principal(client_id="app", role=OPERATIONS, user_id="usr_olga")
AUDITOR_AL = Principal(client_id="app", role=AUDITOR, user_id="usr_al")
ADMIN_ADA = Principal(client_id="app", role=ADMIN, user_id="usr_ada")
READ_CLIENT = Principal(client_id="partner", role=TELLER, scopes=frozenset({"banking.read"}))
ADMIN_CLIENT = Principal(client_id="ops-tool", role=ADMIN)


def record(**overrides: Any) -> rules.UserRecord:
    values: dict[str, Any] = {
        "id": "usr_alice",
        "email": "alice@example.com",
        "name": "Alice Anderson",
        "role": CUSTOMER,
        "status": rules.ACTIVE,
        "created_at": NOW,
        "updated_at": NOW,
        "phone": "+14155550123",
        "date_of_birth": "1990-05-17",
        "tax_id_last4": "6789",
        "address": None,
    }
    values.update(overrides)
    return rules.UserRecord(**values)


def field_of(exc: pytest.ExceptionInfo[errors.BankError]) -> str | None:
    return exc.value.field


# -- Email, name, password -----------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Alice@Example.COM ", "alice@example.com"),
        ("first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk"),
        ("o'neil@example.com", "o'neil@example.com"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, stored: str) -> None:
    assert fields.normalize_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plain",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "al ice@example.com",
        "alice@example",
        "alice@-example.com",
        "alice@example..com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@example.c0m",
        "élise@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        fields.normalize_email(raw)
    assert field_of(caught) == "email"


def test_email_errors_name_the_field_they_are_given() -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        fields.normalize_email("nope", field="new_email")
    assert field_of(caught) == "new_email"


def test_names() -> None:
    assert fields.validate_name("  Grace Hopper ") == "Grace Hopper"
    assert fields.validate_name("n" * 200) == "n" * 200
    for bad in ("", "   ", "n" * 201, "Bad\x00Name", "Zero\u200bWidth"):
        with pytest.raises(errors.ValidationFailed) as caught:
            fields.validate_name(bad)
        assert field_of(caught) == "name"


@pytest.mark.parametrize(
    "password",
    ["Vault-Lamp-Orb", "x" * 3 + "Vault-Lamp-Orbit-93" * 6 + "y" * 10, "correct horse battery"],
)
def test_good_passwords(password: str) -> None:
    assert len(password) <= fields.PASSWORD_LENGTH_MAX
    fields.validate_password(password, "alice@example.com")


@pytest.mark.parametrize(
    "password",
    [
        "",
        "Short-pw-1!",  # 11 characters
        "Ab1!" * 32 + "x",  # 129 characters
        "PASSWORD1234",  # on the common list, any case
        "Qwerty123456",
        "aaaaaaaaaaaaaaaa",
        "abababababababab",
        "xxALICExx-secret",  # the email's local part
    ],
)
def test_weak_passwords(password: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        fields.validate_password(password, "alice@example.com")
    assert field_of(caught) == "password"
    if password:
        assert password not in caught.value.message
        assert password not in str(caught.value.metadata)


def test_password_length_boundaries() -> None:
    fields.validate_password("Vault-Lamp-O", "z@example.com")  # exactly 12
    fields.validate_password("Vq3!" * 32, "z@example.com")  # exactly 128
    # A very short local part is not searched for (it is everywhere).
    fields.validate_password("Jo-Vault-Lamp-Orbit", "jo@example.com")
    with pytest.raises(errors.ValidationFailed) as caught:
        fields.validate_password("short", "z@example.com", field="new_password")
    assert field_of(caught) == "new_password"
    assert caught.value.metadata["length_min"] == "12"


# -- Phone, date of birth, tax id, address ---------------------------------------------
def test_phones() -> None:
    assert fields.normalize_phone(" +14155550123 ") == "+14155550123"
    assert fields.normalize_phone("+6831234") == "+6831234"  # 7 digits: the shortest
    assert fields.normalize_phone("") is None
    for bad in ("14155550123", "+0123456789", "+1 415 555 0123", "+1-415-555-0123", "+123456"):
        with pytest.raises(errors.ValidationFailed) as caught:
            fields.normalize_phone(bad)
        assert field_of(caught) == "phone"


def test_dates_of_birth() -> None:
    assert fields.parse_date_of_birth("2025-06-14", TODAY) == "2025-06-14"  # age 0
    assert fields.parse_date_of_birth("1895-06-15", TODAY) == "1895-06-15"  # 130 today
    assert fields.parse_date_of_birth("1894-06-16", TODAY) == "1894-06-16"  # 131 tomorrow
    assert fields.parse_date_of_birth("2000-02-29", TODAY) == "2000-02-29"
    assert fields.parse_date_of_birth(" ", TODAY) is None
    for bad in (
        "2025-06-15",  # today is not in the past
        "2030-01-01",
        "1894-06-15",  # 131 today
        "2001-02-29",
        "1990-1-5",
        "1990/01/05",
        "19900105",
        "1990-01-05T00:00:00Z",
    ):
        with pytest.raises(errors.ValidationFailed) as caught:
            fields.parse_date_of_birth(bad, TODAY)
        assert field_of(caught) == "date_of_birth", bad


def test_tax_ids() -> None:
    assert fields.normalize_tax_id("123-45-6789") == "123456789"
    assert fields.normalize_tax_id("12-3456789") == "123456789"  # EIN layout
    assert fields.normalize_tax_id("") is None
    for bad in ("12345678", "1234567890", "12345678x", "123 45 6789", "***-**-6789"):
        with pytest.raises(errors.ValidationFailed) as caught:
            fields.normalize_tax_id(bad)
        assert field_of(caught) == "tax_id"
    assert fields.mask_tax_id("6789") == "***-**-6789"
    assert fields.mask_tax_id(None) == ""


def test_addresses() -> None:
    valid = fields.validate_address(
        fields.Address(line1=" 1 Main St ", city="Springfield", country="us", state="IL")
    )
    assert valid == fields.Address(line1="1 Main St", city="Springfield", country="US", state="IL")
    cases = [
        (fields.Address(line1="", city="X", country="US"), "address.line1"),
        (fields.Address(line1="1", city=" ", country="US"), "address.city"),
        (fields.Address(line1="1", city="X", country="USA"), "address.country"),
        (fields.Address(line1="1", city="X", country=""), "address.country"),
        (fields.Address(line1="1", city="X", country="U1"), "address.country"),
        (fields.Address(line1="l" * 101, city="X", country="US"), "address.line1"),
        (fields.Address(line1="1", line2="l" * 101, city="X", country="US"), "address.line2"),
        (fields.Address(line1="1", city="X", country="US", state="s" * 51), "address.state"),
        (
            fields.Address(line1="1", city="X", country="US", postal_code="9" * 21),
            "address.postal_code",
        ),
    ]
    for address, field in cases:
        with pytest.raises(errors.ValidationFailed) as caught:
            fields.validate_address(address)
        assert field_of(caught) == field


def test_new_user_defaults_to_customer() -> None:
    draft = rules.validate_new_user(
        rules.NewUserForm(email=" A@B.io ", name=" Ann ", password="Vault-Lamp-Orbit-93"), TODAY
    )
    assert draft == rules.NewUser(
        email="a@b.io",
        name="Ann",
        role=CUSTOMER,
        phone=None,
        date_of_birth=None,
        tax_id=None,
        address=None,
    )


def test_roles_and_statuses() -> None:
    assert rules.validate_role("", default=CUSTOMER) == CUSTOMER
    assert rules.validate_role(AUDITOR) == AUDITOR
    for bad in ("", "KING", "customer"):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.validate_role(bad)
        assert field_of(caught) == "role"
    assert rules.validate_status_change(rules.LOCKED) == rules.LOCKED
    for bad in (rules.INACTIVE, "", "GONE"):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.validate_status_change(bad)
        assert field_of(caught) == "status"


# -- Updates: absent, present, changed --------------------------------------------------
def test_absent_fields_are_not_changes_and_empty_strings_clear() -> None:
    assert rules.validate_changes(rules.UserChangeForm(), TODAY) == {}
    changes = rules.validate_changes(
        rules.UserChangeForm(phone="", date_of_birth="", tax_id="", name=" New "), TODAY
    )
    assert changes == {"phone": None, "date_of_birth": None, "tax_id": None, "name": "New"}
    for form, field in (
        (rules.UserChangeForm(name=""), "name"),
        (rules.UserChangeForm(email=""), "email"),
        (rules.UserChangeForm(status=rules.INACTIVE), "status"),
        (rules.UserChangeForm(role="NOBODY"), "role"),
    ):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.validate_changes(form, TODAY)
        assert field_of(caught) == field


def test_diff_keeps_only_real_changes() -> None:
    target = record()
    requested = {
        "email": "alice@example.com",
        "name": "Alice Anderson",
        "phone": None,
        "tax_id": "123456789",
        "role": CUSTOMER,
        "status": rules.ACTIVE,
    }
    assert rules.diff(target, requested, current_tax_id="123456789") == {"phone": None}
    assert rules.diff(target, {"tax_id": "123456789"}, current_tax_id="999999999") == {
        "tax_id": "123456789"
    }


# -- Lists: fields, paging, keyset ---------------------------------------------------------
def test_partial_response_fields() -> None:
    assert queries.parse_fields("") is None
    assert queries.parse_fields("  ") is None
    assert queries.parse_fields("name,email") == {"id", "name", "email"}
    assert queries.parse_fields(" dateOfBirth , TAX_ID,,lastLoginAt,created_at ") == {
        "id",
        "date_of_birth",
        "tax_id",
        "last_login_at",
        "created_at",
    }
    assert queries.parse_fields("id") == {"id"}
    for bad in ("name,password", "address.city", "balance", "x" * 501):
        with pytest.raises(errors.ValidationFailed) as caught:
            queries.parse_fields(bad)
        assert field_of(caught) == "fields"


def test_list_query_and_page_depth() -> None:
    query = queries.list_query(" John.DOE ", "TELLER", "LOCKED", "name", "asc")
    assert query == queries.UserQuery("john.doe", TELLER, rules.LOCKED, "name", "asc")
    assert queries.list_query("", "", "", "created_at", "desc").role is None
    with pytest.raises(errors.ValidationFailed) as caught:
        queries.list_query("s" * 101, "", "", "created_at", "desc")
    assert field_of(caught) == "search"
    queries.check_page_depth(100, 100, keyset=False)
    queries.check_page_depth(5000, 100, keyset=True)
    with pytest.raises(errors.ValidationFailed) as caught:
        queries.check_page_depth(101, 100, keyset=False)
    assert field_of(caught) == "page"


def test_keyset_positions_are_checked() -> None:
    assert queries.keyset_after("created_at", None) is None
    assert queries.keyset_after("created_at", ["2025-01-01 10:00:00.5", "usr_a"]) == (
        "2025-01-01 10:00:00.5",
        "usr_a",
    )
    assert queries.keyset_after("name", ["alice", "usr_a"]) == ("alice", "usr_a")
    for sort, after in (
        ("created_at", ["yesterday", "usr_a"]),
        ("last_login_at", ["", "usr_a"]),
        ("name", [None, "usr_a"]),
        ("name", ["alice", 7]),
        ("name", ["alice"]),
        ("email", [1, 2, 3]),
    ):
        with pytest.raises(errors.ValidationFailed) as caught:
            queries.keyset_after(sort, after)
        assert field_of(caught) == "page_token"


# -- Who sees what ---------------------------------------------------------------------------
def test_resolve_user_id() -> None:
    assert rules.resolve_user_id(ALICE, "me") == "usr_alice"
    assert rules.resolve_user_id(ALICE, "usr_alice") == "usr_alice"
    assert rules.resolve_user_id(TELLER_TOM, BOB_ID) == BOB_ID
    assert rules.resolve_user_id(AUDITOR_AL, BOB_ID) == BOB_ID
    assert rules.resolve_user_id(ADMIN_CLIENT, BOB_ID) == BOB_ID
    for principal, raw in (
        (ALICE, BOB_ID),  # another customer: NOT_FOUND, never FORBIDDEN
        (ADMIN_CLIENT, "me"),  # an API client is no user
        (TELLER_TOM, "acc_123"),
        (TELLER_TOM, ""),
        (TELLER_TOM, "usr_" + "x" * 80),
    ):
        with pytest.raises(errors.NotFound):
            rules.resolve_user_id(principal, raw)


def test_masking_per_viewer() -> None:
    target = record()
    own = rules.present(target, ALICE)
    assert (own.phone, own.date_of_birth, own.tax_id) == (
        "+14155550123",
        "1990-05-17",
        "***-**-6789",
    )
    for staff in (TELLER_TOM, AUDITOR_AL, ADMIN_ADA, ADMIN_CLIENT):
        view = rules.present(target, staff)
        assert (view.phone, view.date_of_birth) == ("+14155550123", "1990-05-17")
        assert view.tax_id == "***-**-6789"
    # A client holding only banking.read never reads a full phone number.
    masked = rules.present(target, READ_CLIENT)
    assert (masked.phone, masked.date_of_birth, masked.tax_id) == (
        "+*******0123",
        "",
        "***-**-6789",
    )
    bare = rules.present(record(phone=None, date_of_birth=None, tax_id_last4=None), READ_CLIENT)
    assert (bare.phone, bare.date_of_birth, bare.tax_id) == ("", "", "")


# -- Who may do what ---------------------------------------------------------------------------
def test_who_may_create() -> None:
    rules.check_create(TELLER_TOM, CUSTOMER)
    rules.check_create(OPS_OLGA, CUSTOMER)
    rules.check_create(ADMIN_ADA, ADMIN)
    rules.check_create(ADMIN_CLIENT, AUDITOR)
    for principal, role in (
        (ALICE, CUSTOMER),
        (AUDITOR_AL, CUSTOMER),
        (TELLER_TOM, TELLER),
        (OPS_OLGA, ADMIN),
    ):
        with pytest.raises(errors.Forbidden):
            rules.check_create(principal, role)


def test_customers_change_only_their_contact_details() -> None:
    own = record()
    rules.check_update(ALICE, own, {"name": "Al", "email": "al@example.com", "phone": None})
    rules.check_update(ALICE, own, {"address": fields.Address("1", "X", "US")})
    rules.check_update(ALICE, own, {})
    for field in ("date_of_birth", "tax_id", "role", "status"):
        with pytest.raises(errors.Forbidden) as caught:
            rules.check_update(ALICE, own, {field: "x"})
        assert field_of(caught) == field


def test_staff_update_rules() -> None:
    customer = record()
    teller = record(id="usr_tom", role=TELLER)
    admin = record(id="usr_ada", role=ADMIN)
    rules.check_update(TELLER_TOM, customer, {"date_of_birth": "1990-01-01"})
    rules.check_update(TELLER_TOM, teller, {"phone": "+14155550000"})  # themselves
    rules.check_update(ADMIN_ADA, teller, {"role": OPERATIONS, "status": rules.LOCKED})
    rules.check_update(ADMIN_CLIENT, admin, {"role": TELLER})
    rules.check_update(AUDITOR_AL, customer, {})  # nothing changes, nothing to refuse
    forbidden = [
        (AUDITOR_AL, customer, {"name": "x"}),
        (TELLER_TOM, admin, {"email": "mine@example.com"}),  # staff users are an ADMIN's
        (OPS_OLGA, teller, {"name": "x"}),
        (TELLER_TOM, customer, {"role": TELLER}),
        (OPS_OLGA, customer, {"status": rules.LOCKED}),
        (ADMIN_ADA, admin, {"role": TELLER}),  # not their own role
        (ADMIN_ADA, admin, {"status": rules.LOCKED}),
    ]
    for principal, target, changed in forbidden:
        with pytest.raises(errors.Forbidden):
            rules.check_update(principal, target, changed)


def test_who_may_deactivate() -> None:
    customer = record()
    teller = record(id="usr_tom", role=TELLER)
    rules.check_deactivate(TELLER_TOM, customer)
    rules.check_deactivate(ADMIN_ADA, teller)
    rules.check_deactivate(ADMIN_CLIENT, record(id="usr_ada", role=ADMIN))
    for principal, target in (
        (ALICE, customer),  # customers cannot, not even themselves
        (AUDITOR_AL, customer),
        (TELLER_TOM, teller),  # nobody deactivates themselves
        (ADMIN_ADA, record(id="usr_ada", role=ADMIN)),
        (OPS_OLGA, teller),
    ):
        with pytest.raises(errors.Forbidden):
            rules.check_deactivate(principal, target)


def test_the_last_active_admin_stays() -> None:
    admin = record(id="usr_ada", role=ADMIN)
    assert rules.removes_active_admin(admin, ADMIN, rules.INACTIVE)
    assert rules.removes_active_admin(admin, ADMIN, rules.LOCKED)
    assert rules.removes_active_admin(admin, TELLER, rules.ACTIVE)
    assert not rules.removes_active_admin(admin, ADMIN, rules.ACTIVE)
    assert not rules.removes_active_admin(record(role=TELLER), TELLER, rules.INACTIVE)
    locked_admin = record(role=ADMIN, status=rules.LOCKED)
    assert not rules.removes_active_admin(locked_admin, ADMIN, rules.INACTIVE)
    rules.require_another_admin(1)
    with pytest.raises(errors.BusinessRuleViolation) as caught:
        rules.require_another_admin(0)
    assert caught.value.http_status == 422 and caught.value.grpc_status == "FAILED_PRECONDITION"


# -- Password reset tokens ------------------------------------------------------------------------
def test_reset_tokens() -> None:
    expires = NOW + rules.RESET_TOKEN_LIFETIME
    assert rules.reset_token_usable(expires, None, NOW)
    assert not rules.reset_token_usable(expires, None, expires)
    assert not rules.reset_token_usable(expires, NOW, NOW)
    assert rules.check_reset_token("abc") == "abc"
    for bad in ("", "t" * 201):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.check_reset_token(bad)
        assert field_of(caught) == "token"
