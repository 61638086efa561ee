"""A statement as OFX (Open Financial Exchange) and QBO (QuickBooks Web Connect).

Written with ofxtools' models: a bank statement response (STMTRS) with
BANKACCTFROM (BANKID = BANK_ID, the sandbox bank's routing number, and
ACCTID = the account id without its `acc_` prefix, 20 characters, as OFX
allows at most 22: the masked number identifies nothing, and the full
number never leaves the bank), BANKTRANLIST with one STMTTRN
per line (TRNTYPE from the transaction type and the direction, DTPOSTED,
TRNAMT signed, FITID = the transaction id, unique and stable, so a re-import
skips what it already has; NAME = the counterparty or the description, cut
to OFX's 32 characters; MEMO = the description; REFNUM = the transaction
number) and LEDGERBAL = the closing balance as of the period's end.

`.ofx` is OFX 2.2 (XML with its processing instructions); `.qbo` is the
OFX 1.02 form (SGML header, closed tags) QuickBooks reads, with
`<INTU.BID>` after `<FI>` in SONRS: the bank id Intuit assigns a bank
(INTU_BID, a placeholder until the bank has one; QuickBooks Desktop
refuses ids it does not know).

Streaming: ofxtools builds an element tree in memory, so the envelope is
built with an empty transaction list and split where the list closes, and
each STMTTRN is built and serialized by ofxtools on its own and spliced in:
memory holds one transaction at a time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta

from ofxtools.header import OFXHeaderV1, OFXHeaderV2
from ofxtools.models import (
    BANKACCTFROM,
    BANKMSGSRSV1,
    BANKTRANLIST,
    FI,
    LEDGERBAL,
    SIGNONMSGSRSV1,
    SONRS,
    STATUS,
    STMTRS,
    STMTTRN,
    STMTTRNRS,
)
from ofxtools.models.ofx import OFX

from server.domain.exports import CHUNK_BYTES, amount, printable
from server.domain.statements import StatementHeader, StatementLine

BANK_ID = "999999999"  # the sandbox bank's routing number (not a real one)
FI_ORG = "Banking Back Office"
FI_FID = "99999"
INTU_BID = "99999"

# Our account types -> OFX ACCTTYPE.
ACCOUNT_TYPES = {"CHECKING": "CHECKING", "SAVINGS": "SAVINGS", "MONEY_MARKET": "MONEYMRKT"}
# Our transaction types -> OFX TRNTYPE (None: CREDIT or DEBIT by direction).
TRANSACTION_TYPES: dict[str, str | None] = {
    "DEPOSIT": "DEP",
    "WITHDRAWAL": "CASH",
    "TRANSFER": "XFER",
    "EXTERNAL_TRANSFER": "XFER",
    "PAYMENT": "PAYMENT",
    "FEE": "FEE",
    "INTEREST": "INT",
}
_LIST_END = "</BANKTRANLIST>"


def acct_id(account_id: str) -> str:
    """ACCTID: the account id without its prefix (OFX: at most 22 characters)."""
    return account_id.removeprefix("acc_")[:22]


def transaction_type(line: StatementLine) -> str:
    mapped = TRANSACTION_TYPES.get(line.type)
    if mapped is not None:
        return mapped
    return "CREDIT" if line.amount_minor > 0 else "DEBIT"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _period_end(head: StatementHeader) -> datetime:
    return _utc(datetime.combine(head.period_end + timedelta(days=1), time.min))


def _envelope(head: StatementHeader, intu_bid: str | None) -> tuple[str, str]:
    """The document around the transactions: (before them, after them)."""
    ok = STATUS(code=0, severity="INFO")
    sonrs = SONRS(
        status=ok,
        dtserver=_utc(head.generated_at),
        language="ENG",
        fi=FI(org=FI_ORG, fid=FI_FID),
    )
    statement = STMTRS(
        curdef=head.currency,
        bankacctfrom=BANKACCTFROM(
            bankid=BANK_ID,
            acctid=acct_id(head.account_id),
            accttype=ACCOUNT_TYPES.get(head.account_type, "CHECKING"),
        ),
        banktranlist=BANKTRANLIST(
            dtstart=_utc(datetime.combine(head.period_start, time.min)),
            dtend=_period_end(head),
        ),
        ledgerbal=LEDGERBAL(
            balamt=amount(head.closing_balance_minor, head.currency),
            dtasof=_period_end(head),
        ),
    )
    document = OFX(
        signonmsgsrsv1=SIGNONMSGSRSV1(sonrs=sonrs),
        bankmsgsrsv1=BANKMSGSRSV1(STMTTRNRS(trnuid="0", status=ok, stmtrs=statement)),
    )
    text = ET.tostring(document.to_etree(), encoding="unicode")
    if intu_bid is not None:
        text = text.replace("</FI>", f"</FI><INTU.BID>{intu_bid}</INTU.BID>", 1)
    before, after = text.split(_LIST_END, 1)
    return before, _LIST_END + after


def _transaction(line: StatementLine, currency: str) -> str:
    description = printable(line.description)
    name = (printable(line.counterparty) or description or line.type)[:32]
    element = STMTTRN(
        trntype=transaction_type(line),
        dtposted=_utc(line.posted_at),
        trnamt=amount(line.amount_minor, currency),
        fitid=line.transaction_id,
        refnum=line.reference[:32] or None,
        name=name or None,
        memo=description[:255] or None,
    )
    return ET.tostring(element.to_etree(), encoding="unicode")


def _write(
    head: StatementHeader, lines: Iterable[StatementLine], version: int, intu_bid: str | None
) -> Iterator[bytes]:
    before, after = _envelope(head, intu_bid)
    if version < 200:
        # OFX 1.x: ENCODING:UNICODE with CHARSET:NONE is UTF-8.
        header = str(OFXHeaderV1(version, encoding="UNICODE", charset="NONE"))
    else:
        header = str(OFXHeaderV2(version))
    pieces = [header, before]
    size = sum(map(len, pieces))
    for line in lines:
        piece = _transaction(line, head.currency)
        pieces.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield "".join(pieces).encode("utf-8")
            pieces, size = [], 0
    pieces.append(after)
    yield "".join(pieces).encode("utf-8")


def write(head: StatementHeader, lines: Iterable[StatementLine]) -> Iterator[bytes]:
    """OFX 2.2 (XML)."""
    return _write(head, lines, 220, None)


def write_qbo(head: StatementHeader, lines: Iterable[StatementLine]) -> Iterator[bytes]:
    """QBO: OFX 1.02 with INTU.BID, as QuickBooks Web Connect reads it."""
    return _write(head, lines, 102, INTU_BID)
