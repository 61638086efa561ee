"""Single immediate transfers on PostgreSQL, posted together by the micro-batcher.

Each CreateTransfer on PostgreSQL that posts now (with or without an
Idempotency-Key) is `submit`ted here. Outside a transaction, the process's
micro-batcher (server.services.batcher) gathers concurrent ones into one
database transaction: the keys of the keyed ones are claimed together
(`idempotency.claim_many`, in sorted order), the transfers whose key this
transaction now holds (and the unkeyed ones) are posted by
`transfer_batches.post_transfers`, and each key's outcome is stored beside
its transfer; then one COMMIT. Every caller is answered after that commit,
never before. Each transfer is screened for fraud before it posts (`submit`
screens a single one before queueing it; a batch's items are screened once
their keys are held): a declined one is refused, one sent to review is held
PENDING_REVIEW outside the batch. A key another request holds comes back `Held`: the caller reads
that request's outcome once this transaction has ended, exactly as a single
keyed request does (server.api.idempotency). Inside a transaction (a
recurring run posting its transfer) the transfer runs there, alone.

A key's outcome is the policy of server.api.idempotency: a posted transfer
keeps its answer, a refusal answered 404, 409 or 422 keeps that refusal, any
other refusal gives the key up so a corrected retry can use it.

SQLite takes no batching: its single writer commits in microseconds and the
Python path stays its only one.

Knobs (settings, per process): BANK_TRANSFER_BATCH_WAIT_MS (how long a
transfer may wait for batch-mates while batches are running, default 2),
BANK_TRANSFER_BATCH_MAX (largest batch, default 64; 1 turns batching off),
BANK_TRANSFER_BATCH_CONCURRENCY (batches running at once per process,
default 1). The defaults are measured (`make bench`, 16 callers, 2 server
processes on 2 cores): one batch at a time per process spent the least
database CPU per transfer (1.17 ms against 1.60 ms unbatched) at the best
throughput and p99; a longer wait bought nothing.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.domain import errors, risk
from server.domain.audit import OUTCOME_OK
from server.domain.audit_drafts import AuditDraft
from server.domain.principal import Principal
from server.domain.risk import Decision
from server.services import transfer_batches, transfers
from server.services.batcher import Knobs, MicroBatcher
from server.services.context import Movement, RequestContext
from server.services.screening import Outcome as ScreeningOutcome
from server.services.transfers import TransferInput, is_immediate
from server.store import audit as audit_log
from server.store import clock, tx
from server.store import idempotency as keys
from server.store.db import database, is_postgres


@dataclass(frozen=True)
class Answer:
    """What a key keeps for a posted transfer: the answer as the API sends it."""

    body: bytes  # the serialized response
    http_status: int
    message: str
    response: object  # the response message itself, for the caller


@dataclass(frozen=True)
class KeyUse:
    """An Idempotency-Key a transfer comes with, and how its answer is made."""

    claim: keys.Claim
    # Made in the batch, possibly on another call's thread: it is given the
    # principal of the transfer's own caller.
    answer: Callable[[Movement, Principal], Answer]


@dataclass(frozen=True)
class Item:
    request: TransferInput
    context: RequestContext
    key: KeyUse | None = None
    # Fraud screening's outcome; None: not screened yet (screened in the batch).
    screening: ScreeningOutcome | None = None


@dataclass(frozen=True)
class Done:
    movement: Movement
    answer: Answer | None  # None: no key


@dataclass(frozen=True)
class Held:
    """Another request holds the key: read its outcome once this transaction ended."""


Outcome = Done | Held | errors.BankError


def takes(request: TransferInput) -> bool:
    """True when `submit` posts this transfer (PostgreSQL, posted now)."""
    return is_postgres() and is_immediate(request)


def submit(item: Item) -> Done | Held:
    """Posts `item` (batched with concurrent ones when it can be); a refusal raises.

    Screened first, on the caller's thread, before it is queued: a declined
    transfer raises RISK_DECLINED (with a key, once the key keeps that
    refusal), one held for review is held in a transaction of its own (with
    its key) and never joins a batch."""
    if item.screening is None:
        try:
            decided = transfers.screen(item.request, item.context)
        except errors.RiskDeclined as declined:
            if item.key is None:
                raise
            decided = ScreeningOutcome(Decision(risk.DECLINE), None, refusal=declined)
        item = dataclasses.replace(item, screening=decided, context=decided.marked(item.context))
    assert item.screening is not None
    if (
        database.in_transaction()
        or _batching.knobs.max_items <= 1
        or item.screening.decision.action != risk.ALLOW
    ):
        outcome = post([item])[0]
    else:
        outcome = batcher().submit(item)
    if isinstance(outcome, errors.BankError):
        raise outcome
    return outcome


def post(items: Sequence[Item]) -> list[Outcome]:
    """The items in one transaction, keys and all; one outcome per item, in order.

    Outside a transaction, the audit events of the items' calls (those that
    carry an `AuditDraft`) are appended in it too, last, so that they commit
    with the transfers (server.domain.audit_drafts); each draft is marked
    written, with its outcome, once that commit is done."""
    if database.in_transaction():
        return _post(items)  # the caller's transaction: its calls audit themselves
    written: list[tuple[AuditDraft, str]] = []

    def work() -> list[Outcome]:
        written.clear()
        outcomes = _post(items)
        written.extend(_audit(items, outcomes))
        return outcomes

    outcomes = tx.write(work)
    for draft, outcome in written:
        draft.written = outcome
    return outcomes


def _audit(items: Sequence[Item], outcomes: Sequence[Outcome]) -> list[tuple[AuditDraft, str]]:
    """Appends the audit events of the items whose outcome is known here (a
    `Held` one reads its outcome later); what it appended."""
    now = audit_log.now()
    drafts: list[tuple[AuditDraft, str]] = []
    entries = []
    for item, outcome in zip(items, outcomes, strict=True):
        draft = item.context.audit
        if draft is None or isinstance(outcome, Held):
            continue
        made: tuple[tuple[str, str], ...] = ()
        if isinstance(outcome, errors.BankError):
            code = outcome.reason
        else:
            code, made = OUTCOME_OK, (("transaction.id", outcome.movement.transaction.id),)
        entries.append(draft.entry(code, made, now))
        drafts.append((draft, code))
    if not entries or not audit_log.append_within(entries):
        return []
    return drafts


def _post(items: Sequence[Item]) -> list[Outcome]:
    outcomes, again = _post_once(items)
    if again:
        # The same key twice in one batch, and the first gave it up (a refusal
        # no key keeps): the others run now, as they would have once a
        # transaction holding the key had ended.
        for index, outcome in zip(again, _post([items[i] for i in again]), strict=True):
            outcomes[index] = outcome
    return outcomes


Pair = tuple[keys.Owner, str]  # a key and its owner


def _post_once(items: Sequence[Item]) -> tuple[list[Outcome], list[int]]:
    """One pass: the outcomes, and the items to run again (their key was given up)."""
    # Two requests with one key may share a batch: the first holds it, the
    # other waits for its outcome as it would behind another transaction.
    claims = {
        (item.key.claim.owner, item.key.claim.key): item.key.claim
        for item in reversed(items)
        if item.key is not None
    }
    held = keys.claim_many(list(claims.values()), clock.now(sandbox=False))
    outcomes: list[Outcome | None] = [None] * len(items)
    fresh: list[int] = []
    behind: dict[Pair, list[int]] = {}  # the same-batch duplicates of each held key
    for index, item in enumerate(items):
        pair = (item.key.claim.owner, item.key.claim.key) if item.key is not None else None
        if pair is None:
            fresh.append(index)
        elif pair not in held:
            outcomes[index] = Held()
        elif pair in behind:
            behind[pair].append(index)
            outcomes[index] = Held()
        else:
            behind[pair] = []
            fresh.append(index)
    results, contexts = _screened(items, fresh)
    allowed = [index for index in fresh if index not in results]
    posted = transfer_batches.post_transfers(
        [(items[index].request, contexts[index]) for index in allowed]
    )
    results.update(zip(allowed, posted, strict=True))
    released = [
        pair
        for index in fresh
        if (pair := _settle(items[index], results[index], outcomes, index)) is not None
    ]
    again = sorted(index for pair in released for index in behind.get(pair, []))
    assert all(outcome is not None for outcome in outcomes)
    return outcomes, again  # type: ignore[return-value]


def _screened(
    items: Sequence[Item], fresh: list[int]
) -> tuple[dict[int, Movement | errors.BankError], dict[int, RequestContext]]:
    """Screens the items not screened yet (a batch's, once their keys are held,
    so a replayed key is never screened again): the results of those that do
    not join the batch (declined: RISK_DECLINED, or held for review), and the
    context each item is written with (its decision in the metadata)."""
    results: dict[int, Movement | errors.BankError] = {}
    contexts: dict[int, RequestContext] = {}
    # By source account (in request order within one): every batch takes the
    # velocity counters' row locks in the same order, so two never deadlock.
    for index in sorted(fresh, key=lambda index: (items[index].request.from_account_id, index)):
        item = items[index]
        contexts[index] = item.context
        try:
            outcome = item.screening
            if outcome is None:
                outcome = transfers.screen(item.request, item.context)
                contexts[index] = outcome.marked(item.context)
            if outcome.refusal is not None:
                results[index] = outcome.refusal
            elif outcome.decision.action == risk.REVIEW:
                results[index] = _hold(dataclasses.replace(item, context=contexts[index]), outcome)
        except errors.BankError as error:
            results[index] = error
    return results, contexts


def _hold(item: Item, outcome: ScreeningOutcome) -> Movement:
    """The transfer held for review, in a savepoint of the batch's transaction."""
    from server.services import risk_reviews  # noqa: PLC0415 (it builds on transfers)

    checked = transfers.check_request(item.request, item.context)
    return tx.write(
        lambda: risk_reviews.hold_transfer(item.request, checked, item.context, outcome)
    ).movement()


def _settle(
    item: Item, result: Movement | errors.BankError, outcomes: list[Outcome | None], index: int
) -> Pair | None:
    """Records `item`'s outcome and its key's; the key when it was given up."""
    use = item.key
    if isinstance(result, errors.BankError):
        outcomes[index] = result
        if use is None:
            return None
        claim = use.claim
        if keys.kept(result):
            keys.fail(claim.owner, claim.key, result)
            return None
        keys.release(claim.owner, claim.key)
        return (claim.owner, claim.key)
    answer = use.answer(result, item.context.principal) if use is not None else None
    if use is not None and answer is not None:
        claim = use.claim
        keys.complete(claim.owner, claim.key, answer.body, answer.http_status, answer.message)
    outcomes[index] = Done(result, answer)
    return None


# -- the process's micro-batcher ------------------------------------------------------------
class _Batching:
    """The process's batcher, made on first use with the knobs of `configure`."""

    def __init__(self) -> None:
        self.knobs = Knobs()
        self.batcher: MicroBatcher[Item, Outcome] | None = None
        self.lock = threading.Lock()


_batching = _Batching()


def configure(knobs: Knobs) -> None:
    """Sets the knobs (server start)."""
    with _batching.lock:
        _batching.knobs, _batching.batcher = knobs, None


def batcher() -> MicroBatcher[Item, Outcome]:
    with _batching.lock:
        if _batching.batcher is None:
            _batching.batcher = MicroBatcher(_batch, _batching.knobs)
        return _batching.batcher


def _batch(items: Sequence[Item]) -> list[Outcome]:
    """A batch, on whichever call's thread leads it: with a clock reading of its own,
    taken as it starts (after each of its transfers arrived), not the leader's."""
    with clock.call_scope():
        return post(items)
