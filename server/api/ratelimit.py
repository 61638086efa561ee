"""Per-client rate limits (seed 000): classes of calls, X-RateLimit-* headers, 429.

Each RPC's class comes from its REST binding in the protos: GET is a read,
POST/PUT/PATCH/DELETE a write, except the POSTs that only read
(`READ_POSTS`). CreateUser and CreateAccount also spend the per-minute
account-creation budget, the password-reset RPCs the per-minute
password-reset budget (`auth.proto` RateLimits). Budgets are per client
(every token and API key of a client shares them), from the client's
`rate_limits` (`server.store.client_policy`), counted in fixed windows by
`server.store.ratelimit`.

Every call that gets this far (authenticated, past the guards) answers
X-RateLimit-Limit/-Remaining/-Reset of its tightest budget, on success and
on error; a refused call answers 429 RATE_LIMITED with Retry-After and
X-RateLimit-Retry-After (seconds until the window ends).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from functools import cache

from google.api import annotations_pb2

import backoffice.v1
from server.api import call
from server.config import Settings
from server.domain import ratelimits
from server.domain.principal import Principal
from server.domain.ratelimits import LimitClass, Usage
from server.store import client_policy
from server.store import ratelimit as shared

PREFIX = "/backoffice.v1."
# POST bindings that change nothing.
READ_POSTS = frozenset(
    {
        "/backoffice.v1.TransactionService/SearchTransactions",
        "/backoffice.v1.AuditService/VerifyAuditLog",
    }
)
OWN_CLASSES = {
    "/backoffice.v1.AccountService/CreateAccount": ratelimits.ACCOUNT_CREATE,
    "/backoffice.v1.UserService/CreateUser": ratelimits.ACCOUNT_CREATE,
    "/backoffice.v1.UserService/RequestPasswordReset": ratelimits.PASSWORD_RESET,
    "/backoffice.v1.UserService/ConfirmPasswordReset": ratelimits.PASSWORD_RESET,
}


@cache
def _http_verbs() -> dict[str, str]:
    """Method path -> the verb of its main REST binding, for every RPC of the API."""
    verbs: dict[str, str] = {}
    for info in pkgutil.iter_modules(backoffice.v1.__path__):
        if not info.name.endswith("_service_pb2"):
            continue
        module = importlib.import_module(f"backoffice.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            for rpc in service.methods:
                rule = rpc.GetOptions().Extensions[annotations_pb2.http]
                verbs[f"/{service.full_name}/{rpc.name}"] = rule.WhichOneof("pattern") or ""
    return verbs


def classes(method: str) -> tuple[LimitClass, ...]:
    """The budgets a call of `method` spends, the most specific first."""
    reads = _http_verbs().get(method) == "get" or method in READ_POSTS
    base = ratelimits.READ if reads else ratelimits.WRITE
    own = OWN_CLASSES.get(method)
    return (own, base) if own is not None else (base,)


def check(method: str, principal: Principal, settings: Settings) -> None:
    """Counts the call; raises RateLimited (429) when the client is over its limit."""
    limits = client_policy.policy(principal.client_id, settings).limits
    limiter = shared.limiter(settings)
    now = time.time()
    spent: list[Usage] = []
    for limit_class in classes(method):
        usage = limiter.spend(principal.client_id, limit_class, limits[limit_class.name], now)
        spent.append(usage)
        if not usage.allowed:
            # The call does not happen: units already spent for it go back.
            for earlier in spent[:-1]:
                limiter.give_back(principal.client_id, earlier)
            break
    shown = ratelimits.tightest(spent)
    call.current().headers.update(ratelimits.headers(shown, now))
    if not shown.allowed:
        raise ratelimits.refusal(shown, now)
