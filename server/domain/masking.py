"""PII masking for responses."""

from __future__ import annotations


def mask_account_number(number: str) -> str:
    """`1234567890` -> `****7890`."""
    return f"****{number[-4:]}" if number else ""


def mask_tail(value: str, keep: int = 4, mask: str = "*") -> str:
    """Masks all but the last `keep` characters, keeping separators."""
    if not value:
        return ""
    visible = 0
    out = []
    for char in reversed(value):
        if char.isalnum():
            out.append(char if visible < keep else mask)
            visible += 1
        else:
            out.append(char)
    return "".join(reversed(out))
