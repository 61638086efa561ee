"""Webhook rules: URLs and the addresses they reach, event types, secrets, descriptions."""

from __future__ import annotations

import base64
import ipaddress
import socket
from typing import Any

import pytest

from server.domain import errors
from server.domain import webhooks as rules
from server.domain.webhook_events import SUBSCRIBABLE


def _resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, *args: object) -> list[tuple[Any, ...]]:
        del args
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return resolve


UNSPECIFIED = "0.0.0.0"  # noqa: S104 (an address judged, nothing binds it)


# -- refused_address -------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        (UNSPECIFIED, "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:100.64.1.1", "carrier-grade NAT"),
        ("192.0.2.10", "address"),  # documentation range: not global
    ],
)
def test_refused_address_in_production(address: str, why: str) -> None:
    reason = rules.refused_address(ipaddress.ip_address(address), sandbox=False)
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert rules.refused_address(ipaddress.ip_address(address), sandbox=False) is None
    assert rules.refused_address(ipaddress.ip_address(address), sandbox=True) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"])
def test_sandbox_allows_loopback(address: str) -> None:
    assert rules.refused_address(ipaddress.ip_address(address), sandbox=True) is None


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", UNSPECIFIED, "100.64.0.1"])
def test_sandbox_still_refuses_other_private_addresses(address: str) -> None:
    assert rules.refused_address(ipaddress.ip_address(address), sandbox=True) is not None


# -- check_host -------------------------------------------------------------------
def test_check_host_returns_every_address() -> None:
    resolve = _resolver("93.184.216.34", "2606:4700::1111", "93.184.216.34")
    addresses = rules.check_host("example.com", 443, False, resolve)
    assert addresses == [
        ipaddress.ip_address("93.184.216.34"),
        ipaddress.ip_address("2606:4700::1111"),
    ]


def test_check_host_refuses_one_private_address_among_public_ones() -> None:
    resolve = _resolver("93.184.216.34", "10.1.2.3")
    with pytest.raises(rules.RefusedHost) as caught:
        rules.check_host("rebind.example", 443, False, resolve)
    assert caught.value.field == "url"
    assert "10.1.2.3" in caught.value.message
    assert isinstance(caught.value, errors.ValidationFailed)


def test_check_host_refuses_a_name_that_does_not_resolve() -> None:
    with pytest.raises(rules.RefusedHost, match="does not resolve"):
        rules.check_host("nowhere.invalid", 443, False, _resolver())


@pytest.mark.parametrize("host", ["169.254.169.254", "[::ffff:127.0.0.1]", "::ffff:127.0.0.1"])
def test_check_host_judges_literals_without_resolving(host: str) -> None:
    def never(*args: object) -> list[Any]:
        raise AssertionError("a literal is not resolved")

    with pytest.raises(rules.RefusedHost):
        rules.check_host(host, 443, False, never)


def test_check_host_sandbox_loopback() -> None:
    resolve = _resolver("127.0.0.1", "::1")
    assert len(rules.check_host("localhost", 8000, True, resolve)) == 2
    with pytest.raises(rules.RefusedHost):
        rules.check_host("localhost", 8000, False, resolve)


def test_check_host_refuses_loopback_on_the_banks_own_ports() -> None:
    resolve = _resolver("127.0.0.1")
    own = frozenset({9901, 8080})
    for host in ("localhost", "127.0.0.1", "::ffff:127.0.0.1"):
        with pytest.raises(rules.RefusedHost, match="own ports"):
            rules.check_host(host, 9901, True, resolve, own_ports=own)
    assert rules.check_host("localhost", 8765, True, resolve, own_ports=own)
    with pytest.raises(rules.RefusedHost, match="own ports"):
        rules.check_url("http://localhost:8080/h", True, resolve, own_ports=own)


def test_check_host_strips_scope_ids() -> None:
    with pytest.raises(rules.RefusedHost, match="link-local"):
        rules.check_host("printer.local", 443, False, _resolver("fe80::1%eth0"))


# -- URLs ------------------------------------------------------------------------
def test_seed_url_is_accepted() -> None:
    url = "https://your-app.com/webhooks/banking"
    target = rules.parse_url(url, sandbox=False)
    assert (target.scheme, target.host, target.port) == ("https", "your-app.com", 443)
    assert rules.check_url(url, False, _resolver("93.184.216.34")) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "required"),
        ("http://example.com/hook", "https"),
        ("ftp://example.com/hook", "https"),
        ("/relative/path", "absolute"),
        ("https:///nohost", "absolute"),
        ("https://user:pw@example.com/", "user name"),
        ("https://user@example.com/", "user name"),
        ("https://example.com/a b", "ASCII"),
        ("https://exämple.com/", "ASCII"),
        ("https://example.com:99999/", "valid"),
        ("https://example.com/" + "a" * 2048, "2048"),
    ],
)
def test_refused_url_forms(url: str, message: str) -> None:
    with pytest.raises(errors.ValidationFailed, match=message) as caught:
        rules.parse_url(url, sandbox=False)
    assert caught.value.field == "url"


def test_url_of_exactly_the_maximum_length_is_accepted() -> None:
    url = "https://example.com/" + "a" * (rules.URL_LENGTH_MAX - len("https://example.com/"))
    assert rules.parse_url(url, sandbox=False).host == "example.com"


@pytest.mark.parametrize(
    "url", ["http://localhost:8000/hook", "http://127.0.0.1/hook", "http://[::1]:9000/x"]
)
def test_sandbox_http_loopback(url: str) -> None:
    resolve = _resolver("127.0.0.1", "::1")
    assert rules.check_url(url, True, resolve) == url
    with pytest.raises(errors.ValidationFailed, match="https"):
        rules.check_url(url, False, resolve)


def test_sandbox_http_is_loopback_only() -> None:
    with pytest.raises(errors.ValidationFailed, match="http only to localhost"):
        rules.parse_url("http://example.com/hook", sandbox=True)
    with pytest.raises(rules.RefusedHost):
        rules.check_url("https://10.0.0.1/hook", True)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::1]/",
        f"https://{UNSPECIFIED}/",
    ],
)
def test_production_refuses_private_literals(url: str) -> None:
    with pytest.raises(rules.RefusedHost) as caught:
        rules.check_url(url, False)
    assert caught.value.field == "url"


# -- Events ----------------------------------------------------------------------
def test_seed_events_are_accepted() -> None:
    events = ["account.created", "transaction.created"]
    assert rules.check_events(events) == events
    assert rules.check_events(["*"]) == ["*"]
    assert sorted(rules.check_events(sorted(SUBSCRIBABLE))) == sorted(SUBSCRIBABLE)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "at least one"),
        (["account.created"] * 51, "at most 50"),
        (["account.created", "account.created"], "Duplicate event type: account.created"),
        (["account.exploded"], "Unknown event type: account.exploded"),
        (["webhook.ping"], "Unknown event type: webhook.ping"),
        (["transaction.*"], "Unknown event type"),
        (["*", "*"], "Duplicate"),
    ],
)
def test_refused_events(events: list[str], message: str) -> None:
    with pytest.raises(errors.ValidationFailed, match=message) as caught:
        rules.check_events(events)
    assert caught.value.field == "events"
    assert caught.value.reason == "VALIDATION_ERROR"


# -- Secrets and descriptions --------------------------------------------------------
def test_secrets() -> None:
    assert rules.check_secret("webhook_secret_key") == "webhook_secret_key"
    assert rules.check_secret("x" * 16) == "x" * 16
    assert rules.check_secret("~" * 100) == "~" * 100
    for bad in ("x" * 15, "x" * 101, "webhook_secret_kéy", "webhook_secret\tkey", ""):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.check_secret(bad)
        assert caught.value.field == "secret"


def test_new_secret_is_standard_webhooks_form() -> None:
    secret = rules.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert rules.check_secret(secret) == secret
    assert rules.new_secret() != secret


def test_descriptions() -> None:
    assert rules.check_description("") is None
    assert rules.check_description("Orders app") == "Orders app"
    assert rules.check_description("d" * 200) == "d" * 200
    with pytest.raises(errors.ValidationFailed):
        rules.check_description("d" * 201)
    with pytest.raises(errors.InvalidRequest):
        rules.check_description("bad\x00")


def test_a_url_whose_host_does_not_resolve_yet_is_accepted() -> None:
    url = "https://not-yet.example/hook"
    assert rules.check_url(url, False, _resolver()) == url
    with pytest.raises(rules.UnresolvedHost):
        rules.check_host("not-yet.example", 443, False, _resolver())


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("2002:7f00:1::", "6to4 address of a loopback"),
        ("2002:a9fe:a9fe::", "6to4 address of a link-local"),
        ("2002:0808:0808::", "6to4 address"),
        ("fec0::1", "site-local"),
    ],
)
def test_6to4_and_site_local_addresses_are_refused_in_both_modes(address: str, words: str) -> None:
    ip = ipaddress.ip_address(address)
    for sandbox in (False, True):
        why = rules.refused_address(ip, sandbox)
        assert why is not None and words in why


@pytest.mark.parametrize(
    "url",
    [
        "https://a..b/",
        "https://./",
        "https://[v1.abc]/",
        "https://example.com:0/",
        "https://xn--/",
        "https://a%00b.com/",
        "https://%31%32%37.0.0.1/",
        "https://-lead.example/",
        "https://123/",
    ],
)
def test_hosts_that_no_request_could_reach_are_refused_at_once(url: str) -> None:
    with pytest.raises(errors.ValidationFailed, match=r"host|port"):
        rules.parse_url(url, sandbox=False)


@pytest.mark.parametrize(
    "url",
    ["https://Your-App.com./hooks", "https://[2001:db8::1]:8443/", "https://sub-1.example.co.uk/"],
)
def test_ordinary_hosts_pass_the_syntax_check(url: str) -> None:
    assert rules.parse_url(url, sandbox=False).scheme == "https"
