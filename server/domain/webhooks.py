"""Webhook subscriptions: which URLs, event types, secrets and descriptions
are accepted, and which addresses events may be sent to.

Plain rules; the one I/O here is `check_host`'s name resolution, kept beside
the address rule so that subscribing (server.services.webhooks) and sending
(the delivery worker, at connection time, against DNS rebinding) judge a host
the same way. The limits are the ones webhook.proto documents; a change here
is a change of the contract.

Decisions (written in the protos too):
- A URL is absolute `https`, at most 2,048 characters, without user
  information, and every address its host resolves to is public. In sandbox
  mode `http://localhost`, `http://127.0.0.1` and `http://[::1]` (any port)
  are accepted too, so that a developer's machine can receive events; no
  other private address is, in either mode.
- Event types: SUBSCRIBABLE's, or `*`; 1 to 50, no duplicates.
- Secrets: 16 to 100 printable ASCII characters (seed 000's example,
  `webhook_secret_key`, has 18). A generated one is `whsec_` and the base64 of
  32 random bytes, the Standard Webhooks form.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import re
import secrets
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.domain import errors
from server.domain.webhook_events import EVERY_TYPE, SUBSCRIBABLE
from server.domain.webhook_records import SubscriptionRecord

URL_LENGTH_MAX = 2048
EVENTS_MIN = 1
EVENTS_MAX = 50
SECRET_LENGTH_MIN = 16
SECRET_LENGTH_MAX = 100
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_RANDOM_BYTES = 32
DESCRIPTION_LENGTH_MAX = 200
SUBSCRIPTIONS_PER_CLIENT_MAX = 20
# The event a ping writes: delivered to the pinged subscription only, never
# subscribable.
PING_EVENT_TYPE = "webhook.ping"

FIELD_URL = "url"
FIELD_EVENTS = "events"
FIELD_SECRET = "secret"  # noqa: S105 (a field name)
FIELD_DESCRIPTION = "description"

# Hosts a sandbox may send to over plain http (the developer's own machine).
SANDBOX_HTTP_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, still routed on some networks

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# In this order: the first that applies names the refusal (240.0.0.0/4 is
# both reserved and, to `ipaddress`, private).
_REFUSED_KINDS: tuple[tuple[Callable[[IpAddress], bool], str], ...] = (
    (lambda ip: ip.is_unspecified, "unspecified address"),
    (lambda ip: ip.is_link_local, "link-local address"),
    (lambda ip: ip.is_multicast, "multicast address"),
    (lambda ip: ip in _SHARED_ADDRESS_SPACE, "shared address space (carrier-grade NAT)"),
    (lambda ip: ip.is_reserved, "reserved address"),
    (lambda ip: ip.is_private, "private address"),
    (lambda ip: not ip.is_global, "not a public address"),
)
# socket.getaddrinfo's shape: (host, port, family, type) -> [(family, type, proto, name, sockaddr)]
Resolver = Callable[..., Sequence[tuple[Any, Any, Any, Any, tuple[Any, ...]]]]


class RefusedHost(errors.ValidationFailed):
    """A webhook URL's host does not resolve, or resolves to an address
    events may not be sent to (`why` says which)."""

    def __init__(self, host: str, why: str) -> None:
        super().__init__(
            f"The URL's host {host} is refused: {why}",
            field=FIELD_URL,
            metadata={"host": host, "why": why},
        )
        self.host = host
        self.why = why


class UnresolvedHost(RefusedHost):
    """The host has no address (now). Subscribing accepts it, since sending
    checks again at every attempt; sending fails the attempt."""

    def __init__(self, host: str) -> None:
        super().__init__(host, "it does not resolve")


# -- Addresses -----------------------------------------------------------------
def refused_address(ip: IpAddress, sandbox: bool) -> str | None:
    """Why events may not be sent to `ip`; None when they may.

    An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is judged as the IPv4
    address it carries. In sandbox mode loopback addresses are allowed.
    """
    ip = _unmapped(ip)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None:
            # 6to4 (2002::/16) carries the IPv4 address it reaches.
            why = refused_address(ip.sixtofour, sandbox=False)
            return f"6to4 address of a {why}" if why is not None else "6to4 address"
        if ip in _SITE_LOCAL:
            return "site-local address"
    if ip.is_loopback:
        return None if sandbox else "loopback address"
    for refused, why in _REFUSED_KINDS:
        if refused(ip):
            return why
    return None


def _unmapped(ip: IpAddress) -> IpAddress:
    """The IPv4 address an IPv4-mapped IPv6 address carries; any other as it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_host(
    host: str,
    port: int,
    sandbox: bool,
    resolve: Resolver = socket.getaddrinfo,
    *,
    own_ports: frozenset[int] = frozenset(),
) -> list[IpAddress]:
    """Every address `host` resolves to, each allowed by `refused_address`.

    RefusedHost when any address is refused (a name with one private address
    among public ones could be steered to it); UnresolvedHost, a RefusedHost,
    when the host does not resolve. Connect only to the addresses returned.
    `own_ports`: the ports this bank's own processes listen on (gRPC, Envoy's
    REST and admin ports); a loopback address, which only a sandbox accepts,
    is refused on them, so that an event is never POSTed to Envoy's admin
    interface (`/quitquitquit`) or to the bank's own API.
    """
    literal = _literal(host)
    if literal is not None:
        addresses: list[IpAddress] = [literal]
    else:
        try:
            infos = resolve(host, port, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise UnresolvedHost(host) from error
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise UnresolvedHost(host)
    for ip in addresses:
        why = refused_address(ip, sandbox)
        if why is None and port in own_ports and _unmapped(ip).is_loopback:
            why = f"loopback address on port {port}, one of this bank's own ports"
        if why is not None:
            raise RefusedHost(host, f"{ip} is a {why}" if ip != literal else why)
    return addresses


# -- URLs ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL sends to: its host (no brackets) and port."""

    scheme: str
    host: str
    port: int


def _refuse_url(message: str, url: str = "") -> errors.ValidationFailed:
    return errors.ValidationFailed(message, field=FIELD_URL, metadata={"url": url[:200]})


def parse_url(url: str, sandbox: bool) -> Target:
    """The URL's scheme, host and port, when its form is accepted (the host's
    addresses are checked by `check_host`)."""
    if not url:
        raise _refuse_url("url is required")
    if len(url) > URL_LENGTH_MAX:
        raise _refuse_url(f"url is longer than {URL_LENGTH_MAX} characters", url)
    if not url.isascii() or any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in url):
        raise _refuse_url("url must be ASCII without spaces (percent-encode the rest)", url)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse_url("url is not a valid URL", url) from None
    host = (parts.hostname or "").lower()
    if not host or not parts.netloc:
        raise _refuse_url("url must be absolute, with a host", url)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse_url("url must not carry a user name or password", url)
    bracketed = "[" in parts.netloc
    if not _host_syntax_ok(host) or (bracketed and _literal(host) is None):
        raise _refuse_url("url's host is not a host name or an IP address", url)
    if port == 0:
        raise _refuse_url("url's port must be 1 to 65535", url)
    scheme = parts.scheme.lower()
    if scheme == "http" and sandbox and host in SANDBOX_HTTP_HOSTS:
        return Target(scheme, host, port or 80)
    if scheme != "https":
        why = "url must use https"
        if sandbox:
            why += " (http only to localhost, 127.0.0.1 or [::1] in sandbox mode)"
        raise _refuse_url(why, url)
    return Target(scheme, host, port or 443)


_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _host_syntax_ok(host: str) -> bool:
    """An IP address, or a DNS name of letter-digit-hyphen labels (a trailing dot allowed)."""
    if _literal(host) is not None:
        return True
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if any(not _LABEL_RE.match(label) for label in labels):
        return False
    # A punycode label has something after its prefix; a name is not all digits.
    return not any(label == "xn--" for label in labels) and not labels[-1].isdigit()


def check_url(
    url: str,
    sandbox: bool,
    resolve: Resolver = socket.getaddrinfo,
    *,
    own_ports: frozenset[int] = frozenset(),
) -> str:
    """`url` when its form and its host's addresses are accepted. A host that
    does not resolve (yet) is accepted: every attempt checks it again."""
    target = parse_url(url, sandbox)
    with contextlib.suppress(UnresolvedHost):
        check_host(target.host, target.port, sandbox, resolve, own_ports=own_ports)
    return url


# -- Events, secrets, descriptions -------------------------------------------------
def check_events(events: Iterable[str]) -> list[str]:
    """The subscribed types, in the order given, when accepted."""
    chosen = list(events)
    if len(chosen) < EVENTS_MIN:
        raise errors.ValidationFailed(
            "events must name at least one event type", field=FIELD_EVENTS
        )
    if len(chosen) > EVENTS_MAX:
        raise errors.ValidationFailed(
            f"events may name at most {EVENTS_MAX} event types",
            field=FIELD_EVENTS,
            metadata={"count": str(len(chosen)), "max": str(EVENTS_MAX)},
        )
    seen: set[str] = set()
    for event_type in chosen:
        if event_type != EVERY_TYPE and event_type not in SUBSCRIBABLE:
            raise errors.ValidationFailed(
                f"Unknown event type: {event_type[:100]}",
                field=FIELD_EVENTS,
                metadata={"event_type": event_type[:100]},
            )
        if event_type in seen:
            raise errors.ValidationFailed(
                f"Duplicate event type: {event_type}",
                field=FIELD_EVENTS,
                metadata={"event_type": event_type},
            )
        seen.add(event_type)
    return chosen


def check_secret(secret: str) -> str:
    """`secret` when it is 16 to 100 printable ASCII characters."""
    if not SECRET_LENGTH_MIN <= len(secret) <= SECRET_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"secret must be {SECRET_LENGTH_MIN} to {SECRET_LENGTH_MAX} characters",
            field=FIELD_SECRET,
            metadata={"min": str(SECRET_LENGTH_MIN), "max": str(SECRET_LENGTH_MAX)},
        )
    if not all(" " <= ch <= "~" for ch in secret):
        raise errors.ValidationFailed("secret must be printable ASCII", field=FIELD_SECRET)
    return secret


def new_secret() -> str:
    """A generated secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_RANDOM_BYTES)).decode()


def check_description(description: str) -> str | None:
    """The description to store (None for empty) when accepted."""
    if len(description) > DESCRIPTION_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"description is longer than {DESCRIPTION_LENGTH_MAX} characters",
            field=FIELD_DESCRIPTION,
        )
    if any((ord(ch) < 0x20 and ch not in "\t\n") or ch == "\x7f" for ch in description):
        raise errors.InvalidRequest(
            "description contains a control character", field=FIELD_DESCRIPTION
        )
    return description or None


# -- Refusals -------------------------------------------------------------------------
class InactiveSubscription(errors.Conflict):
    """Work for a subscription that sends nothing (webhook_service.proto)."""

    grpc_status = "FAILED_PRECONDITION"


def subscription_not_found(webhook_id: str) -> errors.NotFound:
    """Unknown, deleted, or another client's: all look the same."""
    return errors.NotFound(
        "Webhook subscription not found", metadata={"webhook_id": webhook_id[:64]}
    )


def delivery_not_found(delivery_id: str) -> errors.NotFound:
    return errors.NotFound("Webhook delivery not found", metadata={"delivery_id": delivery_id[:64]})


def event_not_found(event_id: str) -> errors.NotFound:
    return errors.NotFound("Event not found", metadata={"event_id": event_id[:64]})


def check_room(count: int) -> None:
    """Refuses a client's subscription beyond SUBSCRIPTIONS_PER_CLIENT_MAX."""
    if count >= SUBSCRIPTIONS_PER_CLIENT_MAX:
        raise errors.BusinessRuleViolation(
            f"A client may have at most {SUBSCRIPTIONS_PER_CLIENT_MAX} webhook subscriptions",
            metadata={"max": str(SUBSCRIPTIONS_PER_CLIENT_MAX)},
        )


def check_active(subscription: SubscriptionRecord) -> None:
    if not subscription.active:
        raise InactiveSubscription(
            "The webhook subscription is inactive; make it active first",
            metadata={"webhook_id": subscription.id},
        )


# -- Events listed -------------------------------------------------------------------
EVENT_RETENTION = timedelta(days=30)
TYPE_FILTER_LENGTH_MAX = 100
FAMILY_SUFFIX = ".*"
_TYPE_FILTER_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$")


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Which events to list: `type` exact, or `family` (`transaction.`) prefix."""

    since: datetime
    until: datetime | None
    type: str | None = None
    family: str | None = None


def event_query(
    type_filter: str, since: datetime | None, until: datetime | None, now: datetime
) -> EventQuery:
    """The events asked for, within the last 30 days (an earlier `since` is
    moved to 30 days ago: older events are not kept)."""
    if type_filter and (
        len(type_filter) > TYPE_FILTER_LENGTH_MAX or not _TYPE_FILTER_RE.match(type_filter)
    ):
        raise errors.ValidationFailed(
            "type must be an event type (`transaction.completed`) or a family (`transaction.*`)",
            field="type",
            metadata={"type": type_filter[:TYPE_FILTER_LENGTH_MAX]},
        )
    oldest = now - EVENT_RETENTION
    start = max(since, oldest) if since is not None else oldest
    if since is not None and until is not None and until <= since:
        raise errors.ValidationFailed("until must be after since", field="until")
    if type_filter.endswith(FAMILY_SUFFIX):
        return EventQuery(start, until, family=type_filter.removesuffix("*"))
    return EventQuery(start, until, type=type_filter or None)


def kept(created_at: datetime, now: datetime) -> bool:
    """Whether an event of `created_at` is still shown (30 days)."""
    return created_at >= now - EVENT_RETENTION
