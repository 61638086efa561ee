"""A person's fields: what each may hold and its stored form (email, name,
password, phone, date of birth, tax id, postal address). Plain rules, no I/O;
shared by users and payees. Field errors name the request field in
snake_case (`date_of_birth`, `address.line1`).

Emails are ASCII only (no internationalised addresses yet): trimmed,
lower-cased, one `@`, an RFC 5322 dot-atom local part and a DNS domain with
a letter TLD.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.domain import errors

EMAIL_LENGTH_MAX = 254
EMAIL_LOCAL_LENGTH_MAX = 64
NAME_LENGTH_MAX = 200
PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 128
# A local part shorter than this ("jo") appears inside too many good passwords
# to be refused on sight.
PASSWORD_LOCAL_PART_LENGTH_MIN = 3
PASSWORD_DISTINCT_CHARACTERS_MIN = 4
AGE_YEARS_MAX = 130
ADDRESS_LINE_LENGTH_MAX = 100
ADDRESS_CITY_LENGTH_MAX = 100
ADDRESS_STATE_LENGTH_MAX = 50
ADDRESS_POSTAL_CODE_LENGTH_MAX = 20

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


def bounded(value: str, field: str, length_max: int, *, required: bool) -> str:
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
    line1 = bounded(address.line1, "address.line1", ADDRESS_LINE_LENGTH_MAX, required=True)
    line2 = bounded(address.line2, "address.line2", ADDRESS_LINE_LENGTH_MAX, required=False)
    city = bounded(address.city, "address.city", ADDRESS_CITY_LENGTH_MAX, required=True)
    state = bounded(address.state, "address.state", ADDRESS_STATE_LENGTH_MAX, required=False)
    postal_code = bounded(
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
