"""The ledger read at an instant, through the real server: the trial balance
(LedgerService) and GetAccountBalance as_of, over REST via Envoy and gRPC,
on both databases. The figures are checked against the postings read
straight from the database and replayed here."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import ledger_service_pb2 as pb
from backoffice.v1 import ledger_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import deposit, open_account, query, transfer
from tests.common.principals import (
    CUSTOMER_SCOPES,
    STAFF_SCOPES,
    Caller,
    create_user,
    user_caller,
)
from tests.conftest import Rest

StatusCode = grpc.StatusCode


def _stamp(value: Any) -> datetime:
    """A posting's created_at as the database returns it, naive UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def _proto(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.replace(tzinfo=UTC))
    return stamp


@pytest.fixture(scope="module")
def people(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[dict[str, Caller]]:
    made = {
        "alice": (create_user(rest, "CUSTOMER", "Alice Ledger"), CUSTOMER_SCOPES),
        "bob": (create_user(rest, "CUSTOMER", "Bob Ledger"), CUSTOMER_SCOPES),
        "teller": (create_user(rest, "TELLER"), STAFF_SCOPES),
        "ops": (create_user(rest, "OPERATIONS"), STAFF_SCOPES),
        "auditor": (create_user(rest, "AUDITOR"), STAFF_SCOPES),
    }
    callers = {
        name: user_caller(stack, raw_channel, name, user_id, scopes)
        for name, (user_id, scopes) in made.items()
    }
    try:
        yield callers
    finally:
        for one in callers.values():
            one.close()


@pytest.fixture(scope="module")
def moved(rest: Rest, people: dict[str, Caller]) -> dict[str, Any]:
    """Two accounts of Alice with deposits and transfers a few ms apart."""
    alice = people["alice"].user_id
    assert alice is not None
    checking = open_account(rest, owner=alice, funded=300)
    savings = open_account(rest, owner=alice, type_="SAVINGS")
    for amount in (10, 20.05):
        time.sleep(0.02)
        envelope.success(transfer(rest, checking, savings, amount), 201)
    time.sleep(0.02)
    deposit(rest, savings, 7.5)
    time.sleep(0.02)
    envelope.success(transfer(rest, savings, checking, 1.25), 201)
    return {"checking": checking, "savings": savings}


def _postings(stack: Stack, account_id: str) -> list[tuple[datetime, int, int]]:
    rows = query(
        stack,
        "SELECT created_at, amount_minor, balance_after_minor FROM postings"
        " WHERE account_id = %s ORDER BY created_at, id",
        (account_id,),
    )
    return [(_stamp(at), int(amount), int(after)) for at, amount, after in rows]


def _instants(postings: list[tuple[datetime, int, int]]) -> list[datetime]:
    """Before the first posting, at each, between each two, and after the last."""
    times = sorted({at for at, _, _ in postings})
    found = [times[0] - timedelta(seconds=1)]
    for earlier, later in itertools.pairwise(times):
        found += [earlier, earlier + (later - earlier) / 2]
    found.append(times[-1])
    return found


def _replay(postings: list[tuple[datetime, int, int]], instant: datetime) -> int:
    return sum(amount for at, amount, _ in postings if at <= instant)


# -- Balance as of an instant -------------------------------------------------------------
def test_balance_as_of_replays_the_postings(
    stack: Stack, rest: Rest, grpc_channel: grpc.Channel, moved: dict[str, Any]
) -> None:
    stub = account_grpc.AccountServiceStub(grpc_channel)
    for account_id in (moved["checking"], moved["savings"]):
        postings = _postings(stack, account_id)
        assert len(postings) >= 3
        for instant in _instants(postings):
            expected = _replay(postings, instant) / 100
            response = rest.get(
                f"/v1/accounts/{account_id}/balance", params={"asOf": _rfc3339(instant)}
            )
            shown = envelope.success(response)["balance"]
            assert shown["balance"] == expected, instant
            assert _parse(shown["asOf"]) == instant
            assert shown["pendingDebits"] == 0 and shown["pendingCredits"] == 0
            assert shown["heldAmount"] == 0
            reply = stub.GetAccountBalance(
                account_pb.GetAccountBalanceRequest(account_id=account_id, as_of=_proto(instant)),
                timeout=30,
            )
            assert reply.balance.balance == expected
            assert reply.balance.as_of.ToDatetime() == instant
    now = envelope.success(rest.get(f"/v1/accounts/{moved['checking']}/balance"))["balance"]
    latest = _postings(stack, moved["checking"])[-1][2] / 100
    assert now["balance"] == latest


def test_balance_as_of_shows_the_holds_then(
    stack: Stack, rest: Rest, moved: dict[str, Any]
) -> None:
    account_id = open_account(rest, owner=moved_owner(stack, moved["checking"]))
    held = deposit(rest, account_id, 40, method="CHECK")
    assert held["holdId"]
    after = _postings(stack, account_id)[-1][0]
    shown = envelope.success(
        rest.get(f"/v1/accounts/{account_id}/balance", params={"asOf": _rfc3339(after)})
    )["balance"]
    assert shown["balance"] == 40 and shown["heldAmount"] == 40
    assert shown["availableBalance"] == 0
    before = after - timedelta(microseconds=1)
    shown = envelope.success(
        rest.get(f"/v1/accounts/{account_id}/balance", params={"asOf": _rfc3339(before)})
    )["balance"]
    assert shown["balance"] == 0 and shown["heldAmount"] == 0


def moved_owner(stack: Stack, account_id: str) -> str:
    return str(query(stack, "SELECT owner_id FROM accounts WHERE id = %s", (account_id,))[0][0])


def test_balance_as_of_refusals(
    rest: Rest, people: dict[str, Caller], moved: dict[str, Any]
) -> None:
    future = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=3650)
    path = f"/v1/accounts/{moved['checking']}/balance"
    envelope.error(
        rest.get(path, params={"asOf": _rfc3339(future)}), 422, "VALIDATION_ERROR", "asOf"
    )
    envelope.error(
        people["alice"].rest.get(path, params={"asOf": _rfc3339(future)}),
        422,
        "VALIDATION_ERROR",
        "asOf",
    )
    past = {"asOf": "2020-01-01T00:00:00Z"}
    envelope.error(people["bob"].rest.get(path, params=past), 404, "NOT_FOUND")
    envelope.error(rest.get("/v1/accounts/acc_unknown0000/balance", params=past), 404, "NOT_FOUND")
    envelope.error(rest.get(path, params={"asOf": "yesterday"}), 400, "INVALID_REQUEST")
    mine = envelope.success(people["alice"].rest.get(path, params=past))["balance"]
    assert mine["balance"] == 0
    stub = account_grpc.AccountServiceStub(people["alice"].channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetAccountBalance(
            account_pb.GetAccountBalanceRequest(account_id=moved["checking"], as_of=_proto(future)),
            timeout=30,
        )
    envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")


# -- Trial balance ------------------------------------------------------------------------
def _check_balanced(trial: dict[str, Any]) -> None:
    assert trial["balanced"] is True
    assert trial["totals"]
    for total in trial["totals"]:
        lines = [line for line in trial["lines"] if line["currency"] == total["currency"]]
        debits = sum(round(line["debit"] * 100) for line in lines)
        credits = sum(round(line["credit"] * 100) for line in lines)
        assert debits == credits == round(total["totalDebits"] * 100), total
        assert round(total["totalCredits"] * 100) == credits
        assert total["difference"] == 0
        assert sum(round(line["net"] * 100) for line in lines) == 0
        for line in lines:
            assert line["debit"] == 0 or line["credit"] == 0, line


def _expected_groups(stack: Stack, instant: datetime) -> dict[tuple[str, str], int]:
    rows = query(
        stack,
        "SELECT a.kind, a.type, a.code, p.currency, SUM(p.amount_minor) FROM postings p"
        " JOIN accounts a ON a.id = p.account_id WHERE p.created_at <= %s"
        " GROUP BY a.kind, a.type, a.code, p.currency",
        (instant.isoformat(sep=" "),),
    )
    expected: dict[tuple[str, str], int] = {}
    for kind, type_, code, currency, net in rows:
        key = f"CUSTOMER_{type_}" if kind == "CUSTOMER" else str(code).split(":")[0]
        expected[(key, currency)] = expected.get((key, currency), 0) + int(net)
    return expected


def test_trial_balance_balances_at_every_instant(
    stack: Stack, rest: Rest, grpc_channel: grpc.Channel, moved: dict[str, Any]
) -> None:
    stub = pb_grpc.LedgerServiceStub(grpc_channel)
    instants = _instants(_postings(stack, moved["checking"]) + _postings(stack, moved["savings"]))
    for instant in instants:
        trial = envelope.success(
            rest.get("/v1/ledger/trial-balance", params={"asOf": _rfc3339(instant)})
        )["trialBalance"]
        _check_balanced(trial)
        shown = {
            (line["code"], line["currency"]): round(line["net"] * 100) for line in trial["lines"]
        }
        assert shown == _expected_groups(stack, instant)
        reply = stub.GetTrialBalance(pb.GetTrialBalanceRequest(as_of=_proto(instant)), timeout=30)
        assert reply.trial_balance.balanced
        assert reply.trial_balance.as_of.ToDatetime() == instant
        assert {
            (line.code, line.currency): round(line.net * 100) for line in reply.trial_balance.lines
        } == shown
    # The movements between two instants show in the customer lines.
    first, last = instants[1], instants[-1]
    before = _expected_groups(stack, first)
    after = _expected_groups(stack, last)
    assert after != before


def test_trial_balance_lines_and_currency_filter(rest: Rest, moved: dict[str, Any]) -> None:
    trial = envelope.success(rest.get("/v1/ledger/trial-balance"))["trialBalance"]
    _check_balanced(trial)
    assert "currency" not in trial
    codes = {line["code"] for line in trial["lines"] if line["currency"] == "USD"}
    assert {"CUSTOMER_CHECKING", "CUSTOMER_SAVINGS", "CASH_VAULT", "OPENING_EQUITY"} <= codes
    for line in trial["lines"]:
        if line["kind"] == "CUSTOMER_DEPOSITS":
            assert "accountId" not in line
            assert line["code"] == "CUSTOMER_" + line["accountType"]
            assert line["accountCount"] >= 1
        else:
            assert line["kind"] == "BANK" and line["accountId"].startswith("acc_")
            assert "accountType" not in line and line["accountCount"] == 1
            assert ":" not in line["code"]
    vault = next(
        line
        for line in trial["lines"]
        if line["code"] == "CASH_VAULT" and line["currency"] == "USD"
    )
    assert vault["debit"] > 0 and vault["credit"] == 0  # cash in hand: a debit balance
    usd = envelope.success(rest.get("/v1/ledger/trial-balance", params={"currency": "usd"}))[
        "trialBalance"
    ]
    assert usd["currency"] == "USD"
    assert {line["currency"] for line in usd["lines"]} == {"USD"}
    assert [t["currency"] for t in usd["totals"]] == ["USD"]
    _check_balanced(usd)
    yen = envelope.success(rest.get("/v1/ledger/trial-balance", params={"currency": "JPY"}))
    assert {line["currency"] for line in yen["trialBalance"].get("lines", [])} <= {"JPY"}
    assert yen["trialBalance"]["balanced"] is True


def test_trial_balance_is_for_staff_who_read_the_books(
    rest: Rest, people: dict[str, Caller]
) -> None:
    for name in ("ops", "auditor"):
        trial = envelope.success(people[name].rest.get("/v1/ledger/trial-balance"))
        _check_balanced(trial["trialBalance"])
    for name in ("alice", "teller"):
        envelope.error(people[name].rest.get("/v1/ledger/trial-balance"), 403, "FORBIDDEN")
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.LedgerServiceStub(people[name].channel).GetTrialBalance(
                pb.GetTrialBalanceRequest(), timeout=30
            )
        envelope.grpc_error(caught.value, StatusCode.PERMISSION_DENIED, "FORBIDDEN")


def test_trial_balance_refusals(rest: Rest, grpc_channel: grpc.Channel) -> None:
    future = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=3650)
    envelope.error(
        rest.get("/v1/ledger/trial-balance", params={"asOf": _rfc3339(future)}),
        422,
        "VALIDATION_ERROR",
        "asOf",
    )
    envelope.error(
        rest.get("/v1/ledger/trial-balance", params={"currency": "XXX"}),
        422,
        "VALIDATION_ERROR",
        "currency",
    )
    with pytest.raises(grpc.RpcError) as caught:
        pb_grpc.LedgerServiceStub(grpc_channel).GetTrialBalance(
            pb.GetTrialBalanceRequest(as_of=_proto(future)), timeout=30
        )
    info = envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "as_of"
    empty = envelope.success(
        rest.get("/v1/ledger/trial-balance", params={"asOf": "2001-01-01T00:00:00Z"})
    )["trialBalance"]
    assert empty.get("lines", []) == [] and empty.get("totals", []) == []
    assert empty["balanced"] is True


def test_trial_balance_balances_while_money_moves(rest: Rest, moved: dict[str, Any]) -> None:
    """Read while transfers commit: each read is one snapshot, and a journal
    transaction's postings share their instant, so no read sees half of one."""
    stop = threading.Event()
    errors: list[str] = []

    def move() -> None:
        while not stop.is_set():
            response = transfer(rest, moved["checking"], moved["savings"], 0.01)
            if response.status_code != 201:
                errors.append(response.text)
                return

    movers = [threading.Thread(target=move) for _ in range(3)]
    for mover in movers:
        mover.start()
    try:
        for _ in range(15):
            trial = envelope.success(
                rest.get("/v1/ledger/trial-balance", params={"currency": "USD"})
            )
            _check_balanced(trial["trialBalance"])
    finally:
        stop.set()
        for mover in movers:
            mover.join()
    assert not errors, errors[:1]
