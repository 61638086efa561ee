"""IP allowlists per client: the address Envoy saw (trusted only from Envoy) or the gRPC peer.

The stack listens on 127.0.0.1 only, so every call here comes from there;
IPv6 addresses are covered by tests/domain/test_addresses.py.
"""

from __future__ import annotations

import grpc
import pytest
import requests

from backoffice.v1 import account_service_pb2 as pb
from backoffice.v1 import account_service_pb2_grpc as pb_grpc
from backoffice.v1 import transaction_service_pb2 as tx_pb
from backoffice.v1 import transaction_service_pb2_grpc as tx_grpc
from server.run import Stack
from tests.common import audit, envelope
from tests.common.client_rules import Client, configured_client, extra_server, rate_headers
from tests.common.money import BOB, open_account
from tests.conftest import Rest

CREATE_TRANSFER = "/backoffice.v1.TransactionService/CreateTransfer"

SPOOFING_HEADERS = {
    "X-Bank-Client-IP": "10.1.2.3",
    "X-Forwarded-For": "10.1.2.3",
    "X-Real-IP": "10.1.2.3",
    "Forwarded": "for=10.1.2.3",
}


def _rest(stack: Stack, client: Client, **headers: str) -> requests.Response:
    return requests.get(
        f"{stack.http_url}/v1/accounts", headers={**client.bearer, **headers}, timeout=30
    )


def _grpc(target: str, client: Client, *extra: tuple[str, str]) -> grpc.RpcError | None:
    with grpc.insecure_channel(target) as channel:
        try:
            pb_grpc.AccountServiceStub(channel).ListAccounts(
                pb.ListAccountsRequest(limit=1),
                metadata=[*client.grpc_metadata, *extra],
                timeout=30,
            )
        except grpc.RpcError as exc:
            return exc
    return None


def _refused_rest(response: requests.Response) -> None:
    error = envelope.error(response, 403, "FORBIDDEN")
    assert "address" in error["message"]
    # Refused before its budget is spent: no rate-limit headers.
    assert rate_headers(response.headers) == {}


def _refused_grpc(exc: grpc.RpcError | None) -> None:
    assert exc is not None
    info = envelope.grpc_error(exc, grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")
    assert info.metadata["ip_address"] == "127.0.0.1"


@pytest.mark.parametrize(
    "allowlist",
    [["127.0.0.0/8"], ["127.0.0.1"], ["10.0.0.0/8", "127.0.0.1/32"], ["::1/128", "127.0.0.0/24"]],
)
def test_a_client_calls_from_an_allowed_address(stack: Stack, allowlist: list[str]) -> None:
    client = configured_client(stack, ip_allowlist=allowlist)
    envelope.success(_rest(stack, client))
    assert _grpc(stack.grpc_target, client) is None


def test_a_client_with_an_empty_allowlist_calls_from_anywhere(stack: Stack) -> None:
    client = configured_client(stack, ip_allowlist=[])
    envelope.success(_rest(stack, client))
    assert _grpc(stack.grpc_target, client) is None


def test_a_client_outside_its_allowlist_is_refused(stack: Stack) -> None:
    client = configured_client(stack, ip_allowlist=["10.0.0.0/8", "2001:db8::/32"])
    _refused_rest(_rest(stack, client))
    _refused_grpc(_grpc(stack.grpc_target, client))


def test_rest_clients_cannot_spoof_their_address(stack: Stack) -> None:
    client = configured_client(stack, ip_allowlist=["10.0.0.0/8"])
    _refused_rest(_rest(stack, client, **SPOOFING_HEADERS))


def test_an_unparseable_entry_allows_nothing(stack: Stack) -> None:
    client = configured_client(stack, ip_allowlist=["127.0.0.0/99", "localhost"])
    _refused_rest(_rest(stack, client))
    _refused_grpc(_grpc(stack.grpc_target, client))


def test_the_forwarded_address_is_believed_only_from_trusted_proxies(stack: Stack) -> None:
    client = configured_client(stack, ip_allowlist=["10.0.0.0/8"])
    forged = ("x-bank-client-ip", "10.1.2.3")
    # Loopback is a trusted proxy by default (Envoy runs there), so a process
    # on the server's own host can name an address...
    assert _grpc(stack.grpc_target, client, forged) is None
    # ... but a server that trusts only its real proxy ignores the claim and
    # judges the gRPC peer.
    with extra_server(stack, trusted_proxies=("192.0.2.10/32",)) as strict:
        _refused_grpc(_grpc(strict, client, forged))
        _refused_grpc(_grpc(strict, client))


def test_one_address_per_call_reaches_the_audit_log_and_the_transaction(
    stack: Stack, rest: Rest
) -> None:
    """What the guards judge is what the audit event and the transaction keep."""
    client = configured_client(stack, ip_allowlist=[])
    source, target = open_account(rest, funded=10), open_account(rest, owner=BOB)
    forged = ("x-bank-client-ip", "10.1.2.3")
    seen: dict[str, tuple[str, str]] = {}
    for label, trusted_proxies in (("trusting", None), ("strict", ("192.0.2.10/32",))):
        changes = {} if trusted_proxies is None else {"trusted_proxies": trusted_proxies}
        with extra_server(stack, **changes) as target_address:
            rid = audit.request_id(f"address-{label}")
            with grpc.insecure_channel(target_address) as channel:
                created = tx_grpc.TransactionServiceStub(channel).CreateTransfer(
                    tx_pb.CreateTransferRequest(
                        from_account_id=source, to_account_id=target, amount=1
                    ),
                    metadata=[*client.grpc_metadata, forged, ("x-request-id", rid)],
                    timeout=30,
                )
            event = audit.find(rest, rid, method=CREATE_TRANSFER)
            seen[label] = (event["ipAddress"], created.transaction.metadata.ip_address)
    # Loopback is trusted by default, so a process on the host may name an
    # address; a server that trusts only its real proxy keeps the peer's.
    assert seen == {"trusting": ("10.1.2.3", "10.1.2.3"), "strict": ("127.0.0.1", "127.0.0.1")}
