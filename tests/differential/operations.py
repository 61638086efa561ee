"""What a differential example does: operations, and the strategies that draw them.

An operation names accounts by their fixed ids (tests.differential.world)
and carries the request as the wire gives it (a double amount, a currency
code as typed), so that bad input reaches the same checks on every path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from server.domain.movements import OVERDRAFT_FEE_MINOR
from tests.differential import world

T = TypeVar("T")


@dataclass(frozen=True)
class Transfer:
    """One CreateTransfer request by `actor` (a key of world.ACTORS)."""

    actor: str
    from_account_id: str
    to_account_id: str
    amount: float
    currency: str = ""
    description: str = ""
    reference: str = ""
    # Scheduled: "+N"/"-N" days from the sandbox clock's date, or a literal (bad) date.
    scheduled: str | None = None


@dataclass(frozen=True)
class Batch:
    """Several transfers posted together (one database transaction)."""

    items: tuple[Transfer, ...]


@dataclass(frozen=True)
class Keyed:
    """A transfer sent with an Idempotency-Key: executed once, replayed after."""

    key: str
    transfer: Transfer


@dataclass(frozen=True)
class KeyedBatch:
    """BatchCreateTransfers by `actor`: items with or without an idempotency key
    (the keys of CreateTransfer: a batch item and a Keyed request share them)."""

    actor: str
    items: tuple[tuple[str | None, Transfer], ...]


@dataclass(frozen=True)
class Replay:
    """The `index`-th keyed request of the example (modulo their count) sent again."""

    index: int


@dataclass(frozen=True)
class AdvanceClock:
    """Moves the sandbox clock `hours` on (0: to noon of the next month's first
    day); `sweep` then runs the work that became due, as AdvanceClock does."""

    hours: int
    sweep: bool


@dataclass(frozen=True)
class Deposit:
    """One CreateDeposit request by `actor`."""

    actor: str
    account_id: str
    amount: float
    method: str = "CASH"
    currency: str = ""
    location: str = ""
    reference: str = ""
    description: str = ""


@dataclass(frozen=True)
class Withdrawal:
    """One CreateWithdrawal request by `actor` (ATM and DEBIT_CARD with a card)."""

    actor: str
    account_id: str
    amount: float
    method: str = "BRANCH"
    currency: str = ""
    location: str = "Main St branch"
    location_country: str = ""
    card_number: str = ""
    pin: str = ""
    description: str = ""


Operation = Transfer | Batch | Keyed | KeyedBatch | Replay | AdvanceClock | Deposit | Withdrawal

# Amounts every account meets: round figures and a cent past them, the
# smallest amount, bad precision (too many decimals; any in yen), zero,
# negative, too large, not finite. Each source adds its own (`_edges_of`).
EDGE_AMOUNTS = (
    0.01,
    1.0,
    20.0,
    40.0,
    60.0,
    99.99,
    100.0,
    165.0,
    200.0,
    265.0,
    265.01,
    300.0,
    300.01,
    500.0,
    1000.0,
    2500.0,
    10000.0,
    0.001,
    12.345,
    1.5,
    0.0,
    -5.0,
    1e13,
    float("nan"),
    float("inf"),
)
CUSTOMER_IDS = world.ACCOUNT_IDS
ANY_ID = st.sampled_from(CUSTOMER_IDS + world.OTHER_IDS)
SAME_CURRENCY = {
    seed.id: tuple(
        other.id
        for other in world.ACCOUNTS
        if other.currency == seed.currency and other.id != seed.id
    )
    for seed in world.ACCOUNTS
}
DESCRIPTIONS = ("", "Rent", "  Café ☕ share  ")
REFERENCES = ("", "REF-1")
KEYS = ("key-a", "key-b", "key-c", "key-d", "key-e")


def mostly(
    usual: st.SearchStrategy[T], rare: st.SearchStrategy[T], one_in: int = 10
) -> st.SearchStrategy[T]:
    """`rare` once in `one_in` draws, else `usual`: requests are mostly well
    formed, so that sequences get past the first checks and reach funds,
    limits and fees."""
    return st.integers(1, one_in).flatmap(lambda n: rare if n == one_in else usual)


def _edges_of(seed: world.AccountSeed) -> tuple[float, ...]:
    """Amounts at the source's own edges: its balance, its balance plus its
    overdraft line less the fee (the largest debit that pays the fee), its
    limits and half of them (two such debits meet the limit)."""
    scale = 1 if seed.currency == "JPY" else 100
    minors = {
        seed.balance_minor,
        seed.balance_minor + 1,
        seed.balance_minor + seed.overdraft_minor - OVERDRAFT_FEE_MINOR,
        seed.balance_minor + seed.overdraft_minor - OVERDRAFT_FEE_MINOR + 1,
        seed.balance_minor - seed.held_minor,
    }
    for _, limit_minor in seed.overrides:
        minors |= {limit_minor, limit_minor + 1, limit_minor // 2}
    return tuple(sorted(minor / scale for minor in minors if minor > 0))


_CENTS = st.integers(min_value=1, max_value=40_000).map(lambda value: value / 100)
_YEN = st.integers(min_value=1, max_value=20_000).map(float)
_AMOUNTS = {
    seed.id: st.one_of(
        st.sampled_from(EDGE_AMOUNTS),
        st.sampled_from(_edges_of(seed)),
        _YEN if seed.currency == "JPY" else _CENTS,
        st.integers(1, 300).map(float),
    )
    for seed in world.ACCOUNTS
}
_EDGES = {seed.id: st.sampled_from(_edges_of(seed)) for seed in world.ACCOUNTS}
_ANY_AMOUNT = st.one_of(st.sampled_from(EDGE_AMOUNTS), _CENTS)
OWN_IDS = {
    actor: tuple(
        seed.id for seed in world.ACCOUNTS if principal.is_staff or seed.owner == principal.user_id
    )
    for actor, principal in world.ACTORS.items()
}
# Customers more often than staff; the auditor (refused at the end) least.
_ACTOR = st.sampled_from(("alice", "alice", "alice", "bob", "bob", "carol", "staff", "auditor"))
_SOURCE = {actor: mostly(st.sampled_from(ids), ANY_ID) for actor, ids in OWN_IDS.items()}
_DESTINATION = {
    source: mostly(st.sampled_from(others), ANY_ID) for source, others in SAME_CURRENCY.items()
}
CURRENCIES = ("USD", "usd", "EUR", "JPY", "XYZ")
_CURRENCY = mostly(st.just(""), st.sampled_from(CURRENCIES))
_DESCRIPTION = mostly(st.sampled_from(DESCRIPTIONS), st.just("x" * 256), one_in=20)
_REFERENCE = mostly(st.sampled_from(REFERENCES), st.just("r" * 36), one_in=20)
# Mostly immediate; some scheduled (tomorrow or later, today, yesterday,
# beyond the horizon, not a date).
_SCHEDULED = mostly(
    st.none(), st.sampled_from(("+1", "+1", "+2", "0", "-1", "+400", "soon")), one_in=12
)


@st.composite
def transfers(draw: st.DrawFn) -> Transfer:
    """Mostly from an account the actor holds (else most requests stop at TXN002)."""
    actor = draw(_ACTOR)
    source = draw(_SOURCE[actor])
    return Transfer(
        actor=actor,
        from_account_id=source,
        to_account_id=draw(_DESTINATION.get(source, ANY_ID)),
        amount=draw(_AMOUNTS.get(source, _ANY_AMOUNT)),
        currency=draw(_CURRENCY),
        description=draw(_DESCRIPTION),
        reference=draw(_REFERENCE),
        scheduled=draw(_SCHEDULED),
    )


@st.composite
def keyed_batches(draw: st.DrawFn) -> KeyedBatch:
    """One caller's batch; its items are posted now (a batch never schedules)."""
    actor = draw(_ACTOR)
    items = draw(st.lists(st.tuples(_ITEM_KEY, transfers()), min_size=1, max_size=5))
    return KeyedBatch(
        actor,
        tuple((key, dataclasses.replace(item, actor=actor, scheduled=None)) for key, item in items),
    )


_ITEM_KEY = st.one_of(st.none(), st.sampled_from(KEYS))


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of `choices`, each drawn in proportion to its weight."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda n: table[n])


_DEPOSIT_METHOD = mostly(
    st.sampled_from(("CASH", "CHECK", "MOBILE_CHECK", "MOBILE_CHECK", "WIRE", "DIRECT_DEPOSIT")),
    st.just("CRYPTO"),
    one_in=20,
)
_LOCATION = st.sampled_from(("", "Main St branch", "  Café ☕  "))


@st.composite
def deposits(draw: st.DrawFn) -> Deposit:
    """Mostly into an account the actor holds; customers deposit mobile checks only."""
    actor = draw(_ACTOR)
    target = draw(_SOURCE[actor])
    staff = world.ACTORS[actor].is_staff
    return Deposit(
        actor=actor,
        account_id=target,
        amount=draw(_AMOUNTS.get(target, _ANY_AMOUNT)),
        method=draw(_DEPOSIT_METHOD if staff else mostly(st.just("MOBILE_CHECK"), _DEPOSIT_METHOD)),
        currency=draw(_CURRENCY),
        location=draw(_LOCATION),
        reference=draw(_REFERENCE),
        description=draw(_DESCRIPTION),
    )


# Where a card is used: the bank's ATMs at home and abroad, another bank's,
# an unknown one of this bank (refused), and no location at all (refused).
_ATM_LOCATION = mostly(
    st.sampled_from((world.ATM_HOME, world.ATM_HOME, world.ATM_ABROAD, "Corner shop")),
    st.sampled_from(("ATM-DT-NOWHERE", "")),
)
_WITHDRAWAL_METHOD = st.sampled_from(
    ("BRANCH", "BRANCH", "BRANCH", "CHECK", "CHECK", "ATM", "ATM", "DEBIT_CARD")
)
_PIN = mostly(st.just(world.PIN), st.just("0000"), one_in=15)


@st.composite
def withdrawals(draw: st.DrawFn) -> Withdrawal:
    """Mostly cash at a branch or a bank check; some with the world's card."""
    actor = draw(_ACTOR)
    source = draw(_SOURCE[actor])
    method = draw(_WITHDRAWAL_METHOD)
    carded = method in ("ATM", "DEBIT_CARD")
    if carded and world.CARD_ACCOUNT in OWN_IDS[actor]:
        source = draw(mostly(st.just(world.CARD_ACCOUNT), st.just(source)))
    elif carded:
        method, carded = "BRANCH", False  # the card is Alice's
    location = draw(_ATM_LOCATION) if method == "ATM" else draw(_LOCATION)
    if method == "BRANCH":
        location = draw(mostly(st.just("Main St branch"), st.just("")))
    return Withdrawal(
        actor=actor,
        account_id=source,
        # Often at the account's own edges (its balance, overdraft line, limits).
        amount=draw(mostly(_AMOUNTS.get(source, _ANY_AMOUNT), _EDGES.get(source, _ANY_AMOUNT), 3)),
        method=method,
        currency=draw(_CURRENCY),
        location=location,
        card_number=world.CARD_NUMBER if carded else "",
        pin=draw(_PIN) if method == "ATM" else "",
        description=draw(_DESCRIPTION),
    )


def operations() -> st.SearchStrategy[Operation]:
    return weighted(
        (8, transfers()),
        (3, deposits()),
        (4, withdrawals()),
        (2, st.builds(Batch, items=st.lists(transfers(), min_size=2, max_size=6).map(tuple))),
        (3, st.builds(Keyed, key=st.sampled_from(KEYS), transfer=transfers())),
        (2, keyed_batches()),
        (2, st.builds(Replay, index=st.integers(min_value=0, max_value=5))),
        (2, st.builds(AdvanceClock, hours=st.sampled_from((6, 24, 0)), sweep=st.booleans())),
    )


def sequences() -> st.SearchStrategy[list[Operation]]:
    return st.lists(operations(), min_size=12, max_size=40)
