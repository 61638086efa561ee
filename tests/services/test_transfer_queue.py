"""Single transfers posted together with their Idempotency-Keys (server.services.transfer_queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee

from server.domain import errors
from server.domain.principal import ADMIN, AUDITOR, Principal
from server.services import transfer_queue, transfers
from server.services.context import Movement, RequestContext
from server.store import idempotency as keys
from server.store.bootstrap import ensure_internal_accounts
from server.store.models import Account, IdempotencyKey, LedgerTransaction
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="queue-client", role=ADMIN))
OWNER = keys.Owner("queue-client", "")
METHOD = "/backoffice.v1.TransactionService/CreateTransfer"


def _answer(result: Movement, creator: object = None) -> transfer_queue.Answer:
    body = f"posted {result.transaction.id}".encode()
    return transfer_queue.Answer(body, 201, "Transfer completed successfully", body)


def _item(
    source: str,
    destination: str,
    amount: float,
    key: str | None = None,
    *,
    body: str = "same",
    context: RequestContext = STAFF,
) -> transfer_queue.Item:
    request = transfers.TransferInput(
        from_account_id=source, to_account_id=destination, amount=amount
    )
    use = None
    if key is not None:
        owner = keys.Owner(context.principal.client_id, context.principal.user_id or "")
        use = transfer_queue.KeyUse(keys.Claim(owner, key, METHOD, body), _answer)
    return transfer_queue.Item(request, context, use)


def _balance(account_id: str) -> int:
    return int(Account.get_by_id(account_id).balance_minor)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _accounts(opening: int = 10_000) -> tuple[str, str]:
    ensure_internal_accounts()
    owner = rows.customer("Queue Owner")
    return rows.account(owner, opening), rows.account(owner, 0)


def test_a_keyed_transfer_keeps_its_answer_in_the_same_transaction(
    database: peewee.Database,
) -> None:
    a, b = _accounts()
    [done, plain] = transfer_queue.post([_item(a, b, 1.50, "k-fresh-1"), _item(a, b, 2.00)])
    assert isinstance(done, transfer_queue.Done) and done.answer is not None
    assert isinstance(plain, transfer_queue.Done) and plain.answer is None
    stored = keys.lookup(OWNER, "k-fresh-1", _now())
    assert stored is not None
    assert stored.response == done.answer.body == f"posted {done.movement.transaction.id}".encode()
    assert (stored.http_status, stored.message) == (201, "Transfer completed successfully")
    assert _balance(b) == 350


def test_one_key_twice_in_a_batch_moves_money_once(database: peewee.Database) -> None:
    a, b = _accounts()
    outcomes = transfer_queue.post(
        [_item(a, b, 1.00, "k-twice"), _item(a, b, 1.00, "k-twice"), _item(a, b, 1.00, "k-twice")]
    )
    assert isinstance(outcomes[0], transfer_queue.Done)
    assert all(isinstance(outcome, transfer_queue.Held) for outcome in outcomes[1:])
    assert _balance(b) == 100


def test_a_key_already_used_is_held_and_moves_nothing(database: peewee.Database) -> None:
    a, b = _accounts()
    [first] = transfer_queue.post([_item(a, b, 1.00, "k-used")])
    assert isinstance(first, transfer_queue.Done)
    [again] = transfer_queue.post([_item(a, b, 1.00, "k-used", body="other")])
    assert isinstance(again, transfer_queue.Held)
    stored = keys.lookup(OWNER, "k-used", _now())
    assert stored is not None and stored.request_hash == "same"  # the first body's
    assert _balance(b) == 100


def test_a_business_refusal_is_kept_and_a_forbidden_one_gives_the_key_up(
    database: peewee.Database,
) -> None:
    a, b = _accounts(opening=100)
    auditor = RequestContext(principal=Principal(client_id="queue-client", role=AUDITOR))
    refused, forbidden = transfer_queue.post(
        [_item(a, b, 5.00, "k-poor"), _item(a, b, 0.50, "k-auditor", context=auditor)]
    )
    assert isinstance(refused, errors.InsufficientFunds)
    assert isinstance(forbidden, errors.Forbidden)
    stored = keys.lookup(OWNER, "k-poor", _now())
    assert stored is not None and stored.error is not None
    assert stored.error.reason == refused.reason and stored.error.message == refused.message
    # 403 is not a key's outcome: the key is free again.
    assert keys.lookup(OWNER, "k-auditor", _now()) is None
    assert not IdempotencyKey.select().where(IdempotencyKey.key == "k-auditor").exists()
    assert (_balance(a), _balance(b)) == (100, 0)


def test_an_expired_key_is_claimed_again(database: peewee.Database) -> None:
    a, b = _accounts()
    [first] = transfer_queue.post([_item(a, b, 1.00, "k-old")])
    assert isinstance(first, transfer_queue.Done)
    IdempotencyKey.update(expires_at=_now() - timedelta(seconds=1)).where(
        IdempotencyKey.key == "k-old"
    ).execute()
    [second] = transfer_queue.post([_item(a, b, 1.00, "k-old")])
    assert isinstance(second, transfer_queue.Done)
    assert second.movement.transaction.id != first.movement.transaction.id
    assert _balance(b) == 200


def test_a_refused_batch_writes_no_key_and_no_money(database: peewee.Database) -> None:
    a, _ = _accounts()
    before = LedgerTransaction.select().count()
    [refused] = transfer_queue.post([_item(a, a, 1.00, "k-same-account")])
    assert isinstance(refused, errors.ValidationFailed)  # 422: kept
    stored = keys.lookup(OWNER, "k-same-account", _now())
    assert stored is not None and stored.error is not None
    assert LedgerTransaction.select().count() == before


def test_one_key_twice_in_a_batch_runs_again_when_the_first_gave_it_up(
    database: peewee.Database,
) -> None:
    a, b = _accounts()
    auditor = RequestContext(principal=Principal(client_id="queue-client", role=AUDITOR))
    first, second = transfer_queue.post(
        [
            _item(a, b, 0.50, "k-released", context=auditor),
            _item(a, b, 0.50, "k-released", context=auditor),
        ]
    )
    assert not IdempotencyKey.select().where(IdempotencyKey.key == "k-released").exists()
    # The second runs once the first has given the key up, as it would behind
    # another transaction: the same refusal, not an answer of a key in use.
    assert isinstance(first, errors.Forbidden) and isinstance(second, errors.Forbidden)
