"""What each REST call can answer: its success statuses and its error codes.

Success statuses are read from the servicers themselves (server/api/): a call
answers 201 or 202 only where its code, or a helper of server/api it calls,
says `created(...)` or `accepted(...)` (server/api/call.py); everything else
answers 200. The scan follows calls by name through server/api, so a helper
shared by several calls counts for each of them.

Error codes come from the contract (server/domain/errors.py gives each code
its HTTP status) and from the protos: every authenticated call may answer
UNAUTHORIZED, FORBIDDEN and RATE_LIMITED; every call may meet Envoy's limits
(414 URL, 431 headers); a body may be malformed, too large
or of the wrong type; a path with an id may name nothing; every write, and
every call with query parameters, may break a rule (422), one filtering by
`accountId` may name no account (TXN002), one whose body has an `amount`
may refuse it (TXN005), and one that takes an Idempotency-Key may reuse it;
and every code a call's, its request's or its service's comment names is
listed for that call.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from server.domain import errors

API_DIRECTORY = Path(__file__).resolve().parent.parent / "api"

# Codes that Envoy itself answers (envoy/envoy.yaml.tmpl's local replies).
EDGE_CODES = {
    "INVALID_REQUEST": 400,
    "METHOD_NOT_ALLOWED": 405,
    "TIMEOUT": 504,
    "PAYLOAD_TOO_LARGE": 413,
    "URI_TOO_LONG": 414,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "REQUEST_HEADERS_TOO_LARGE": 431,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}
EDGE_LIMITS = {"URI_TOO_LONG", "REQUEST_HEADERS_TOO_LARGE"}
_STATUS_OF_CALL = {"created": 201, "accepted": 202}


def error_statuses() -> dict[str, int]:
    """{error code: HTTP status} of every code a client can meet."""
    statuses = dict(EDGE_CODES)
    for error in _subclasses(errors.BankError):
        statuses.setdefault(error.reason, error.http_status)
    return dict(sorted(statuses.items()))


def _subclasses(root: type[errors.BankError]) -> Iterable[type[errors.BankError]]:
    for child in root.__subclasses__():
        yield child
        yield from _subclasses(child)


@dataclass(frozen=True)
class Facts:
    """One RPC's facts as the HTTP rule and the protos' comments give them."""

    name: str
    verb: str  # get, post, put, patch, delete
    public: bool  # no credentials needed (OAuthService)
    has_path_id: bool
    has_body: bool
    body_fields: frozenset[str]  # the JSON names of its body's top-level fields
    query: frozenset[str]  # its query parameters (a GET's filters, page size, page token)
    idempotent: bool  # takes an Idempotency-Key (server/api/idempotency.py)
    comments: str  # the RPC's, its request's and its service's comments


def error_codes(facts: Facts) -> dict[int, list[str]]:
    """{HTTP status: error codes} that `facts`' RPC may answer."""
    statuses = error_statuses()
    # Any call's URL may pass 4 KiB, its request line and headers 8 KiB (Envoy).
    codes = {"INVALID_REQUEST", "INTERNAL", "UNAVAILABLE"} | EDGE_LIMITS
    if not facts.public:
        codes |= {"UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED"}
    if facts.has_body:
        codes |= {"PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"}
    if facts.has_path_id:
        codes.add("NOT_FOUND")
    if facts.verb != "get" or facts.query:  # a filter or page size out of range
        codes.add("VALIDATION_ERROR")
    if "accountId" in facts.query:  # an account filter may name no account it can read
        codes.add("TXN002")
    if "amount" in facts.body_fields:  # not above zero, or more decimals than the currency's
        codes.add("TXN005")
    if facts.idempotent:
        codes |= {"IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_IN_USE"}
    codes |= {code for code in statuses if _names(facts.comments, code)}
    codes.discard("NOT_IMPLEMENTED")  # an unbuilt call says so; never documented as such
    grouped: dict[int, list[str]] = {}
    for code in sorted(codes):
        grouped.setdefault(statuses[code], []).append(code)
    return dict(sorted(grouped.items()))


def _names(text: str, code: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])", text) is not None


@cache
def not_idempotent(path: Path = API_DIRECTORY / "idempotency.py") -> frozenset[str]:
    """The POST calls that take no Idempotency-Key: server/api/idempotency.py's
    NOT_IDEMPOTENT, read from its source (importing it would import the server)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "NOT_IDEMPOTENT"
            for target in node.targets
        ):
            assert isinstance(node.value, ast.Call) and node.value.args
            return frozenset(ast.literal_eval(node.value.args[0]))
    raise ValueError(f"no NOT_IDEMPOTENT in {path}")


def success_statuses(rpc: str) -> list[int]:
    """The 2xx statuses RPC `rpc` answers over REST (200 when the code names none)."""
    return sorted(_scan().get(rpc, set())) or [200]


@cache
def _scan(directory: Path = API_DIRECTORY) -> dict[str, set[int]]:
    """{servicer method name: statuses it (transitively) announces} for server/api/.

    A call resolves to a function of server/api: `name()` to one of its own
    module or imported by name, `module.name()` to one of that server/api
    module, `anything.name()` to a method of that name (a class of server/api).
    Calls into other packages (server/services...) never announce a status.
    """
    direct: dict[_Key, set[int]] = {}
    calls: dict[_Key, set[_Key]] = {}
    for path in sorted(directory.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules, names = _imports(tree, path.stem)
        for owner, function in _functions(tree):
            key = (("method" if owner else path.stem), function.name)
            statuses, called = _body_facts(function, path.stem, modules, names)
            direct.setdefault(key, set()).update(statuses)
            calls.setdefault(key, set()).update(called)
    resolved: dict[str, set[int]] = {}
    for key in direct:
        if key[0] == "method" and key[1][:1].isupper():  # servicer methods: named by the protos
            resolved[key[1]] = _closure(key, direct, calls)
    return {name: statuses for name, statuses in resolved.items() if statuses}


_Key = tuple[str, str]  # (server/api module name, or "method"; function name)


def _imports(tree: ast.Module, module: str) -> tuple[dict[str, str | None], dict[str, _Key]]:
    """({alias: server/api module or None for another package}, {name: its function})."""
    modules: dict[str, str | None] = {}
    names: dict[str, _Key] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name.split(".")[0]] = None
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            for alias in node.names:
                local = alias.asname or alias.name
                if source == "server.api":
                    modules[local] = alias.name
                elif source.startswith("server.api."):
                    names[local] = (source.rsplit(".", 1)[1], alias.name)
                else:
                    modules[local] = None
    return modules, names


def _functions(tree: ast.Module) -> Iterable[tuple[bool, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(is a method, function) of a module's top level and its classes."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield False, node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield True, member


def _body_facts(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    module: str,
    modules: dict[str, str | None],
    names: dict[str, _Key],
) -> tuple[set[int], set[_Key]]:
    statuses: set[int] = set()
    called: set[_Key] = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Name):
            called.add(names.get(target.id, (module, target.id)))
        elif isinstance(target, ast.Attribute):
            if target.attr in _STATUS_OF_CALL:
                statuses.add(_STATUS_OF_CALL[target.attr])
            base = target.value.id if isinstance(target.value, ast.Name) else None
            if base is not None and base in modules:
                api_module = modules[base]
                if api_module is not None:
                    called.add((api_module, target.attr))
            else:
                called.add(("method", target.attr))
    return statuses, called


def _closure(start: _Key, direct: dict[_Key, set[int]], calls: dict[_Key, set[_Key]]) -> set[int]:
    seen, todo, statuses = {start}, [start], set()
    while todo:
        key = todo.pop()
        statuses |= direct.get(key, set())
        for callee in calls.get(key, set()):
            # Another servicer method is another call's answer, not this one's.
            if callee in direct and callee not in seen and not callee[1][:1].isupper():
                seen.add(callee)
                todo.append(callee)
    return statuses
