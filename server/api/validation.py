"""Strict requests: one check of every backoffice.v1 call before its servicer.

1. Values (every call, gRPC and REST): no string holds a C0 control character
   other than tab, line feed and carriage return (NUL included: 400
   INVALID_REQUEST), and no enum holds a number its enum does not define (422
   VALIDATION_ERROR, as the servicers answered before), naming the field.
2. REST only, from what Envoy tells a trusted call (`call.CallInfo.via_trusted_proxy`):
   - the JSON body's key paths and value kinds (`x-bank-json-fields`, made by
     envoy/json_check.lua after it refused malformed JSON and duplicate keys):
     every key must name a field of the request (lowerCamelCase or
     snake_case), never an output-only one; a number sent as a string must be
     a plain decimal (money, i.e. every `double`: 422 TXN005; else 400);
   - the query (`x-envoy-original-path`): a parameter must not name a path
     variable, nor a field the body holds (the transcoder lets it override
     either).
   Both give the names the client used, for the `field` of a REST error.

Output only: `[(google.api.field_behavior) = OUTPUT_ONLY]` when the protos
say so, else a leading comment starting "Output only." (read from
gen/backoffice.binpb, built with source info). A key that the request lacks
but the method's resource has (`status` on UpdateAccount) is refused with
that field's comment, which says what changes it.

Everything derived from a descriptor is cached per descriptor or per header
text, so a transfer pays a few dictionary lookups.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from server.api import call
from server.domain import requests as rules
from server.gateway import DESCRIPTOR_SET_PATH

JSON_FIELDS_KEY = "x-bank-json-fields"
ORIGINAL_PATH_KEY = "x-envoy-original-path"

_OTHER, _STRING, _ENUM, _MESSAGE, _MAP = range(5)
_NUMERIC = frozenset(
    getattr(FieldDescriptor, f"TYPE_{name}")
    for name in (
        *("DOUBLE", "FLOAT", "INT32", "INT64", "UINT32", "UINT64"),
        *("SINT32", "SINT64", "FIXED32", "FIXED64", "SFIXED32", "SFIXED64"),
    )
)
# Message types whose JSON form is not an object of their fields (a Timestamp is
# a string, a Struct any object): keys below them are not checked.
_OPAQUE_PACKAGES = ("google.protobuf.", "google.api.")


def check(method: str, request: Message, metadata: Iterable[tuple[str, Any]]) -> None:
    """Raises InvalidRequest, ValidationFailed or InvalidAmount when the request is
    not strict; on REST, notes the names the client sent (`CallInfo.field_names`)."""
    _check_values(request, "")
    info = call.current()
    if not info.via_trusted_proxy:
        return
    fields = path = None
    for key, value in metadata:
        if key == JSON_FIELDS_KEY:
            fields = value
        elif key == ORIGINAL_PATH_KEY:
            path = value
    if path is None or not isinstance(path, str):
        return  # a gRPC call through the proxy, not a transcoded one
    binding = _binding(method, path)
    if binding is None:
        return
    template, body = binding
    names: dict[str, str] = _check_query(template, path) if "?" in path else {}
    if isinstance(fields, str) and body:
        sent = _check_json(method, body, fields)
        for proto, name in names.items():
            if proto in sent:
                # The transcoder would let the query's value override the body's.
                _remember(name)
                raise rules.refuse_query_parameter(name, "the body already says it")
        names = {**names, **sent} if names else sent
    if names:
        info.field_names = names


# --- 1. values ----------------------------------------------------------------------


@functools.cache
def _kind(field: FieldDescriptor) -> tuple[int, frozenset[int]]:
    if field.type == FieldDescriptor.TYPE_STRING:
        return _STRING, frozenset()
    if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        return _ENUM, frozenset(value.number for value in field.enum_type.values)
    if field.message_type is not None:
        if field.message_type.GetOptions().map_entry:
            return _MAP, frozenset()
        return _MESSAGE, frozenset()
    return _OTHER, frozenset()


def _check_values(message: Message, prefix: str) -> None:
    for field, value in message.ListFields():
        kind, numbers = _kind(field)
        if kind == _OTHER:
            continue
        name = prefix + field.name
        items = value if field.is_repeated and kind != _MAP else (value,)
        if kind == _STRING:
            for text in items:
                if rules.has_control_character(text):
                    raise rules.refuse_control_character(name)
        elif kind == _ENUM:
            for number in items:
                if number not in numbers:
                    raise rules.refuse_enum_number(name, number)
        elif kind == _MESSAGE:
            for item in items:
                _check_values(item, name + ".")
        else:
            _check_map(field, value, name)


def _check_map(field: FieldDescriptor, value: Any, name: str) -> None:
    assert field.message_type is not None
    value_field = field.message_type.fields_by_name["value"]
    for key, item in value.items():
        if isinstance(key, str) and rules.has_control_character(key):
            raise rules.refuse_control_character(name)
        if isinstance(item, Message):
            _check_values(item, name + ".")
        elif isinstance(item, str) and rules.has_control_character(item):
            raise rules.refuse_control_character(name)
        elif value_field.type == FieldDescriptor.TYPE_ENUM and item not in _kind(value_field)[1]:
            raise rules.refuse_enum_number(name, item)


# --- 2. the REST request as the client sent it -----------------------------------------


@functools.cache
def _method(
    method: str,
) -> tuple[Descriptor, Descriptor, tuple[tuple[rules.PathTemplate, str], ...]]:
    """The request and response types and the http bindings (template, body) of `method`."""
    found = descriptor_pool.Default().FindMethodByName(method.strip("/").replace("/", "."))
    rule = found.GetOptions().Extensions[annotations_pb2.http]
    bindings = []
    for each in (rule, *rule.additional_bindings):
        pattern = each.WhichOneof("pattern")
        if pattern and pattern != "custom":
            bindings.append((rules.path_template(getattr(each, pattern)), each.body))
    return found.input_type, found.output_type, tuple(bindings)


def _binding(method: str, path: str) -> tuple[rules.PathTemplate, str] | None:
    for template, body in _method(method)[2]:
        if template.matches(path):
            return template, body
    return None


@functools.cache
def _fields(message: Descriptor) -> dict[str, FieldDescriptor]:
    """A message's fields by JSON name and by proto name."""
    names = {field.name: field for field in message.fields}
    names.update({field.json_name: field for field in message.fields})
    return names


def _check_query(template: rules.PathTemplate, path: str) -> dict[str, str]:
    """Refuses a parameter naming a path variable; returns {proto path: name sent}.

    (One naming a field the body also holds is refused by the caller; one the
    body lacks sets it, as the README's signed search with `?limit=5` does.)
    """
    variables = {variable.split(".")[0] for variable in template.variables}
    names = {}
    for name in rules.query_names(path):
        proto = rules.snake(name)
        if proto.split(".")[0] in variables:
            _remember(name)
            raise rules.refuse_query_parameter(name, "the path already says it")
        names[proto] = name
    return names


def _remember(sent: str) -> None:
    call.current().field_names = {rules.snake(sent): sent}


@functools.lru_cache(maxsize=4096)
def _check_json(method: str, body: str, header: str) -> dict[str, str]:
    """Checks the body's keys; returns {proto path: name the client sent}."""
    request, response, _ = _method(method)
    root: Descriptor | None = request
    prefix = ""
    if body != "*":
        holder = _fields(request)[body]
        root, prefix = holder.message_type, body + "."
    names: dict[str, str] = {}
    for sent in rules.parse_json_fields(header):
        proto = _check_key(root, response, sent)
        names[prefix + proto] = sent.name
    return names


def _check_key(root: Descriptor | None, response: Descriptor, sent: rules.JsonField) -> str:
    message: Descriptor | None = root
    proto: list[str] = []
    for depth, key in enumerate(sent.path):
        name = ".".join(sent.path[: depth + 1])
        field = _fields(message).get(key) if message is not None else None
        if field is None:
            _remember(name)
            note = _resource_note(response, key) if depth == 0 else ""
            raise rules.refuse_unknown_field(name, note)
        proto.append(field.name)
        if _output_only(field):
            _remember(name)
            raise rules.refuse_output_only(name, _comment(field))
        kind, _ = _kind(field)
        if kind == _MAP:
            break
        message = field.message_type
        opaque = message is not None and message.full_name.startswith(_OPAQUE_PACKAGES)
        if depth == len(sent.path) - 1 and not opaque:
            _check_shape(field, sent.kinds, name)
        if message is not None:
            if opaque:
                break
            continue
        if field.type in _NUMERIC and not sent.kinds <= _NUMBER_KINDS:
            _remember(name)
            raise rules.refuse_number_text(name, money=field.type == FieldDescriptor.TYPE_DOUBLE)
    return ".".join(proto)


_NUMBER_KINDS = rules.NUMERIC_KINDS | {rules.ARRAY}


def _check_shape(field: FieldDescriptor, kinds: frozenset[str], name: str) -> None:
    """A list field holds a JSON array (or null), any other field never one.

    The transcoder reads `{"requests": {}}` as an empty list; refused here
    so that a client's mistake is not taken for an empty request.
    """
    sent = kinds - {rules.NULL}
    if field.is_repeated and sent and rules.ARRAY not in sent:
        _remember(name)
        raise rules.refuse_shape(name, "must be a JSON array")
    if not field.is_repeated and rules.ARRAY in sent:
        _remember(name)
        raise rules.refuse_shape(name, "must not be a JSON array")


def _resource_note(response: Descriptor, key: str) -> str:
    """The comment of `key` on the resource the method answers with, if it has one."""
    for holder in response.fields:
        if holder.message_type is None:
            continue
        field = _fields(holder.message_type).get(key)
        if field is not None:
            return _comment(field) or "it is not part of this request"
    return ""


def _output_only(field: FieldDescriptor) -> bool:
    options = field.GetOptions()
    if options.Extensions[field_behavior_pb2.field_behavior]:
        return (
            field_behavior_pb2.OUTPUT_ONLY in options.Extensions[field_behavior_pb2.field_behavior]
        )
    return _comment(field).startswith("Output only.")


def _comment(field: FieldDescriptor) -> str:
    return _comments().get(field.full_name, "")


@functools.cache
def _comments() -> dict[str, str]:
    """Leading comments of every message field, by full name (one paragraph each)."""
    file_set = descriptor_pb2.FileDescriptorSet()
    file_set.ParseFromString(DESCRIPTOR_SET_PATH.read_bytes())
    found: dict[str, str] = {}
    for file in file_set.file:
        comments = {
            tuple(location.path): " ".join(location.leading_comments.split())
            for location in file.source_code_info.location
            if location.leading_comments
        }
        # (message, its full name, its path in the file's source info)
        pending: list[tuple[descriptor_pb2.DescriptorProto, str, tuple[int, ...]]] = [
            (message, f"{file.package}.{message.name}", (4, index))
            for index, message in enumerate(file.message_type)
        ]
        while pending:
            message, name, path = pending.pop()
            for index, field in enumerate(message.field):
                text = comments.get((*path, 2, index))
                if text:
                    found[f"{name}.{field.name}"] = text
            pending.extend(
                (nested, f"{name}.{nested.name}", (*path, 3, index))
                for index, nested in enumerate(message.nested_type)
            )
    return found
