"""Pure rules of strict requests (server.domain.requests)."""

from __future__ import annotations

import pytest

from server.domain import errors, requests


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "x\x1f", "\x0b", "\x0c"])
def test_control_characters(text: str) -> None:
    assert requests.has_control_character(text)


@pytest.mark.parametrize("text", ["", "plain", "tab\tnew\nline\r", "jürgen €", "\x7f"])
def test_text_without_control_characters(text: str) -> None:
    assert not requests.has_control_character(text)


@pytest.mark.parametrize("text", ["0", "5", "-5", "16.50", "0.01", "-0.5", "1000000"])
def test_plain_decimals(text: str) -> None:
    assert requests.PLAIN_DECIMAL_RE.match(text)


@pytest.mark.parametrize("text", ["0x10", "+5", ".5", "5.", "1e3", " 5", "05", "NaN", "", "-"])
def test_not_plain_decimals(text: str) -> None:
    assert not requests.PLAIN_DECIMAL_RE.match(text)


@pytest.mark.parametrize(
    ("snake", "camel"),
    [
        ("page_token", "pageToken"),
        ("amount", "amount"),
        ("address.postal_code", "address.postalCode"),
        ("per_transaction_internal_transfer_max", "perTransactionInternalTransferMax"),
        ("address_line1", "addressLine1"),
    ],
)
def test_camel_and_snake(snake: str, camel: str) -> None:
    assert requests.camel(snake) == camel
    assert requests.camel(camel) == camel
    assert requests.snake(camel) == snake
    assert requests.snake(snake) == snake


def test_json_fields_header() -> None:
    fields = requests.parse_json_fields("amount=n,filters.types=a,filters.types=s,a%2Eb=z")
    assert [(f.name, sorted(f.kinds)) for f in fields] == [
        ("amount", ["n"]),
        ("filters.types", ["a", "s"]),
        ("a.b", ["z"]),
    ]
    assert requests.parse_json_fields("") == []
    for broken in ("amount", "amount=q", "=n"):
        with pytest.raises(errors.InvalidRequest):
            requests.parse_json_fields(broken)


def test_query_names() -> None:
    assert requests.query_names("/v1/a?accountId=1&x&page+size=2&&b=%3D") == [
        "accountId",
        "x",
        "page size",
        "b",
    ]
    assert requests.query_names("/v1/a") == []


def test_path_templates() -> None:
    template = requests.path_template("/v1/accounts/{account_id}/close")
    assert template.variables == ("account_id",)
    assert template.matches("/v1/accounts/acc_1/close?x=1")
    assert not template.matches("/v1/accounts/acc_1/freeze")
    assert not template.matches("/v1/accounts/a/b/close")
    verb = requests.path_template("/v1/sandbox/clock:advance")
    assert verb.variables == () and verb.matches("/v1/sandbox/clock:advance")
    assert not verb.matches("/v1/sandbox/clockXadvance")


def test_number_text_refusals() -> None:
    assert isinstance(requests.refuse_number_text("amount", money=True), errors.InvalidAmount)
    refusal = requests.refuse_number_text("days", money=False)
    assert isinstance(refusal, errors.InvalidRequest) and refusal.field == "days"
