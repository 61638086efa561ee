"""Beneficiary validation per rail: ABA routing numbers, US accounts, IBAN and BIC."""

from __future__ import annotations

import dataclasses

import pytest

from server.domain import errors
from server.domain.beneficiaries import (
    Beneficiary,
    BeneficiaryInput,
    is_valid_routing_number,
    validate_beneficiary,
    validate_iban,
    validate_routing_number,
    validate_swift_code,
)
from server.domain.external import ACH, INTERNATIONAL_WIRE, WIRE

ACH_JANE = BeneficiaryInput(
    name="Jane Smith",
    account_number="9876543210",
    routing_number="021000021",
    bank_name="External Bank",
    account_type="CHECKING",
)
WIRE_JANE = dataclasses.replace(ACH_JANE, account_type="")
HANS = BeneficiaryInput(
    name="Hans Muster",
    swift_code="DEUTDEFF",
    iban="DE89 3704 0044 0532 0130 00",
    bank_name="Deutsche Bank",
)


def refused(given: BeneficiaryInput, rail: str, **kwargs: str) -> errors.ValidationFailed:
    with pytest.raises(errors.ValidationFailed) as caught:
        validate_beneficiary(given, rail, **kwargs)
    assert caught.value.reason == "VALIDATION_ERROR"
    assert caught.value.http_status == 422
    return caught.value


# --- ABA routing numbers -----------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "021000021",  # JPMorgan Chase, New York
        "011000015",  # Federal Reserve Bank of Boston
        "026009593",  # Bank of America, New York
        "121000358",  # Bank of America, San Francisco
    ],
)
def test_published_routing_numbers_pass(number: str) -> None:
    assert is_valid_routing_number(number)
    assert validate_routing_number(f" {number} ", ACH) == number


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("021000022", "checksum"),  # last digit off by one
        ("012000021", "checksum"),  # two digits swapped
        ("130000006", "checksum"),  # good check digit, unassigned prefix 13
        ("800000006", "checksum"),  # traveller's cheques: no accounts behind it
        ("000000000", "checksum"),
        ("02100002", "format"),
        ("0210000210", "format"),
        ("02100002A", "format"),
    ],
)
def test_bad_routing_numbers_are_refused(number: str, problem: str) -> None:
    assert not is_valid_routing_number(number)
    with pytest.raises(errors.ValidationFailed) as caught:
        validate_routing_number(number, ACH)
    assert caught.value.field == "beneficiary.routingNumber"
    assert caught.value.metadata["problem"] == problem
    assert caught.value.metadata["length"] == str(len(number))
    assert number not in caught.value.message
    assert number not in caught.value.metadata.values()


def test_electronic_routing_numbers_take_ach_but_not_wires() -> None:
    assert validate_routing_number("611000017", ACH) == "611000017"
    with pytest.raises(errors.ValidationFailed) as caught:
        validate_routing_number("611000017", WIRE)
    assert caught.value.metadata["problem"] == "ach_only"


def test_routing_number_is_required_for_domestic_rails() -> None:
    for rail in (ACH, WIRE):
        error = refused(dataclasses.replace(ACH_JANE, routing_number=""), rail)
        assert error.field == "beneficiary.routingNumber"


# --- domestic beneficiaries ---------------------------------------------------


def test_seed_ach_beneficiary_is_accepted_and_masked() -> None:
    beneficiary = validate_beneficiary(ACH_JANE, ACH)
    assert beneficiary == Beneficiary(
        rail=ACH,
        name="Jane Smith",
        account_number="9876543210",
        routing_number="021000021",
        bank_name="External Bank",
        account_type="CHECKING",
        bank_country="US",
        swift_code="",
        iban="",
        address="",
    )
    assert beneficiary.masked_account_number == "****3210"
    assert beneficiary.masked_iban == ""


def test_wire_needs_no_account_type() -> None:
    assert validate_beneficiary(WIRE_JANE, WIRE).account_type == ""
    error = refused(WIRE_JANE, ACH)
    assert error.field == "beneficiary.accountType"


@pytest.mark.parametrize("number", ["1234", "12345678901234567"])
def test_us_account_number_bounds_pass(number: str) -> None:
    given = dataclasses.replace(ACH_JANE, account_number=number)
    assert validate_beneficiary(given, ACH).account_number == number


@pytest.mark.parametrize("number", ["", "123", "123456789012346789", "12345-6789", "ABC123456"])
def test_bad_us_account_numbers_are_refused(number: str) -> None:
    error = refused(dataclasses.replace(ACH_JANE, account_number=number), ACH)
    assert error.field == "beneficiary.accountNumber"
    assert error.metadata["length"] == str(len(number))
    if len(number) >= 4:
        assert error.metadata["account_number"] == f"****{number[-4:]}"
    assert not number or number not in error.metadata.values()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"swift_code": "DEUTDEFF"}, "beneficiary.swiftCode"),
        ({"iban": "DE89370400440532013000"}, "beneficiary.iban"),
        ({"bank_country": "DE"}, "beneficiary.bankCountry"),
        ({"bank_country": "USA"}, "beneficiary.bankCountry"),
        ({"name": "  "}, "beneficiary.name"),
        ({"name": "x" * 141}, "beneficiary.name"),
        ({"bank_name": "x" * 141}, "beneficiary.bankName"),
        ({"address": "x" * 256}, "beneficiary.address"),
        ({"account_type": "BROKERAGE"}, "beneficiary.accountType"),
    ],
)
def test_domestic_refusals_name_the_field(change: dict[str, str], field: str) -> None:
    assert refused(dataclasses.replace(ACH_JANE, **change), ACH).field == field


def test_account_abroad_needs_an_international_wire() -> None:
    error = refused(ACH_JANE, WIRE, account_country="GB")
    assert error.field == "rail"
    assert error.metadata["account_country"] == "GB"


# --- IBAN and BIC ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
    ],
)
def test_good_ibans_pass(value: str, canonical: str) -> None:
    assert str(validate_iban(value)) == canonical


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("DE88370400440532013000", "checksum"),  # check digits 89 -> 88
        ("GB82WEST12345698765433", "checksum"),  # last digit changed
        ("DE8937040044053201300", "length"),  # one digit short for DE
        ("XX89370400440532013000", "country"),
        ("GB82WEST1234569876543A", "format"),  # a letter where GB wants a digit
    ],
)
def test_bad_ibans_are_refused(value: str, problem: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        validate_iban(value)
    assert caught.value.field == "beneficiary.iban"
    assert caught.value.metadata["problem"] == problem
    assert caught.value.metadata["iban"] == f"****{value[-4:]}"
    assert value not in caught.value.metadata.values()


@pytest.mark.parametrize("value", ["DEUTDEFF", "NWBKGB2L", "deutdeff500", "COBADEFFXXX"])
def test_good_bics_pass(value: str) -> None:
    assert str(validate_swift_code(value)) == value.upper()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("DEUTDEF", "length"),
        ("DEUTDEFF5", "length"),
        ("DEUT1EFF", "format"),  # digit in the country code
        ("1234DEFF", "format"),  # digits in the bank code: ISO allows, SWIFT does not
        ("DEUTXXFF", "country"),
        ("DEUT-EFF", "format"),
    ],
)
def test_bad_bics_are_refused(value: str, problem: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        validate_swift_code(value)
    assert caught.value.field == "beneficiary.swiftCode"
    assert caught.value.metadata["problem"] == problem


def test_international_beneficiary_with_iban() -> None:
    beneficiary = validate_beneficiary(HANS, INTERNATIONAL_WIRE)
    assert beneficiary.iban == "DE89370400440532013000"
    assert beneficiary.account_number == beneficiary.iban  # the IBAN stands for it
    assert beneficiary.bank_country == "DE"  # from the BIC
    assert beneficiary.swift_code == "DEUTDEFF"
    assert beneficiary.masked_iban == "****3000"
    assert beneficiary.masked_account_number == "****3000"


def test_uk_beneficiary_and_a_territory_that_uses_gb_ibans() -> None:
    uk = BeneficiaryInput(name="Ann", swift_code="NWBKGB2L", iban="GB82WEST12345698765432")
    assert validate_beneficiary(uk, INTERNATIONAL_WIRE).bank_country == "GB"
    # A Jersey bank (BIC country JE) holds GB IBANs: consistent.
    jersey = dataclasses.replace(uk, swift_code="BARCJESH")
    assert validate_beneficiary(jersey, INTERNATIONAL_WIRE).bank_country == "JE"


def test_iban_of_another_country_than_the_bic_is_refused() -> None:
    error = refused(dataclasses.replace(HANS, swift_code="NWBKGB2L"), INTERNATIONAL_WIRE)
    assert error.field == "beneficiary.iban"
    assert error.metadata == {
        "iban_country": "DE",
        "swift_country": "GB",
        "field": "beneficiary.iban",
    }


def test_bank_country_must_be_the_bics() -> None:
    error = refused(dataclasses.replace(HANS, bank_country="FR"), INTERNATIONAL_WIRE)
    assert error.field == "beneficiary.bankCountry"
    given = dataclasses.replace(HANS, bank_country="DE")
    assert validate_beneficiary(given, INTERNATIONAL_WIRE).bank_country == "DE"


def test_iban_required_where_the_country_uses_ibans() -> None:
    error = refused(
        dataclasses.replace(HANS, iban="", account_number="0532013000"), INTERNATIONAL_WIRE
    )
    assert error.field == "beneficiary.iban"
    assert error.metadata["bank_country"] == "DE"


def test_account_number_where_the_country_has_no_iban() -> None:
    # Japan has no IBAN: the account number is all the bank needs.
    japan = BeneficiaryInput(name="Sato", swift_code="BOTKJPJT", account_number="1234567")
    beneficiary = validate_beneficiary(japan, INTERNATIONAL_WIRE)
    assert (beneficiary.account_number, beneficiary.iban) == ("1234567", "")
    error = refused(dataclasses.replace(japan, account_number=""), INTERNATIONAL_WIRE)
    assert error.field == "beneficiary.accountNumber"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"swift_code": ""}, "beneficiary.swiftCode"),
        ({"routing_number": "021000021"}, "beneficiary.routingNumber"),
        ({"iban": "DE88370400440532013000"}, "beneficiary.iban"),
        ({"swift_code": "DEUT1EFF"}, "beneficiary.swiftCode"),
        ({"account_number": "12-34"}, "beneficiary.accountNumber"),
    ],
)
def test_international_refusals_name_the_field(change: dict[str, str], field: str) -> None:
    assert refused(dataclasses.replace(HANS, **change), INTERNATIONAL_WIRE).field == field


def test_international_wire_to_a_us_bank_from_a_us_account_is_refused() -> None:
    us = BeneficiaryInput(name="Jane", swift_code="CHASUS33", account_number="9876543210")
    assert refused(us, INTERNATIONAL_WIRE).field == "rail"
    # From an account abroad, the same US bank is international.
    assert validate_beneficiary(us, INTERNATIONAL_WIRE, account_country="GB").bank_country == "US"
