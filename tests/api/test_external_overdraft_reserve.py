"""An external transfer's overdraft fee must stay within the overdraft line.

Found by the fault test (`make chaos`): acceptance checks that amount, fee
and the 35.00 overdraft fee the debit would cost fit in the available
balance, but reserves only amount and fee (pending debits). The overdraft
fee, charged at submission, is then free for other debits to spend, and
when the transfers post, their fees take the balance below minus the line.

Now the overdraft fee the debit will cost is reserved with it
(movements.RESERVED_OVERDRAFT_FEE_KEY), and submission or a cancel releases
all of it.
"""

from __future__ import annotations

from server.run import Stack
from tests.common import envelope
from tests.common.external import created, money, send, settle
from tests.common.money import assert_ledger_consistent, balance, open_account
from tests.conftest import Rest


def test_two_pending_external_transfers_never_take_the_balance_below_the_overdraft_line(
    rest: Rest, stack: Stack
) -> None:
    source = open_account(rest, type_="BUSINESS", overdraft=500)  # balance 0, floor -500
    first = created(rest, source, 400)  # 400 + its 35.00 overdraft fee fit in 500
    # The fee is reserved with the amount: 65.00 is left, not 100.00.
    assert money(rest, source) == (0, 65, 435)
    # 64 + its own overdraft fee (99) no longer fits; before, it was accepted
    # and the two fees took the balance to -534.00.
    refused = send(rest, source, 64)
    assert envelope.error(refused, 422, "TXN001")
    last = created(rest, source, 30)  # 30 + 35 = 65: exactly what is left
    assert settle(rest, first)["status"] == "COMPLETED"
    assert settle(rest, last)["status"] == "COMPLETED"
    assert balance(rest, source) == -500  # 400 + 30 and two 35.00 fees
    assert money(rest, source)[2] == 0  # every reservation released, no more
    assert_ledger_consistent(stack)


def test_cancelling_releases_the_reserved_overdraft_fee_too(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, type_="CHECKING", overdraft=500)
    pending = created(rest, source, 100)
    assert money(rest, source) == (0, 365, 135)
    cancelled = rest.post(f"/v1/transactions/{pending['id']}/cancel", json={})
    answer = envelope.success(cancelled)
    # The refund amount is what the customer is spared: amount and fee, not the
    # overdraft fee that was only reserved.
    assert answer["status"] == "CANCELLED" and answer["refundAmount"] == 100
    assert money(rest, source) == (0, 500, 0)
    assert_ledger_consistent(stack)
