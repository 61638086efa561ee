"""What only an EXTERNAL_TRANSFER shows: its beneficiary (masked), rail,
purpose and estimated completion.

The beneficiary's account number and IBAN are shown as their last four
characters (`****3210`) to every reader, the transfer's creator included;
the routing number is never shown (the bank name and country say which bank).
Fields the transfer does not have are left unset, so that neither REST nor
gRPC shows an empty string or an `*_UNSPECIFIED` enum.
"""

from __future__ import annotations

from backoffice.v1 import transaction_pb2 as tpb
from server.api.convert import timestamp
from server.domain.masking import mask_account_number
from server.store import external_rows
from server.store.external_rows import ExternalFacts


def add_facts(message: tpb.Transaction, facts: ExternalFacts) -> tpb.Transaction:
    """Sets the external transfer's own fields on its Transaction message."""
    message.beneficiary.CopyFrom(_beneficiary(facts))
    message.rail = facts.rail  # type: ignore[assignment]
    if facts.purpose:
        message.purpose = facts.purpose  # type: ignore[assignment]
    estimated = timestamp(facts.estimated_completion)
    assert estimated is not None
    message.estimated_completion.CopyFrom(estimated)
    message.counterparty = facts.beneficiary_name
    return message


def add_stored_facts(message: tpb.Transaction) -> None:
    """`add_facts` for a transaction read back (GetTransaction)."""
    facts = external_rows.facts(message.id)
    if facts is not None:
        add_facts(message, facts)


def _beneficiary(facts: ExternalFacts) -> tpb.Beneficiary:
    shown = tpb.Beneficiary(
        name=facts.beneficiary_name,
        account_number=mask_account_number(facts.account_number_last4),
        bank_country=facts.bank_country,
        bank_name=facts.bank_name,
        swift_code=facts.swift_code,
        address=facts.address,
    )
    if facts.account_type:
        shown.account_type = facts.account_type  # type: ignore[assignment]
    if facts.iban_last4:
        shown.iban = mask_account_number(facts.iban_last4)
    return shown
