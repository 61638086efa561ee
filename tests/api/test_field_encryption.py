"""Field-level encryption through the real server: what the raw database holds, rotation, logs."""

from __future__ import annotations

import json
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from backoffice.v1 import transaction_pb2
from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from backoffice.v1 import user_service_pb2 as user_pb
from backoffice.v1 import user_service_pb2_grpc as user_grpc
from server.config import REPO_ROOT
from server.domain.ids import new_id
from server.domain.movements import card_number_hash
from server.domain.passwords import hash_secret
from server.run import Stack, settings_env, wait_for_health
from tests.common import envelope, users
from tests.common.auth import authenticated
from tests.common.money import open_account
from tests.common.stack import free_ports
from tests.conftest import Rest

SEALED_RE = re.compile(r"^enc:v1:k[0-9]+:[A-Za-z0-9_\-]+$")


def _personal() -> dict[str, str]:
    """Unique phone, date of birth and tax id, so that a raw search finds only ours."""
    digits = f"{secrets.randbelow(10**9):09d}"
    month, day = secrets.randbelow(9) + 1, secrets.randbelow(9) + 10
    return {
        "phone": f"+1415{digits[:7]}",
        "dateOfBirth": f"19{secrets.randbelow(60) + 40}-0{month}-{day}",
        "taxId": f"{digits[:3]}-{digits[3:5]}-{digits[5:9]}",
    }


def _raw_users(stack: Stack) -> str:
    """Every phone, date of birth and tax id column as the database holds it."""
    rows = users.db_rows(stack, "SELECT phone, date_of_birth, tax_id FROM users")
    return "\n".join(str(value) for row in rows for value in row if value is not None)


def test_the_raw_database_holds_only_ciphertext(rest: Rest, stack: Stack) -> None:
    personal = _personal()
    user = users.create_rest(rest, **personal)
    stored = users.stored_user(stack, user["id"])
    for column in ("phone", "date_of_birth", "tax_id"):
        assert SEALED_RE.match(stored[column]), stored[column]
    assert stored["tax_id_last4"] == personal["taxId"][-4:]
    raw = _raw_users(stack)
    tax_digits = personal["taxId"].replace("-", "")
    for secret in (personal["phone"], personal["phone"][2:], personal["dateOfBirth"], tax_digits):
        assert secret not in raw
    # Read back through the API, opened and masked as user.proto says.
    data = envelope.success(rest.get(f"/v1/users/{user['id']}"))["user"]
    assert data["phone"] == personal["phone"]  # staff see it in full
    assert data["dateOfBirth"] == personal["dateOfBirth"]
    assert data["taxId"] == f"***-**-{tax_digits[-4:]}"  # nobody sees it in full
    listed = envelope.success(rest.get("/v1/users", params={"search": user["email"]}))["users"]
    assert [(u["phone"], u["dateOfBirth"]) for u in listed] == [
        (personal["phone"], personal["dateOfBirth"])
    ]


def test_updates_are_sealed_and_compared_opened(rest: Rest, stack: Stack) -> None:
    personal = _personal()
    user = users.create_rest(rest, **personal)
    again = _personal()
    changed = envelope.success(
        rest.patch(
            f"/v1/users/{user['id']}",
            json={
                "phone": again["phone"],
                "taxId": personal["taxId"],
                "dateOfBirth": again["dateOfBirth"],
            },
        )
    )["user"]
    assert (changed["phone"], changed["dateOfBirth"]) == (again["phone"], again["dateOfBirth"])
    events = users.outbox_events(stack, user["id"], "user.updated")
    # The same tax id is no change: the stored one was opened to compare.
    assert events[-1]["data"]["changed_fields"] == ["date_of_birth", "phone"]
    stored = users.stored_user(stack, user["id"])
    assert SEALED_RE.match(stored["phone"]) and again["phone"] not in stored["phone"]


def test_ciphertext_moved_to_another_user_does_not_open(rest: Rest, stack: Stack) -> None:
    source = users.create_rest(rest, **_personal())
    target_personal = _personal()
    target = users.create_rest(rest, **target_personal)
    original = users.stored_user(stack, target["id"])["phone"]
    moved = users.stored_user(stack, source["id"])["phone"]
    users.db_execute(stack, "UPDATE users SET phone = %s WHERE id = %s", (moved, target["id"]))
    try:
        response = rest.get(f"/v1/users/{target['id']}")
        error = envelope.error(response, 500, "INTERNAL")
        # Neither value leaks, nor the reason.
        assert "phone" not in error["message"] and moved not in response.text
        # The source row is fine where its ciphertext belongs.
        envelope.success(rest.get(f"/v1/users/{source['id']}"))
    finally:
        users.db_execute(
            stack, "UPDATE users SET phone = %s WHERE id = %s", (original, target["id"])
        )
    data = envelope.success(rest.get(f"/v1/users/{target['id']}"))["user"]
    assert data["phone"] == target_personal["phone"]


def test_setup_seals_what_was_stored_before_encryption(rest: Rest, stack: Stack) -> None:
    personal = _personal()
    user_id = new_id("usr")
    stamp = datetime.now(UTC).replace(tzinfo=None)
    # A row as the server wrote it before m0006: plaintext phone and date of birth.
    users.db_execute(
        stack,
        "INSERT INTO users (id, email, name, password_hash, role, status, phone, date_of_birth,"
        " created_at, updated_at) VALUES (%s, %s, 'Old Row', 'x', 'CUSTOMER', 'ACTIVE', %s, %s,"
        " %s, %s)",
        (
            user_id,
            users.unique_email("old"),
            personal["phone"],
            personal["dateOfBirth"],
            stamp,
            stamp,
        ),
    )
    # Readable as it is, before setup runs...
    data = envelope.success(rest.get(f"/v1/users/{user_id}"))["user"]
    assert data["phone"] == personal["phone"]
    result = subprocess.run(
        [sys.executable, "-m", "server", "setup"],
        cwd=REPO_ROOT,
        env=settings_env(stack.settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["values_sealed"] >= 2
    stored = users.stored_user(stack, user_id)
    assert SEALED_RE.match(stored["phone"]) and SEALED_RE.match(stored["date_of_birth"])
    assert personal["phone"] not in _raw_users(stack)
    # ...and after.
    data = envelope.success(rest.get(f"/v1/users/{user_id}"))["user"]
    assert (data["phone"], data["dateOfBirth"]) == (personal["phone"], personal["dateOfBirth"])


def _rotate(stack: Stack, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "server", "rotate-keys", *args],
        cwd=REPO_ROOT,
        env=settings_env(stack.settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_rotation_reencrypts_every_value_and_reads_go_on(rest: Rest, stack: Stack) -> None:
    personal = _personal()
    before = users.create_rest(rest, **personal)
    old_key = users.stored_user(stack, before["id"])["phone"].split(":")[2]
    result = _rotate(stack, "--retire", "--batch-size", "7")
    new_key = result["active_key"]
    assert new_key != old_key and result["complete"] is True and old_key in result["retired"]
    assert result["values_by_key"] == {new_key: result["values_by_key"][new_key]}
    assert result["resealed"]["users.phone"] >= 1  # type: ignore[index]
    rows = users.db_rows(
        stack, "SELECT phone, date_of_birth, tax_id FROM users WHERE phone IS NOT NULL"
    )
    assert rows and all(
        value.startswith(f"enc:v1:{new_key}:") for row in rows for value in row if value
    )
    # The running server opens values under the new key and seals new ones with it.
    data = envelope.success(rest.get(f"/v1/users/{before['id']}"))["user"]
    assert (data["phone"], data["dateOfBirth"]) == (personal["phone"], personal["dateOfBirth"])
    after = users.create_rest(rest, **_personal())
    assert users.stored_user(stack, after["id"])["phone"].startswith(f"enc:v1:{new_key}:")
    # Running it again rotates again; nothing is lost either way.
    again = _rotate(stack)
    assert again["active_key"] != new_key and again["retired"] == []
    data = envelope.success(rest.get(f"/v1/users/{before['id']}"))["user"]
    assert data["phone"] == personal["phone"]


def _luhn_number() -> str:
    body = "4" + "".join(str(secrets.randbelow(10)) for _ in range(14))
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return body + str((10 - total % 10) % 10)


@contextmanager
def _debug_server(stack: Stack, log_path: Path) -> Iterator[str]:
    """One more server process on the stack's database and keys, logging at DEBUG.

    The session's stack logs at WARNING, where a leak in an INFO or DEBUG line
    (peewee logs every query with its parameters at DEBUG) would go unseen.
    """
    port = free_ports(1)[0]
    settings = replace(stack.settings, grpc_port=port, log_level="DEBUG", metrics_port=0)
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=REPO_ROOT,
            env=settings_env(settings),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_health(f"{settings.host}:{port}", time.monotonic() + 30)
        yield f"{settings.host}:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _pin(avoid: set[str]) -> str:
    while (pin := f"{secrets.randbelow(9000) + 1000}") in avoid:
        pass
    return pin


def _own_card(rest: Rest, stack: Stack, owner_id: str, avoid: set[str]) -> tuple[str, str, str]:
    """A funded account of `owner_id` with a card of its own: (account, number, PIN).

    Wrong PINs then touch nobody else's card. The PIN is none of `avoid`, nor
    the card's last four digits (which are stored and may be logged).
    """
    account = open_account(rest, owner=owner_id, funded=200)
    number = _luhn_number()
    pin = _pin({*avoid, number[-4:]})
    users.db_execute(
        stack,
        "INSERT INTO cards (id, account_id, number_hash, last4, pin_hash, failed_pin_attempts,"
        " status, created_at) VALUES (%s, %s, %s, %s, %s, 0, 'ACTIVE', %s)",
        (
            f"card_{uuid.uuid4().hex[:16]}",
            account,
            card_number_hash(number),
            number[-4:],
            hash_secret(pin),
            datetime.now(UTC).replace(tzinfo=None),
        ),
    )
    return account, number, pin


def test_secrets_never_reach_the_logs(
    rest: Rest, stack: Stack, admin_token: str, tmp_path: Path
) -> None:
    password = f"Log-Test-{uuid.uuid4().hex}"
    personal = _personal()
    debug_log = tmp_path / "debug-server.log"
    rid = f"logs-{uuid.uuid4().hex}"
    with _debug_server(stack, debug_log) as target, grpc.insecure_channel(target) as raw:
        channel = authenticated(raw, admin_token)
        user_stub = user_grpc.UserServiceStub(channel)
        user = user_stub.CreateUser(
            user_pb.CreateUserRequest(
                email=users.unique_email("logs"),
                name="Log Test",
                password=password,
                phone=personal["phone"],
                date_of_birth=personal["dateOfBirth"],
                tax_id=personal["taxId"],
            ),
            metadata=[("x-request-id", rid)],
            timeout=30,
        ).user
        # Error paths too: a refused update, a bad reset token with a password.
        with pytest.raises(grpc.RpcError):
            user_stub.UpdateUser(
                user_pb.UpdateUserRequest(user_id=user.id, tax_id=personal["taxId"][:5]),
                timeout=30,
            )
        with pytest.raises(grpc.RpcError):
            user_stub.ConfirmPasswordReset(
                user_pb.ConfirmPasswordResetRequest(token="x" * 40, new_password=password),
                timeout=30,
            )
        # The tax id's last four are stored in clear and may be logged.
        avoid = {personal["taxId"][-4:]}
        account, number, pin = _own_card(rest, stack, user.id, avoid)
        wrong_pin = _pin({*avoid, pin, number[-4:]})
        money = txn_grpc.TransactionServiceStub(channel)
        atm = {
            "account_id": account,
            "amount": 20,
            "method": transaction_pb2.WithdrawalMethodEnum.ATM,
            "location": "ATM-NYC-001",
            "card_number": number,
        }
        money.CreateWithdrawal(txn_pb.CreateWithdrawalRequest(pin=pin, **atm), timeout=30)
        with pytest.raises(grpc.RpcError) as caught:
            money.CreateWithdrawal(txn_pb.CreateWithdrawalRequest(pin=wrong_pin, **atm), timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    debug = debug_log.read_text(errors="replace")
    # The DEBUG server did log these calls (so a leak would show).
    assert rid in debug and "INSERT INTO" in debug
    logs = "\n".join(
        [debug, *(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))]
    )
    tax_digits = personal["taxId"].replace("-", "")
    for secret in (
        password,
        personal["phone"],
        personal["phone"][2:],
        personal["dateOfBirth"],
        personal["taxId"],
        tax_digits,
        number,
        admin_token,
    ):
        assert secret not in logs, "a secret reached the logs"
    for short in (pin, wrong_pin):
        # Logged, a PIN would be a quoted string ('1234' in a repr, "1234" in
        # JSON); bare 4-digit numbers (years, amounts) are everywhere.
        assert not re.search(rf"""['"]{short}['"\\]""", logs), "a PIN reached the logs"
