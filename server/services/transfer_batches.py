"""Immediate transfers posted together: one transaction, one commit, many transfers.

`post_transfers` runs a list of immediate transfers in ONE database
transaction, in order; each is checked on its own and a refused one writes
nothing and does not stop the others (its result is the error). Two ways:
- PostgreSQL with the stored function (server.store.transfer_function): the
  whole list is one round trip, the function locking every account of the
  list first, in sorted id order, then checking each transfer on its own
  (a refusal ends its item before it writes anything). When the function
  hands an item back (a case only the Python path handles), what it did is
  rolled back to a savepoint and the whole list goes through the Python
  path instead, in order; so does a list where the function refused an item
  the domain's rules would not (logged at ERROR: the differential test is
  there to keep it from happening).
- Otherwise (SQLite, or the function switched off) the Python path
  (server.services.transfers.post), each item in a savepoint. On PostgreSQL
  every account of the list is locked first, in sorted id order, so two
  lists never wait for each other in a cycle.

The batch API (BatchCreateTransfers) and the micro-batcher of single
transfers (server.services.transfer_queue) call it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from server.domain import errors
from server.services import transfers
from server.services.context import Movement, Posted, RequestContext
from server.services.transfers import Checked, TransferInput
from server.store import clock, ledger, transfer_function, tx
from server.store.db import database, is_postgres

log = logging.getLogger(__name__)

Item = tuple[TransferInput, RequestContext]
Result = Movement | errors.BankError

BATCH_ITEMS_MAX = 1_000  # the batch API's limit


def post_transfers(items: Sequence[Item]) -> list[Result]:
    """Posts immediate transfers in one transaction; one result per item, in order."""
    results: list[Result | None] = [None] * len(items)
    work: list[tuple[int, TransferInput, Checked, RequestContext]] = []
    for index, (request, context) in enumerate(items):
        try:
            if not transfers.is_immediate(request):
                raise errors.ValidationFailed(
                    "A transfer of a batch is posted now: scheduling is not available here",
                    field="scheduled",
                )
            work.append((index, request, transfers.check_request(request, context), context))
        except errors.BankError as error:
            results[index] = error
    if work:
        posted = tx.write(lambda: _post(work))
        for (index, *_), outcome in zip(work, posted, strict=True):
            results[index] = outcome.movement() if isinstance(outcome, Posted) else outcome
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def _post(
    work: Sequence[tuple[int, TransferInput, Checked, RequestContext]],
) -> list[Posted | errors.BankError]:
    """Inside the transaction: each item's Posted or refusal, in order."""
    if transfer_function.available():
        return _through_function(work)
    if is_postgres() and len(work) > 1:
        ledger.lock_accounts(_account_ids(work))
    return [_python(request, checked, context) for _, request, checked, context in work]


def _account_ids(work: Sequence[tuple[int, TransferInput, Checked, RequestContext]]) -> list[str]:
    return [
        account_id for _, _, checked, _ in work for account_id in (checked.from_id, checked.to_id)
    ]


def _python(
    request: TransferInput, checked: Checked, context: RequestContext
) -> Posted | errors.BankError:
    try:
        return tx.write(lambda: transfers.post(request, checked, context))
    except errors.BankError as error:
        return error


def _item(
    request: TransferInput, checked: Checked, context: RequestContext
) -> transfer_function.FunctionItem:
    principal = context.principal
    return transfer_function.FunctionItem(
        from_account_id=checked.from_id,
        to_account_id=checked.to_id,
        amount=request.amount,
        currency=request.currency,
        description=checked.description,
        reference=checked.reference,
        client_id=principal.client_id,
        viewer=transfer_function.FunctionItem.viewer_of(principal),
        can_write=_can_write(context),
        metadata=context.metadata(),
    )


def _can_write(context: RequestContext) -> bool:
    try:
        context.principal.require_write()
    except errors.Forbidden:
        return False
    return True


def _through_function(
    work: Sequence[tuple[int, TransferInput, Checked, RequestContext]],
) -> list[Posted | errors.BankError]:
    items = [_item(request, checked, context) for _, request, checked, context in work]
    with database.atomic() as savepoint:
        try:
            outcomes = transfer_function.post_transfers(items, clock.now())
        except AssertionError:
            # The function refused an item the domain's rules would not (a
            # drift tests/differential exists to catch): the Python path is the
            # reference, and one item's disagreement must not fail the others.
            log.exception("bank_post_transfers disagrees with the domain; the Python path posts")
            outcomes = [transfer_function.Fallback("disagreement")]
        if not any(isinstance(outcome, transfer_function.Fallback) for outcome in outcomes):
            return outcomes  # type: ignore[return-value]
        # An item only the Python path handles: the whole list goes that way,
        # in order, after undoing what the function did (its locks too, so
        # they are taken again at once, in sorted order).
        savepoint.rollback()
        ledger.lock_accounts(
            account_id
            for item in items
            for account_id in (item.from_account_id, item.to_account_id)
        )
        return [_python(request, checked, context) for _, request, checked, context in work]
