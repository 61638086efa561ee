"""Small proto <-> domain conversions shared by the servicers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from server.domain import dates, errors

_EPOCH = datetime(1970, 1, 1)


def timestamp(value: datetime | None) -> Timestamp | None:
    """A Timestamp from a naive-UTC datetime (None stays None)."""
    if value is None:
        return None
    # Timestamp.FromDatetime does the same in several times the time.
    since = (value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)) - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1_000)


def instant(request: Message, name: str, field: str) -> datetime | None:
    """Timestamp field `name` of `request` as a naive-UTC datetime (unset gives None).

    One no datetime can hold (nanos outside 0..999,999,999, a year outside
    1..9999), as a query string can write it, is refused (422, `field`).
    """
    if not request.HasField(name):
        return None
    value: Timestamp = getattr(request, name)
    try:
        return value.ToDatetime()
    except (ValueError, OverflowError) as error:
        raise errors.ValidationFailed(f"{field} is not a valid timestamp", field=field) from error


def parse_date(value: str, field: str) -> date | None:
    """`YYYY-MM-DD` (or an RFC 3339 timestamp's date); empty gives None."""
    if not value:
        return None
    return dates.parse_day_or_instant(value.strip(), field)


def alias(primary: str, secondary: str, field: str) -> str:
    """One value from a field and its documented alias; conflicting values refused."""
    if primary and secondary and primary != secondary:
        raise errors.ValidationFailed(f"{field} was given twice with different values", field=field)
    return primary or secondary
