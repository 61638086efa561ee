"""Account rules and limits without a database: who may do what, states, masking, limits."""

from __future__ import annotations

from datetime import datetime
from itertools import cycle

import pytest

from server.domain import accounts as rules
from server.domain import errors, limits
from server.domain.principal import (
    ADMIN,
    AUDITOR,
    CUSTOMER,
    OPERATIONS,
    TELLER,
    Principal,
)

ALICE = Principal(client_id="app", role=CUSTOMER, user_id="usr_alice")
BOB = Principal(client_id="app", role=CUSTOMER, user_id="usr_bob")
ADMIN_P = Principal(client_id="bo", role=ADMIN, user_id="usr_admin")
OPS = Principal(client_id="bo", role=OPERATIONS, user_id="usr_ops")
TELLER_P = Principal(client_id="bo", role=TELLER, user_id="usr_teller")
AUDITOR_P = Principal(client_id="bo", role=AUDITOR, user_id="usr_auditor")
STAFF = (ADMIN_P, OPS, TELLER_P, AUDITOR_P)


# --- account numbers -------------------------------------------------------


def test_account_numbers_have_ten_digits_and_never_start_with_9_or_0() -> None:
    for _ in range(2000):
        number = rules.new_account_number()
        assert len(number) == 10 and number.isdigit()
        assert number[0] in "12345678"


@pytest.mark.parametrize(
    ("draws", "expected"), [((0, 0), "1000000000"), ((7, 999_999_999), "8999999999")]
)
def test_account_number_extremes(draws: tuple[int, int], expected: str) -> None:
    values = iter(draws)
    assert rules.new_account_number(lambda _bound: next(values)) == expected


def test_account_number_draws_cover_every_allowed_first_digit() -> None:
    firsts = cycle(range(8))
    seen = {
        rules.new_account_number(lambda bound: next(firsts) if bound == 8 else 5)[0]
        for _ in range(8)
    }
    assert seen == set("12345678")


# --- masking and visibility ------------------------------------------------


def test_account_number_is_full_for_owner_and_staff_masked_for_others() -> None:
    number = "1234567890"
    assert rules.visible_account_number(ALICE, "usr_alice", number) == number
    for staff in STAFF:
        assert rules.visible_account_number(staff, "usr_alice", number) == number
    assert rules.visible_account_number(BOB, "usr_alice", number) == "****7890"
    anonymous = Principal(client_id="partner", role=CUSTOMER, user_id=None)
    assert rules.visible_account_number(anonymous, None, number) == "****7890"


def test_customers_read_only_their_own_accounts_others_are_not_found() -> None:
    rules.check_can_read(ALICE, "acc_1", "usr_alice")
    for staff in STAFF:
        rules.check_can_read(staff, "acc_1", "usr_alice")
    with pytest.raises(errors.NotFound) as caught:
        rules.check_can_read(BOB, "acc_1", "usr_alice")
    assert caught.value.reason == "NOT_FOUND"
    assert caught.value.metadata["account_id"] == "acc_1"


@pytest.mark.parametrize("account_id", ["", "usr_123", "acc_" + "x" * 80, "../acc_1"])
def test_malformed_account_ids_are_not_found(account_id: str) -> None:
    with pytest.raises(errors.NotFound):
        rules.check_account_id(account_id)


def test_list_scope() -> None:
    assert rules.list_owner_scope(ALICE, "") == "usr_alice"
    assert rules.list_owner_scope(ALICE, "usr_alice") == "usr_alice"
    assert rules.list_owner_scope(ALICE, "usr_bob") == ""  # empty page, no probing
    assert rules.list_owner_scope(ADMIN_P, "") is None
    assert rules.list_owner_scope(AUDITOR_P, "usr_bob") == "usr_bob"
    no_user = Principal(client_id="partner", role=CUSTOMER, user_id=None)
    assert rules.list_owner_scope(no_user, "") == ""


# --- who may do what --------------------------------------------------------


def test_owner_for_create() -> None:
    assert rules.owner_for_create(ALICE, "") == "usr_alice"
    assert rules.owner_for_create(ALICE, "usr_alice") == "usr_alice"
    with pytest.raises(errors.Forbidden):
        rules.owner_for_create(ALICE, "usr_bob")
    assert rules.owner_for_create(TELLER_P, "usr_bob") == "usr_bob"
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.owner_for_create(ADMIN_P, "")
    assert caught.value.field == "owner_id"
    with pytest.raises(errors.Forbidden):
        rules.owner_for_create(AUDITOR_P, "usr_bob")
    with pytest.raises(errors.NotFound):
        rules.owner_for_create(ADMIN_P, "usr_" + "x" * 100)


def test_owner_must_exist_be_active_and_have_room() -> None:
    rules.check_owner_can_hold("usr_a", "ACTIVE", 999)
    with pytest.raises(errors.NotFound) as missing:
        rules.check_owner_can_hold("usr_a", None, 0)
    assert missing.value.field == "owner_id"
    for status in ("INACTIVE", "LOCKED"):
        with pytest.raises(errors.BusinessRuleViolation) as inactive:
            rules.check_owner_can_hold("usr_a", status, 0)
        assert inactive.value.reason == "VALIDATION_ERROR"
        assert inactive.value.grpc_status == "FAILED_PRECONDITION"
        assert inactive.value.metadata["owner_status"] == status
    with pytest.raises(errors.BusinessRuleViolation):
        rules.check_owner_can_hold("usr_a", "ACTIVE", rules.OPEN_ACCOUNTS_PER_OWNER_MAX)


def test_update_rights() -> None:
    rules.check_can_update(ALICE, "acc_1", "usr_alice")
    for staff in (ADMIN_P, OPS, TELLER_P):
        rules.check_can_update(staff, "acc_1", "usr_alice")
    with pytest.raises(errors.Forbidden):
        rules.check_can_update(AUDITOR_P, "acc_1", "usr_alice")
    with pytest.raises(errors.NotFound):
        rules.check_can_update(BOB, "acc_1", "usr_alice")


def test_overdraft_is_staff_only_and_for_checking_products() -> None:
    rules.check_overdraft_allowed(TELLER_P, "CHECKING", 100)
    rules.check_overdraft_allowed(ADMIN_P, "BUSINESS", 100)
    rules.check_overdraft_allowed(ADMIN_P, "SAVINGS", 0)
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.check_overdraft_allowed(ADMIN_P, "SAVINGS", 100)
    assert caught.value.field == "overdraft_limit"
    for who in (ALICE, AUDITOR_P):
        with pytest.raises(errors.Forbidden) as denied:
            rules.check_overdraft_allowed(who, "CHECKING", 100)
        assert denied.value.http_status == 403


def test_close_rights_owner_or_officers() -> None:
    rules.check_can_close(ALICE, "acc_1", "usr_alice")
    rules.check_can_close(OPS, "acc_1", "usr_alice")
    rules.check_can_close(ADMIN_P, "acc_1", "usr_alice")
    for staff in (TELLER_P, AUDITOR_P):
        with pytest.raises(errors.Forbidden):
            rules.check_can_close(staff, "acc_1", "usr_alice")
    with pytest.raises(errors.NotFound):
        rules.check_can_close(BOB, "acc_1", "usr_alice")


def test_freeze_and_limits_are_for_officers_only() -> None:
    rules.check_can_administer(OPS, "acc_1", "usr_alice")
    rules.check_can_administer(ADMIN_P, "acc_1", "usr_alice")
    for who in (ALICE, TELLER_P, AUDITOR_P):
        with pytest.raises(errors.Forbidden):
            rules.check_can_administer(who, "acc_1", "usr_alice")
    # Someone else's account stays invisible rather than forbidden.
    with pytest.raises(errors.NotFound):
        rules.check_can_administer(BOB, "acc_1", "usr_alice")


# --- input ------------------------------------------------------------------


def test_types_currencies_nicknames_reasons() -> None:
    assert rules.check_type("SAVINGS") == "SAVINGS"
    for bad in ("", "INTERNAL", "savings", "99"):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.check_type(bad)
        assert caught.value.field == "type"
    assert rules.check_currency("") == "USD"
    assert rules.check_currency(" eur ") == "EUR"
    for bad in ("XYZ", "US", "DOLLAR"):
        with pytest.raises(errors.ValidationFailed) as currency:
            rules.check_currency(bad)
        assert currency.value.reason == "VALIDATION_ERROR"
        assert currency.value.field == "currency"
    assert rules.check_nickname("  Rent  ") == "Rent"
    assert rules.check_nickname("n" * 50) == "n" * 50
    for bad in ("n" * 51, "tab\there"):
        with pytest.raises(errors.ValidationFailed):
            rules.check_nickname(bad)
    assert rules.check_reason("", required=False) == ""
    with pytest.raises(errors.ValidationFailed):
        rules.check_reason("  ", required=True)
    with pytest.raises(errors.ValidationFailed):
        rules.check_reason("r" * 501, required=False)


@pytest.mark.parametrize(
    ("wire", "currency", "minor"),
    [(0, "USD", 0), (250.5, "USD", 25_050), (100_000, "USD", 10_000_000), (5000, "JPY", 5000)],
)
def test_overdraft_limits_parse_exactly(wire: float, currency: str, minor: int) -> None:
    assert rules.parse_overdraft_limit(wire, currency) == minor


@pytest.mark.parametrize("wire", [-0.01, 100_000.01, 1.005, float("nan"), float("inf")])
def test_bad_overdraft_limits_are_txn005(wire: float) -> None:
    with pytest.raises(errors.InvalidAmount) as caught:
        rules.parse_overdraft_limit(wire, "USD")
    assert caught.value.reason == "TXN005"
    assert caught.value.field == "overdraft_limit"


def test_list_query_validation() -> None:
    query = rules.list_query(
        ADMIN_P, owner_id="", type_name="", status="", currency="usd", sort="balance", order="asc"
    )
    assert query.currency == "USD" and query.owner_id is None
    assert query.token_filters()["sort"] == "balance"
    for kwargs, field in (
        ({"type_name": "GOLD"}, "type"),
        ({"status": "OPEN"}, "status"),
        ({"status": "7"}, "status"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"currency": "U1D"}, "currency"),
    ):
        base = {"owner_id": "", "type_name": "", "status": "", "currency": ""}
        base.update(kwargs)
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.list_query(ADMIN_P, sort="created_at", order="desc", **base)
        assert caught.value.field == field
    customer = rules.list_query(
        ALICE, owner_id="usr_bob", type_name="", status="", currency="", sort="balance", order="asc"
    )
    assert customer.owner_id == ""


def test_page_depth() -> None:
    rules.check_page_depth(100, 100)
    rules.check_page_depth(500, 20)
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.check_page_depth(101, 100)
    assert caught.value.field == "page"


def test_limit_resets() -> None:
    assert rules.limit_resets(["DAILY_TRANSFER", "PER_TRANSACTION_INTERNAL_TRANSFER_MAX"]) == {
        "daily_transfer",
        "per_transaction_internal_transfer_max",
    }
    assert rules.limit_resets([]) == frozenset()
    for bad in (["DAILY_TRANSFER", "DAILY_TRANSFER"], [""], ["99"], ["X"] * 7):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.limit_resets(bad)
        assert caught.value.field == "reset_to_default"


# --- state machine ------------------------------------------------------------


def test_freeze_transitions() -> None:
    assert rules.freeze_changes("acc_1", "ACTIVE") is True
    assert rules.freeze_changes("acc_1", "INACTIVE") is True
    assert rules.freeze_changes("acc_1", "FROZEN") is False  # answered unchanged
    with pytest.raises(rules.AccountStateConflict) as caught:
        rules.freeze_changes("acc_1", "CLOSED")
    assert caught.value.reason == "CONFLICT"
    assert caught.value.http_status == 409
    assert caught.value.grpc_status == "FAILED_PRECONDITION"


def test_unfreeze_transitions() -> None:
    assert rules.unfreeze_changes("acc_1", "FROZEN") is True
    assert rules.unfreeze_changes("acc_1", "INACTIVE") is True
    assert rules.unfreeze_changes("acc_1", "ACTIVE") is False
    with pytest.raises(rules.AccountStateConflict):
        rules.unfreeze_changes("acc_1", "CLOSED")


def _close_state(**changes: object) -> rules.CloseState:
    values: dict[str, object] = {
        "account_id": "acc_1",
        "status": "ACTIVE",
        "currency": "USD",
        "balance_minor": 0,
        "held_minor": 0,
        "pending_debits_minor": 0,
        "pending_holds": 0,
        "pending_entries": 0,
    }
    values.update(changes)
    return rules.CloseState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["ACTIVE", "FROZEN", "INACTIVE"])
def test_an_empty_account_closes_from_any_open_status(status: str) -> None:
    assert rules.close_changes(_close_state(status=status)) is True


def test_closing_a_closed_account_answers_it_unchanged() -> None:
    assert rules.close_changes(_close_state(status="CLOSED", balance_minor=5)) is False


@pytest.mark.parametrize(
    "changes",
    [
        {"balance_minor": 1},
        {"balance_minor": -2_500},
        {"held_minor": 100},
        {"pending_holds": 1},
        {"pending_debits_minor": 1},
        {"pending_entries": 1},
    ],
)
def test_close_is_refused_while_anything_remains(changes: dict[str, int]) -> None:
    with pytest.raises(rules.AccountStateConflict) as caught:
        rules.close_changes(_close_state(**changes))
    assert caught.value.reason == "CONFLICT"
    assert caught.value.grpc_status == "FAILED_PRECONDITION"
    assert caught.value.metadata["account_id"] == "acc_1"
    assert "balance" in caught.value.metadata


def test_close_refusal_names_the_balance() -> None:
    with pytest.raises(rules.AccountStateConflict) as caught:
        rules.close_changes(_close_state(balance_minor=-2_550))
    assert caught.value.metadata["balance"] == "-25.50"
    assert "-25.50 USD" in caught.value.message


def test_closed_accounts_refuse_changes() -> None:
    rules.check_not_closed("acc_1", "FROZEN")
    with pytest.raises(rules.AccountStateConflict):
        rules.check_not_closed("acc_1", "CLOSED")


def test_available_and_spendable() -> None:
    available = rules.available_minor(100_00, 30_00, 10_00, 50_00)
    assert available == 110_00
    assert rules.spendable_minor(available) == 110_00
    assert rules.spendable_minor(rules.available_minor(0, 70_00, 0, 50_00)) == 0


# --- limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account_type", "atm", "transfer", "bill", "monthly", "external"),
    [
        ("SAVINGS", 1_000, 5_000, 2_000, 20_000, 10_000),
        ("CHECKING", 1_500, 10_000, 5_000, 50_000, 25_000),
        ("BUSINESS", 5_000, 50_000, 25_000, 500_000, 250_000),
    ],
)
def test_default_limits_are_seed_002s_tables(
    account_type: str, *, atm: int, transfer: int, bill: int, monthly: int, external: int
) -> None:
    got = limits.effective_limits(account_type, {})
    assert got.daily_atm_withdrawal == atm * 100
    assert got.daily_transfer == transfer * 100
    assert got.daily_bill_payment == bill * 100
    assert got.monthly_transfer == monthly * 100
    assert got.monthly_external_transfer == external * 100
    assert got.per_transaction_internal_transfer_max == 10_000_00
    assert got.per_transaction_external_transfer_max == 5_000_00
    assert got.per_transaction_atm_withdrawal_max == 500_00
    assert got.per_transaction_min == 1
    assert got.overridden == frozenset()
    assert got == limits.default_limits(account_type)


def test_overrides_replace_defaults_and_unknown_names_are_ignored() -> None:
    got = limits.effective_limits(
        "CHECKING",
        {
            "per_transaction_internal_transfer_max": 25_000_00,
            "daily_atm_withdrawal": 0,
            "weekly": 1,
        },
    )
    assert got.per_transaction_internal_transfer_max == 25_000_00
    assert got.daily_atm_withdrawal == 0
    assert got.daily_transfer == 10_000_00
    assert got.overridden == {"per_transaction_internal_transfer_max", "daily_atm_withdrawal"}
    # Bank-wide maxima cannot be overridden per account.
    same = limits.effective_limits("CHECKING", {"per_transaction_atm_withdrawal_max": 1})
    assert same.per_transaction_atm_withdrawal_max == 500_00


def test_limits_in_other_currencies_use_their_minor_units() -> None:
    yen = limits.effective_limits("SAVINGS", {}, currency="JPY")
    assert yen.daily_atm_withdrawal == 1_000
    assert yen.per_transaction_min == 1
    assert limits.effective_limits("SAVINGS", {}, currency="EUR").daily_atm_withdrawal == 1_000_00


def test_overrides_round_trip_through_json() -> None:
    stored = limits.dump_overrides({"daily_transfer": 1, "daily_atm_withdrawal": 2})
    assert stored == '{"daily_atm_withdrawal":2,"daily_transfer":1}'
    assert limits.parse_overrides(stored) == {"daily_transfer": 1, "daily_atm_withdrawal": 2}
    assert limits.parse_overrides("") == {}
    assert limits.parse_overrides("{}") == {}


@pytest.mark.parametrize(
    ("now", "day_end", "month_start", "month_end"),
    [
        (
            datetime(2025, 11, 9, 10, 30),
            datetime(2025, 11, 10),
            datetime(2025, 11, 1),
            datetime(2025, 12, 1),
        ),
        (
            datetime(2025, 12, 31, 23, 59, 59),
            datetime(2026, 1, 1),
            datetime(2025, 12, 1),
            datetime(2026, 1, 1),
        ),
        (
            datetime(2024, 2, 29, 0, 0),
            datetime(2024, 3, 1),
            datetime(2024, 2, 1),
            datetime(2024, 3, 1),
        ),
        (
            datetime(2025, 1, 31, 12),
            datetime(2025, 2, 1),
            datetime(2025, 1, 1),
            datetime(2025, 2, 1),
        ),
    ],
)
def test_period_bounds(
    now: datetime, *, day_end: datetime, month_start: datetime, month_end: datetime
) -> None:
    periods = limits.period_bounds(now)
    assert periods.day_start == now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert periods.day_end == day_end
    assert periods.month_start == month_start
    assert periods.month_end == month_end


def test_usage_counts_each_class_against_its_limits() -> None:
    daily = {"ATM": 100, "TRANSFER": 200, "EXTERNAL_TRANSFER": 300, "BILL_PAYMENT": 40}
    monthly = {"ATM": 1000, "TRANSFER": 2000, "EXTERNAL_TRANSFER": 3000, "BILL_PAYMENT": 400}
    assert limits.usage_by_limit(daily, monthly) == {
        "daily_atm_withdrawal": 100,
        "daily_transfer": 500,
        "daily_bill_payment": 40,
        "monthly_transfer": 5000,
        "monthly_external_transfer": 3000,
    }
    assert limits.usage_by_limit({}, {}) == dict.fromkeys(limits.PERIODIC_LIMITS, 0)


def test_override_changes_set_and_reset() -> None:
    current = {"daily_atm_withdrawal": 2_000_00, "daily_transfer": 8_000_00}
    result = limits.apply_override_changes(
        current,
        {"monthly_transfer": 0},
        frozenset({"daily_atm_withdrawal"}),
        account_type="SAVINGS",
        currency="USD",
    )
    assert result == {"daily_transfer": 8_000_00, "monthly_transfer": 0}


@pytest.mark.parametrize(
    ("changes", "resets", "error", "field"),
    [
        (
            {"daily_transfer": 1},
            {"daily_transfer"},
            errors.ValidationFailed,
            "daily_transfer_limit",
        ),
        ({"daily_atm_withdrawal": -1}, set(), errors.InvalidAmount, "daily_atm_withdrawal_limit"),
        (
            {"monthly_transfer": 10_000_000_01},
            set(),
            errors.InvalidAmount,
            "monthly_transfer_limit",
        ),
        (
            {"monthly_external_transfer": 20_000_01},
            set(),
            errors.ValidationFailed,
            "monthly_external_transfer_limit",
        ),
        (
            {"per_transaction_internal_transfer_max": 5_000_01},
            set(),
            errors.ValidationFailed,
            "per_transaction_internal_transfer_max",
        ),
    ],
)
def test_override_changes_are_validated(
    changes: dict[str, int], resets: set[str], *, error: type[errors.BankError], field: str
) -> None:
    with pytest.raises(error) as caught:
        limits.apply_override_changes(
            {}, changes, frozenset(resets), account_type="SAVINGS", currency="USD"
        )
    assert caught.value.field == field


def test_override_checks_count_the_other_limit_after_the_change() -> None:
    # Raising the monthly transfer limit in the same request makes room.
    result = limits.apply_override_changes(
        {},
        {"monthly_transfer": 40_000_00, "monthly_external_transfer": 30_000_00},
        frozenset(),
        account_type="SAVINGS",
        currency="USD",
    )
    assert result["monthly_external_transfer"] == 30_000_00
    # The per-transaction internal maximum may equal the daily transfer limit.
    limits.apply_override_changes(
        {},
        {"per_transaction_internal_transfer_max": 5_000_00},
        frozenset(),
        account_type="SAVINGS",
        currency="USD",
    )


def test_parse_override_is_exact_and_names_the_wire_field() -> None:
    assert limits.parse_override("daily_transfer", 1234.56, "USD") == 123_456
    with pytest.raises(errors.InvalidAmount) as caught:
        limits.parse_override("per_transaction_internal_transfer_max", 1.001, "USD")
    assert caught.value.field == "per_transaction_internal_transfer_max"


def test_stored_limits_are_the_effective_limits_of_the_stored_overrides() -> None:
    stored = limits.dump_overrides({limits.DAILY_TRANSFER: 123_45})
    got = limits.stored_limits("CHECKING", stored, "USD")
    assert got == limits.effective_limits(
        "CHECKING", {limits.DAILY_TRANSFER: 123_45}, currency="USD"
    )
    assert got.daily_transfer == 123_45 and got.overridden == {limits.DAILY_TRANSFER}
    assert limits.stored_limits("CHECKING", stored, "USD") is got  # worked out once
    assert limits.stored_limits("CHECKING", None, "JPY") == limits.default_limits(
        "CHECKING", currency="JPY"
    )
