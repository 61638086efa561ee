"""JSON with exact money: Decimal in, Decimal out, never float.

The API prints money as JSON numbers in major units (`500.00`). Reading with
`parse_float=Decimal` keeps every digit; writing prints a Decimal as a plain
JSON number. A float anywhere in a request body is refused: binary floating
point cannot hold most cent amounts exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> bytes:
    """Compact JSON, the same bytes for the same value (so a retry sends them again)."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not sent: pass money as decimal.Decimal (or str or int)")
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def to_decimal(amount: Decimal | int | str) -> Decimal:
    """An amount as Decimal; floats are refused (see the module docstring)."""
    if isinstance(amount, bool | float):
        raise TypeError("pass money as decimal.Decimal, int or str, never float")
    value = amount if isinstance(amount, Decimal) else Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    return value
