"""Payee rules: fields, duplicates, the per-owner cap, who may see and delete what."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.domain import errors
from server.domain import payees as rules
from server.domain.principal import ADMIN, AUDITOR, CUSTOMER, OPERATIONS, TELLER, Principal
from server.domain.user_fields import Address

ALICE = Principal(client_id="app", role=CUSTOMER, user_id="usr_alice")
BOB = Principal(client_id="app", role=CUSTOMER, user_id="usr_bob")
TELLER_TOM = Principal(client_id="app", role=TELLER, user_id="usr_tom")
AUDITOR_AL = Principal(client_id="app", role=AUDITOR, user_id="usr_al")
APP = Principal(client_id="billing-app", role=OPERATIONS)
ADMIN_CLIENT = Principal(client_id="ops-tool", role=ADMIN)


def _form(**overrides: object) -> rules.PayeeForm:
    fields: dict[str, object] = {
        "owner_id": "",
        "name": "Acme Phone",
        "type": "UTILITY",
        "account_number": "AC-1234 7890",
    }
    return rules.PayeeForm(**{**fields, **overrides})  # type: ignore[arg-type]


def _payee(owner_id: str | None = "usr_alice") -> rules.PayeeRecord:
    return rules.PayeeRecord(
        id="payee_x",
        owner_id=owner_id,
        name="Acme",
        type="UTILITY",
        account_number_last4="7890",
        category=None,
        nickname=None,
        address=None,
        created_at=datetime(2025, 11, 9, 10, 30),
    )


def _refused(
    error: type[errors.BankError], call: object, *args: object, **kw: object
) -> errors.BankError:
    with pytest.raises(error) as caught:
        call(*args, **kw)  # type: ignore[operator]
    return caught.value


# --- fields ---------------------------------------------------------------------------------


def test_a_valid_payee_is_trimmed_and_normalised() -> None:
    address = Address(line1=" 1 Main St ", city="Springfield", country="us")
    payee = rules.validate_new_payee(
        _form(name="  Acme Phone ", category=" Phone ", nickname=" home ", address=address)
    )
    assert payee.name == "Acme Phone" and payee.type == "UTILITY"
    assert payee.account_number == "AC12347890"  # spaces and dashes dropped
    assert (payee.category, payee.nickname) == ("phone", "home")
    assert payee.address == Address(line1="1 Main St", city="Springfield", country="US")


def test_blank_optional_fields_are_none() -> None:
    payee = rules.validate_new_payee(_form(category="  ", nickname=""))
    assert (payee.category, payee.nickname, payee.address) == (None, None, None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": " \t "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "bad\x07name"}, "name"),
        ({"type": ""}, "type"),
        ({"type": "7"}, "type"),
        ({"type": "utility"}, "type"),
        ({"account_number": ""}, "accountNumber"),
        ({"account_number": " - "}, "accountNumber"),
        ({"account_number": "12/34"}, "accountNumber"),
        ({"account_number": "12.34"}, "accountNumber"),
        ({"account_number": "9" * 35}, "accountNumber"),
        ({"category": "c" * 51}, "category"),
        ({"nickname": "k" * 51}, "nickname"),
        ({"address": Address(line1="", city="X", country="US")}, "address.line1"),
        ({"address": Address(line1="1 Main", city="X", country="USA")}, "address.country"),
    ],
)
def test_invalid_fields_name_the_field(overrides: dict[str, object], field: str) -> None:
    error = _refused(errors.ValidationFailed, rules.validate_new_payee, _form(**overrides))
    assert error.field == field and error.http_status == 422


def test_limits_are_inclusive() -> None:
    payee = rules.validate_new_payee(
        _form(name="n" * 100, account_number="9" * 34, category="c" * 50, nickname="k" * 50)
    )
    assert len(payee.account_number) == 34 and len(payee.name) == 100


def test_unset_type_is_named_in_the_metadata() -> None:
    error = _refused(errors.ValidationFailed, rules.validate_type, "")
    assert error.metadata["type"] == "PAYEE_TYPE_UNSPECIFIED"


def test_masked_number_keeps_the_last_four() -> None:
    assert _payee().masked_account_number == "****7890"


# --- duplicates and the cap --------------------------------------------------------------------


def test_same_name_ignores_case_and_width() -> None:
    existing = [
        ("payee_a", "ACME phone"),
        ("payee_b", "Acme Mobile"),
        ("payee_c", "\uff41\uff43\uff4d\uff45 PHONE"),
    ]
    assert rules.same_name(existing, "acme Phone") == ["payee_a", "payee_c"]
    assert rules.same_name(existing, "Other") == []


def test_a_duplicate_is_a_409_conflict() -> None:
    error = rules.duplicate("payee_a")
    assert (error.reason, error.grpc_status, error.http_status) == (
        "CONFLICT",
        "ALREADY_EXISTS",
        409,
    )
    assert error.metadata["payee_id"] == "payee_a"


def test_five_hundred_payees_per_owner() -> None:
    rules.check_room("usr_alice", 499)
    error = _refused(errors.BusinessRuleViolation, rules.check_room, "usr_alice", 500)
    assert error.http_status == 422 and error.metadata["max"] == "500"


# --- who may do what ---------------------------------------------------------------------------


def test_customers_add_payees_for_themselves() -> None:
    assert rules.owner_for_create(ALICE, "") == "usr_alice"
    assert rules.owner_for_create(ALICE, "usr_alice") == "usr_alice"
    _refused(errors.Forbidden, rules.owner_for_create, ALICE, "usr_bob")


@pytest.mark.parametrize("principal", [TELLER_TOM, APP, ADMIN_CLIENT])
def test_staff_and_clients_name_the_owner(principal: Principal) -> None:
    assert rules.owner_for_create(principal, " usr_bob ") == "usr_bob"
    error = _refused(errors.ValidationFailed, rules.owner_for_create, principal, "")
    assert error.field == "ownerId"
    _refused(errors.NotFound, rules.owner_for_create, principal, "usr_" + "x" * 80)


def test_an_auditor_adds_nothing() -> None:
    _refused(errors.Forbidden, rules.owner_for_create, AUDITOR_AL, "usr_bob")


def test_the_owner_is_an_active_customer() -> None:
    rules.check_owner("usr_bob", "CUSTOMER", "ACTIVE")
    assert _refused(errors.NotFound, rules.check_owner, "usr_x", None, None).field == "ownerId"
    error = _refused(errors.ValidationFailed, rules.check_owner, "usr_t", "TELLER", "ACTIVE")
    assert error.field == "ownerId"
    error = _refused(
        errors.BusinessRuleViolation, rules.check_owner, "usr_b", "CUSTOMER", "INACTIVE"
    )
    assert error.metadata["owner_status"] == "INACTIVE"


def test_reading_a_payee() -> None:
    for principal in (ALICE, TELLER_TOM, AUDITOR_AL, APP):
        rules.check_can_read(principal, _payee())
    for principal in (ALICE, BOB, AUDITOR_AL):
        rules.check_can_read(principal, _payee(owner_id=None))  # a bank-wide biller
    _refused(errors.NotFound, rules.check_can_read, BOB, _payee())


def test_deleting_a_payee() -> None:
    for principal in (ALICE, TELLER_TOM, APP, ADMIN_CLIENT):
        rules.check_can_delete(principal, _payee())
    _refused(errors.NotFound, rules.check_can_delete, BOB, _payee())
    _refused(errors.Forbidden, rules.check_can_delete, AUDITOR_AL, _payee())


@pytest.mark.parametrize("principal", [ALICE, TELLER_TOM, ADMIN_CLIENT])
def test_nobody_deletes_a_bank_wide_biller(principal: Principal) -> None:
    error = _refused(errors.Forbidden, rules.check_can_delete, principal, _payee(owner_id=None))
    assert error.http_status == 403


def test_payee_ids() -> None:
    assert rules.payee_id_of(" payee_x ") == "payee_x"
    assert _refused(errors.ValidationFailed, rules.payee_id_of, "").field == "payeeId"
    _refused(errors.NotFound, rules.payee_id_of, "payee_" + "x" * 80)


# --- list scope and filters -------------------------------------------------------------------


def _query(principal: Principal, **kw: str) -> rules.PayeeQuery:
    fields = {"owner_id": "", "type_word": "", "category": "", "search": "", **kw}
    return rules.list_query(principal, **fields)


def test_a_customer_lists_own_payees_and_the_billers() -> None:
    query = _query(ALICE)
    assert (query.owner_id, query.include_bank_wide) == ("usr_alice", True)
    assert _query(ALICE, owner_id="usr_alice").owner_id == "usr_alice"
    other = _query(ALICE, owner_id="usr_bob")
    assert (other.owner_id, other.include_bank_wide) == ("", False)  # an empty page


def test_staff_list_everyone_or_one_owner() -> None:
    assert (_query(TELLER_TOM).owner_id, _query(TELLER_TOM).include_bank_wide) == (None, True)
    one = _query(APP, owner_id="usr_bob")
    assert (one.owner_id, one.include_bank_wide) == ("usr_bob", True)


def test_filters_are_normalised_and_bounded() -> None:
    query = _query(ALICE, type_word="MERCHANT", category=" Phone ", search=" My Gym ")
    assert (query.type, query.category, query.search) == ("MERCHANT", "phone", "my gym")
    assert _refused(errors.ValidationFailed, _query, ALICE, search="s" * 101).field == "search"
    assert _refused(errors.ValidationFailed, _query, ALICE, type_word="9").field == "type"
    assert _refused(errors.ValidationFailed, _query, ALICE, category="c" * 51).field == "category"
    assert query.token_filters() != _query(ALICE).token_filters()


def test_page_depth() -> None:
    rules.check_page_depth(100, 100)
    assert _refused(errors.ValidationFailed, rules.check_page_depth, 101, 100).field == "page"


def test_account_numbers_compare_ignoring_case() -> None:
    assert rules.same_account_number("AC12347890", "ac12347890")
    assert not rules.same_account_number("AC12347890", "AC12347891")
