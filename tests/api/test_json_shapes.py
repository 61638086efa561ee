"""The JSON value kinds Envoy reports are checked against each field's shape
(server.api.validation): a list holds an array, a single value never does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backoffice.v1 import transaction_service_pb2  # noqa: F401 (registers the service)
from server.api import call, validation
from server.domain import errors

TRANSFER = "/backoffice.v1.TransactionService/CreateTransfer"
BATCH = "/backoffice.v1.TransactionService/BatchCreateTransfers"


@pytest.fixture(autouse=True)
def _call() -> Iterator[None]:
    token = call.begin(TRANSFER, "req-shapes")
    try:
        yield
    finally:
        call.end(token)


@pytest.mark.parametrize(
    ("method", "header", "field"),
    [
        (BATCH, "requests=o", "requests"),
        (BATCH, "requests=o,requests.amount=n", "requests"),
        (TRANSFER, "fromAccountId=s,description=a,description=s", "description"),
        (TRANSFER, "amount=a,amount=n", "amount"),
    ],
)
def test_wrong_shapes_are_refused_naming_the_field(method: str, header: str, field: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        validation._check_json(method, "*", header)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("method", "header"),
    [
        (BATCH, "requests=a"),
        (BATCH, "requests=a,requests=o,requests.amount=n"),
        (BATCH, "requests=z"),
        (TRANSFER, "description=s,amount=n,amount=d"),
        (TRANSFER, "description=z"),
    ],
)
def test_right_shapes_pass(method: str, header: str) -> None:
    validation._check_json(method, "*", header)
