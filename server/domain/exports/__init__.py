"""Files an account's statement is written to: csv, xlsx, pdf, ofx and qbo.

Each writer module has `write(header, lines) -> Iterator[bytes]`: pure (no
I/O but its own temporary file for xlsx), fed a StatementHeader and the
lines as an iterable that is read once, front to back, so a statement of
any length flows through without being held (pdf is the exception: see
pdf_file). `formats.FORMATS` names each format's content type and file
extension. The money helpers below turn minor units into exact decimals
(never floats).
"""

from __future__ import annotations

from decimal import Decimal

from server.domain.money import exponent

CHUNK_BYTES = 64 * 1024  # what a writer yields at a time, about
# The most lines one PDF holds (pdf_file: fpdf2 builds the file in memory).
PDF_LINES_MAX = 20_000


def amount(minor: int, currency: str) -> Decimal:
    """`-1250` USD -> Decimal('-12.50'): exact, with the currency's decimals."""
    return Decimal(minor).scaleb(-exponent(currency))


def amount_text(minor: int, currency: str) -> str:
    """`-1250` USD -> `-12.50` (plain, no thousands separator, no exponent)."""
    return f"{amount(minor, currency):f}"


_CONTROL = dict.fromkeys([*range(9), 11, 12, *range(14, 32)])


def printable(value: str) -> str:
    """`value` without the control characters XML cannot hold (xlsx, ofx)."""
    return value.translate(_CONTROL)
