"""The proto conversions the servicers share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from server.api.convert import timestamp


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 22, 8, 30, 1, 123456),
        datetime(1969, 12, 31, 23, 59, 59, 500000),  # before the epoch: nanos stay positive
        datetime(1, 1, 1),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    ],
)
def test_timestamp_is_what_protobuf_makes_of_the_same_moment(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    assert timestamp(value) == expected


def test_no_time_stays_unset() -> None:
    assert timestamp(None) is None
