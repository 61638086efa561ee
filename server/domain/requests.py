"""Pure rules of a strict request (API_CONTRACT.md "Requests are strict").

Nothing here knows gRPC or the descriptors: names, texts, numbers and paths.
`server.api.validation` applies these rules to the request messages; Envoy's
`envoy/json_check.lua` applies the JSON ones at the edge and describes the
body it checked in one header, parsed by `parse_json_fields`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from server.domain import errors

# C0 control characters other than tab, line feed and carriage return: never
# text (NUL in particular, which PostgreSQL refuses in a text column).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A JSON number without exponent: what a string may hold where a number is due.
PLAIN_DECIMAL_RE = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$")

# The kinds envoy/json_check.lua reports for each JSON value (x-bank-json-fields).
NUMBER, DECIMAL_STRING, STRING, BOOLEAN, NULL, OBJECT, ARRAY = "ndstzoa"
NUMERIC_KINDS = frozenset((NUMBER, DECIMAL_STRING, NULL))
KINDS = frozenset("ndstzoa")


def has_control_character(text: str) -> bool:
    return _CONTROL_RE.search(text) is not None


def refuse_control_character(field: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(
        f"{field} contains a control character", field=field, metadata={"problem": "control"}
    )


def refuse_enum_number(field: str, number: int) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        f"{field} is not one of its documented values",
        field=field,
        metadata={"value": str(number)},
    )


def camel(name: str) -> str:
    """A proto field name as its JSON (lowerCamelCase) name, per segment of a dotted path."""
    return ".".join(_camel_segment(part) for part in name.split("."))


def _camel_segment(part: str) -> str:
    head, *rest = part.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def snake(name: str) -> str:
    """A JSON name as the proto field name, per segment of a dotted path."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@dataclass(frozen=True)
class JsonField:
    """One key path of a JSON body (`filters.types`) and the kinds of its values."""

    path: tuple[str, ...]
    kinds: frozenset[str]

    @property
    def name(self) -> str:
        return ".".join(self.path)


def parse_json_fields(header: str) -> list[JsonField]:
    """`a=s,b.c=n,b.c=d` (percent-encoded keys) as JsonFields, in order of first sight.

    The header is Envoy's: anything malformed in it is a broken edge, answered
    INVALID_REQUEST rather than trusted.
    """
    found: dict[tuple[str, ...], set[str]] = {}
    if header:
        for entry in header.split(","):
            path, _, kind = entry.rpartition("=")
            if not path or kind not in KINDS:
                raise errors.InvalidRequest("The request body could not be read")
            key = tuple(unquote(part) for part in path.split("."))
            found.setdefault(key, set()).add(kind)
    return [JsonField(path, frozenset(kinds)) for path, kinds in found.items()]


def query_names(path_and_query: str) -> list[str]:
    """The parameter names of a URL's query, decoded as the transcoder decodes them."""
    _, _, query = path_and_query.partition("?")
    names = []
    for part in query.split("&"):
        if part:
            names.append(unquote_plus(part.partition("=")[0]))
    return names


@dataclass(frozen=True)
class PathTemplate:
    """A google.api.http path template (`/v1/accounts/{account_id}:close`)."""

    text: str
    variables: tuple[str, ...]
    pattern: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.pattern.match(path.partition("?")[0]) is not None


_VARIABLE_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)(?:=[^}]*)?\}")


def path_template(text: str) -> PathTemplate:
    """The template's variables and a pattern matching a request path (without query)."""
    pattern, end = [], 0
    for found in _VARIABLE_RE.finditer(text):
        pattern.append(re.escape(text[end : found.start()]))
        pattern.append("[^/]+")
        end = found.end()
    pattern.append(re.escape(text[end:]))
    variables = tuple(found.group(1) for found in _VARIABLE_RE.finditer(text))
    return PathTemplate(text, variables, re.compile("^" + "".join(pattern) + "$"))


def refuse_query_parameter(name: str, why: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(f"Query parameter {name} is not allowed here: {why}", field=name)


def refuse_unknown_field(name: str, note: str = "") -> errors.InvalidRequest:
    message = f"Unknown field {name}"
    if note:
        message = f"{name} cannot be set by this request: {note}"
    return errors.InvalidRequest(message, field=name, metadata={"problem": "unknown_field"})


def refuse_shape(name: str, why: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(f"{name} {why}", field=name, metadata={"problem": "shape"})


def refuse_output_only(name: str, note: str = "") -> errors.InvalidRequest:
    message = f"{name} is output only" + (f": {note}" if note else "")
    return errors.InvalidRequest(message, field=name, metadata={"problem": "output_only"})


def refuse_number_text(name: str, money: bool) -> errors.BankError:
    """A numeric field sent as a string that is not a plain decimal (`"0x10"`, `"+5"`)."""
    message = f"{name} must be a JSON number (or a plain decimal string)"
    if money:
        return errors.InvalidAmount(message, field=name)
    return errors.InvalidRequest(message, field=name)
