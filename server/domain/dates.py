"""Strict parsing of the calendar values clients send: `YYYY-MM-DD` days,
`YYYY-MM` months and RFC 3339 instants.

Python's `fromisoformat` accepts far more than the API documents (ISO week
dates `2026-W01-1`, basic forms `20261201`, signed or non-ASCII digits
through `int`); a value is checked against the documented shape first, so
anything else is a VALIDATION_ERROR naming its field, never a silent
reading of something the client did not mean.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from server.domain import errors

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
VALUE_ECHO_MAX = 40


def _refused(what: str, field: str, value: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        f"{field} must be {what}", field=field, metadata={"value": value[:VALUE_ECHO_MAX]}
    )


def parse_day(text: str, field: str) -> date:
    """`YYYY-MM-DD`, a real calendar day."""
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise _refused("a date YYYY-MM-DD", field, text)


def parse_month(text: str, field: str) -> date:
    """`YYYY-MM`: the month's first day."""
    if _MONTH.fullmatch(text):
        try:
            return date(int(text[:4]), int(text[5:]), 1)
        except ValueError:
            pass
    raise _refused("a month YYYY-MM", field, text)


def parse_instant(text: str, field: str) -> datetime:
    """An RFC 3339 timestamp with its offset, as naive UTC."""
    if _INSTANT.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
            return moment.astimezone(UTC).replace(tzinfo=None)
        except ValueError:
            pass
    raise _refused("an RFC 3339 timestamp such as 2026-11-30T23:59:59Z", field, text)


def parse_day_or_instant(text: str, field: str) -> date:
    """`YYYY-MM-DD`, or an RFC 3339 timestamp's UTC day."""
    if len(text) == 10:
        return parse_day(text, field)
    if _INSTANT.fullmatch(text):
        return parse_instant(text, field).date()
    raise _refused("a date YYYY-MM-DD", field, text)
