"""The receiving party of an external transfer, checked for the rail it travels on.

Money sent to a mistyped account is slow and costly to get back (an ACH
return takes days, a wire recall may never come), so every identifier with a
check digit is verified before any money is reserved:
- ACH and domestic WIRE: an ABA routing number, 9 digits with the Fed's
  3-7-1 check digit (schwifty knows no US routing numbers, so it is here)
  and an assigned prefix (00 government, 01-12 Fed districts, 21-32 thrifts,
  61-72 electronic numbers, ACH only); a US account number of 4-17 digits.
- INTERNATIONAL_WIRE: a BIC in SWIFT's format and, to countries that use
  them, an IBAN (country format and mod-97 check digits, by schwifty) of the
  BIC's country or of the one whose IBANs its territory uses (Jersey's
  banks have GB IBANs; schwifty's registry knows which).

Each refusal is VALIDATION_ERROR (422) naming the field by its JSON path
(`beneficiary.routingNumber`; the transport shows gRPC callers the proto
name), with safe facts in metadata (length, country, what was wrong, the
masked number), never the value itself.

Decisions where seed 002 is silent (it prints an ACH beneficiary only):
- A field that the chosen rail does not use (an IBAN on ACH, a routing
  number on an international wire) is refused rather than ignored, so that a
  request meant for another rail never moves money on this one.
- An empty `bankCountry` means US on the domestic rails and the BIC's
  country on INTERNATIONAL_WIRE. A bank in another country than the source
  account's requires INTERNATIONAL_WIRE; an international wire from a US
  account to a US bank is refused too (a domestic WIRE does that, cheaper).
- An IBAN is required when the BIC's country has an IBAN format in the
  official registry; it then stands for the account number when that is
  left empty. To other countries the account number is 4-34 letters and
  digits.
- `accountType` is required for ACH (an ACH entry names checking or
  savings), optional for wires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schwifty import BIC, IBAN, exceptions, registry

from server.domain import errors
from server.domain.external import ACH, DOMESTIC_RAILS, INTERNATIONAL_WIRE, RAILS
from server.domain.masking import mask_account_number

NAME_LENGTH_MAX = 140
BANK_NAME_LENGTH_MAX = 140
ADDRESS_LENGTH_MAX = 255
US_ACCOUNT_NUMBER_DIGITS_MIN = 4
US_ACCOUNT_NUMBER_DIGITS_MAX = 17
FOREIGN_ACCOUNT_NUMBER_LENGTH_MIN = 4
FOREIGN_ACCOUNT_NUMBER_LENGTH_MAX = 34
ACCOUNT_TYPES = frozenset({"CHECKING", "SAVINGS"})
HOME_COUNTRY = "US"

_ROUTING_NUMBER_RE = re.compile(r"[0-9]{9}")
_ABA_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)
_ABA_PREFIXES = frozenset(range(13)) | frozenset(range(21, 33)) | frozenset(range(61, 73))
_ABA_ACH_ONLY_PREFIXES = frozenset(range(61, 73))
_US_ACCOUNT_NUMBER_RE = re.compile(r"[0-9]+")
_FOREIGN_ACCOUNT_NUMBER_RE = re.compile(r"[0-9A-Za-z]+")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")

# JSON paths of the request's beneficiary fields, as seed 002 spells them.
FIELD_NAME = "beneficiary.name"
FIELD_ACCOUNT_NUMBER = "beneficiary.accountNumber"
FIELD_ROUTING_NUMBER = "beneficiary.routingNumber"
FIELD_BANK_NAME = "beneficiary.bankName"
FIELD_ACCOUNT_TYPE = "beneficiary.accountType"
FIELD_BANK_COUNTRY = "beneficiary.bankCountry"
FIELD_SWIFT_CODE = "beneficiary.swiftCode"
FIELD_IBAN = "beneficiary.iban"
FIELD_ADDRESS = "beneficiary.address"

_SCHWIFTY_PROBLEMS: tuple[tuple[type[exceptions.SchwiftyException], str], ...] = (
    (exceptions.InvalidChecksumDigits, "checksum"),
    (exceptions.InvalidLength, "length"),
    (exceptions.InvalidCountryCode, "country"),
)


@dataclass(frozen=True, slots=True)
class BeneficiaryInput:
    """The beneficiary as the request gives it (empty string = not given)."""

    name: str
    account_number: str = ""
    routing_number: str = ""
    bank_name: str = ""
    account_type: str = ""
    bank_country: str = ""
    swift_code: str = ""
    iban: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """A beneficiary checked for `rail`, its identifiers in canonical form.

    `account_number` holds the IBAN when the IBAN replaced it. The unmasked
    numbers are for the network and for encrypted storage only; responses
    show `masked_account_number` and `masked_iban`.
    """

    rail: str
    name: str
    account_number: str
    routing_number: str
    bank_name: str
    account_type: str
    bank_country: str
    swift_code: str
    iban: str
    address: str

    @property
    def masked_account_number(self) -> str:
        return mask_account_number(self.account_number)

    @property
    def masked_iban(self) -> str:
        return mask_account_number(self.iban)


def is_valid_routing_number(value: str) -> bool:
    """True for 9 digits with an assigned prefix and a good 3-7-1 check digit."""
    if not _ROUTING_NUMBER_RE.fullmatch(value) or int(value[:2]) not in _ABA_PREFIXES:
        return False
    checksum = sum(int(digit) * weight for digit, weight in zip(value, _ABA_WEIGHTS, strict=True))
    # All zeros passes the checksum and the government prefix, but names no bank.
    return checksum % 10 == 0 and value != "000000000"


def validate_routing_number(value: str, rail: str) -> str:
    """The routing number of a domestic transfer, or VALIDATION_ERROR on it."""
    number = value.strip()
    facts = {"length": str(len(number)), "rail": rail}
    if not number:
        raise errors.ValidationFailed(
            f"A routing number is required for {rail}", field=FIELD_ROUTING_NUMBER, metadata=facts
        )
    if not _ROUTING_NUMBER_RE.fullmatch(number):
        raise errors.ValidationFailed(
            "A routing number is 9 digits",
            field=FIELD_ROUTING_NUMBER,
            metadata={**facts, "problem": "format"},
        )
    if not is_valid_routing_number(number):
        raise errors.ValidationFailed(
            "The routing number is not a valid ABA routing number (check digit or prefix)",
            field=FIELD_ROUTING_NUMBER,
            metadata={**facts, "problem": "checksum"},
        )
    if rail != ACH and int(number[:2]) in _ABA_ACH_ONLY_PREFIXES:
        raise errors.ValidationFailed(
            f"The routing number is for ACH only and cannot receive a {rail}",
            field=FIELD_ROUTING_NUMBER,
            metadata={**facts, "problem": "ach_only"},
        )
    return number


def validate_swift_code(value: str) -> BIC:
    """The BIC of the receiving bank, in the SWIFT network's format."""
    code = value.strip().upper()
    facts = {"length": str(len(code))}
    if not code:
        raise errors.ValidationFailed(
            "A SWIFT code is required for INTERNATIONAL_WIRE", field=FIELD_SWIFT_CODE
        )
    try:
        # SWIFT still refuses digits in the bank code (BIC policy 2023),
        # which ISO 9362:2022 would allow; the wire travels on SWIFT.
        return BIC(code, enforce_swift_compliance=True)
    except exceptions.SchwiftyException as error:
        problem = _problem(error)
        raise errors.ValidationFailed(
            f"The SWIFT code is not a valid BIC ({problem})",
            field=FIELD_SWIFT_CODE,
            metadata={**facts, "problem": problem},
        ) from None


def validate_iban(value: str) -> IBAN:
    """An IBAN with a known country format and good mod-97 check digits."""
    compact = re.sub(r"\s", "", value).upper()
    facts = {
        "length": str(len(compact)),
        "country": compact[:2],
        "iban": mask_account_number(compact),
    }
    try:
        # validate_bban=False: the national check digits add little to
        # mod-97, and schwifty only warns where it lacks their algorithm.
        return IBAN(compact)
    except exceptions.SchwiftyException as error:
        problem = _problem(error)
        raise errors.ValidationFailed(
            f"The IBAN is not valid ({problem})",
            field=FIELD_IBAN,
            metadata={**facts, "problem": problem},
        ) from None


def _problem(error: exceptions.SchwiftyException) -> str:
    for kind, word in _SCHWIFTY_PROBLEMS:
        if isinstance(error, kind):
            return word
    return "format"


def iban_country_of(bank_country: str) -> str | None:
    """The country code the IBANs of `bank_country` start with, if it uses IBANs.

    None when the country has no IBAN or only an aspirational one (reserved,
    not in the official registry, which banks may refuse).
    """
    try:
        spec = registry.get_iban_spec(bank_country)
    except exceptions.InvalidCountryCode:
        return None
    if spec.aspirational:
        return None
    return spec.iban_spec[:2]


def validate_beneficiary(
    given: BeneficiaryInput, rail: str, *, account_country: str = HOME_COUNTRY
) -> Beneficiary:
    """The beneficiary checked for `rail` (see the module docstring), or VALIDATION_ERROR.

    `account_country` is the source account's country: a bank in another
    country requires INTERNATIONAL_WIRE.
    """
    assert rail in RAILS, rail
    name = _text(given.name, FIELD_NAME, NAME_LENGTH_MAX, required=True)
    bank_name = _text(given.bank_name, FIELD_BANK_NAME, BANK_NAME_LENGTH_MAX)
    address = _text(given.address, FIELD_ADDRESS, ADDRESS_LENGTH_MAX)
    account_type = _account_type(given.account_type, rail)
    bank_country = given.bank_country.strip().upper()
    if bank_country and not _COUNTRY_RE.fullmatch(bank_country):
        raise errors.ValidationFailed(
            "bankCountry is an ISO 3166-1 alpha-2 code",
            field=FIELD_BANK_COUNTRY,
            metadata={"length": str(len(bank_country))},
        )
    common = {
        "name": name,
        "bank_name": bank_name,
        "address": address,
        "account_type": account_type,
    }
    if rail in DOMESTIC_RAILS:
        return _domestic(
            given,
            rail,
            bank_country=bank_country or HOME_COUNTRY,
            account_country=account_country,
            common=common,
        )
    return _international(
        given, bank_country=bank_country, account_country=account_country, common=common
    )


def _domestic(
    given: BeneficiaryInput,
    rail: str,
    *,
    bank_country: str,
    account_country: str,
    common: dict[str, str],
) -> Beneficiary:
    _refuse_unused(rail, ((given.swift_code, FIELD_SWIFT_CODE), (given.iban, FIELD_IBAN)))
    if bank_country != HOME_COUNTRY:
        raise errors.ValidationFailed(
            f"{rail} reaches banks in {HOME_COUNTRY} only; use INTERNATIONAL_WIRE",
            field=FIELD_BANK_COUNTRY,
            metadata={"rail": rail, "bank_country": bank_country, "rail_country": HOME_COUNTRY},
        )
    _require_international_if_abroad(rail, bank_country, account_country)
    routing_number = validate_routing_number(given.routing_number, rail)
    account_number = _account_number(given.account_number.strip(), rail)
    return Beneficiary(
        rail=rail,
        account_number=account_number,
        routing_number=routing_number,
        bank_country=bank_country,
        swift_code="",
        iban="",
        **common,
    )


def _international(
    given: BeneficiaryInput,
    *,
    bank_country: str,
    account_country: str,
    common: dict[str, str],
) -> Beneficiary:
    rail = INTERNATIONAL_WIRE
    _refuse_unused(rail, ((given.routing_number, FIELD_ROUTING_NUMBER),))
    bic = validate_swift_code(given.swift_code)
    if bank_country and bank_country != bic.country_code:
        raise errors.ValidationFailed(
            "bankCountry is not the country of the SWIFT code",
            field=FIELD_BANK_COUNTRY,
            metadata={"bank_country": bank_country, "swift_country": bic.country_code},
        )
    bank_country = bic.country_code
    if bank_country == account_country == HOME_COUNTRY:
        raise errors.ValidationFailed(
            f"A bank in {HOME_COUNTRY} is reached by WIRE, not INTERNATIONAL_WIRE",
            field="rail",
            metadata={"rail": rail, "bank_country": bank_country},
        )
    iban = _international_iban(given.iban, bank_country)
    account_number = _account_number(given.account_number.strip() or iban, rail)
    return Beneficiary(
        rail=rail,
        account_number=account_number,
        routing_number="",
        bank_country=bank_country,
        swift_code=str(bic),
        iban=iban,
        **common,
    )


def _account_number(number: str, rail: str) -> str:
    """A US account number (domestic rails) or an account number abroad."""
    if rail in DOMESTIC_RAILS:
        pattern, shape = _US_ACCOUNT_NUMBER_RE, "digits"
        length_min, length_max = US_ACCOUNT_NUMBER_DIGITS_MIN, US_ACCOUNT_NUMBER_DIGITS_MAX
    else:
        pattern, shape = _FOREIGN_ACCOUNT_NUMBER_RE, "letters and digits"
        length_min = FOREIGN_ACCOUNT_NUMBER_LENGTH_MIN
        length_max = FOREIGN_ACCOUNT_NUMBER_LENGTH_MAX
    if pattern.fullmatch(number) and length_min <= len(number) <= length_max:
        return number
    raise errors.ValidationFailed(
        f"The account number for {rail} is {length_min} to {length_max} {shape}",
        field=FIELD_ACCOUNT_NUMBER,
        metadata={
            "length": str(len(number)),
            "account_number": mask_account_number(number),
            "rail": rail,
        },
    )


def _international_iban(value: str, bank_country: str) -> str:
    """The IBAN, checked against the BIC's country; "" where none is used."""
    expected = iban_country_of(bank_country)
    if not value.strip():
        if expected is not None:
            raise errors.ValidationFailed(
                f"An IBAN is required for banks in {bank_country}",
                field=FIELD_IBAN,
                metadata={"bank_country": bank_country},
            )
        return ""
    iban = validate_iban(value)
    if iban.country_code not in {bank_country, expected}:
        raise errors.ValidationFailed(
            "The IBAN's country is not the SWIFT code's",
            field=FIELD_IBAN,
            metadata={"iban_country": iban.country_code, "swift_country": bank_country},
        )
    return str(iban)


def _require_international_if_abroad(rail: str, bank_country: str, account_country: str) -> None:
    if bank_country != account_country:
        raise errors.ValidationFailed(
            f"A bank outside {account_country} requires INTERNATIONAL_WIRE",
            field="rail",
            metadata={
                "rail": rail,
                "bank_country": bank_country,
                "account_country": account_country,
            },
        )


def _refuse_unused(rail: str, fields: tuple[tuple[str, str], ...]) -> None:
    for value, field in fields:
        if value.strip():
            raise errors.ValidationFailed(
                f"{field} is not used by {rail}", field=field, metadata={"rail": rail}
            )


def _account_type(value: str, rail: str) -> str:
    if value and value not in ACCOUNT_TYPES:
        raise errors.ValidationFailed(
            f"Unknown account type {value}",
            field=FIELD_ACCOUNT_TYPE,
            metadata={"account_type": value},
        )
    if not value and rail == ACH:
        raise errors.ValidationFailed(
            "accountType (CHECKING or SAVINGS) is required for ACH",
            field=FIELD_ACCOUNT_TYPE,
            metadata={"rail": rail},
        )
    return value


def _text(value: str, field: str, length_max: int, *, required: bool = False) -> str:
    text = value.strip()
    if required and not text:
        raise errors.ValidationFailed(f"{field} is required", field=field)
    if len(text) > length_max:
        raise errors.ValidationFailed(
            f"{field} is at most {length_max} characters",
            field=field,
            metadata={"length": str(len(text)), "length_max": str(length_max)},
        )
    return text
