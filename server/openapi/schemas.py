"""JSON Schemas of the API's messages as clients receive and send them.

What Envoy's transcoder prints (envoy/envoy.yaml.tmpl, print_options): field
names in lowerCamelCase (each field's json_name); enums as their words, never
`*_UNSPECIFIED`; money (`double`, major units) as a JSON number; 64-bit
integers as strings (proto3 JSON); timestamps as RFC 3339 strings; every field
without presence printed (zero, false and [] included), so it is `required` in
a response, while `optional` fields, oneof members and unset messages may be
absent. In a request, the fields whose comment starts "Required." are required
and "Output only." fields are `readOnly`. Descriptions are the protos' comments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2

PACKAGE = "backoffice.v1"
Schema = dict[str, Any]
F = descriptor_pb2.FieldDescriptorProto

_SCALARS: dict[int, Schema] = {
    F.TYPE_DOUBLE: {"type": "number"},
    F.TYPE_FLOAT: {"type": "number"},
    F.TYPE_INT32: {"type": "integer", "format": "int32"},
    F.TYPE_SINT32: {"type": "integer", "format": "int32"},
    F.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    F.TYPE_UINT32: {"type": "integer", "format": "int32", "minimum": 0},
    F.TYPE_FIXED32: {"type": "integer", "format": "int32", "minimum": 0},
    # proto3 JSON prints 64-bit integers as strings (a request may send a number).
    F.TYPE_INT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    F.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    F.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    F.TYPE_UINT64: {"type": "string", "format": "int64", "pattern": "^[0-9]+$"},
    F.TYPE_FIXED64: {"type": "string", "format": "int64", "pattern": "^[0-9]+$"},
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WELL_KNOWN: dict[str, Schema] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"},
    ".google.protobuf.Struct": {"type": "object"},
    ".google.protobuf.Value": {},
    ".google.protobuf.ListValue": {"type": "array"},
    ".google.protobuf.Empty": {"type": "object"},
    ".google.protobuf.FieldMask": {"type": "string"},
}
OUTPUT_ONLY, REQUIRED = "Output only.", "Required."


def clean(comment: str) -> str:
    """A proto comment as a description: lint markers dropped, lines joined in paragraphs."""
    lines = [line.strip() for line in comment.strip().splitlines()]
    kept = [
        line for line in lines if not line.startswith(("buf:lint:", "(RFC", "(HTML", "(Standard"))
    ]
    paragraphs = " ".join(line or "\n\n" for line in kept)
    return "\n\n".join(part.strip() for part in paragraphs.split("\n\n") if part.strip())


@dataclass
class Message:
    full_name: str  # .backoffice.v1.Account
    proto: descriptor_pb2.DescriptorProto
    comment: str
    field_comments: dict[str, str]


@dataclass
class Enum:
    full_name: str
    proto: descriptor_pb2.EnumDescriptorProto
    comment: str
    value_comments: dict[str, str]


@dataclass
class Registry:
    """Every message and enum of a FileDescriptorSet, with its comments."""

    messages: dict[str, Message] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    # Messages a request can carry: their "Required." fields are required.
    inputs: set[str] = field(default_factory=set)
    # Messages written verbatim by the server (OAuth RFC bodies): proto field names.
    raw: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, file_set: descriptor_pb2.FileDescriptorSet) -> Registry:
        registry = cls()
        for file in file_set.file:
            comments = {
                tuple(location.path): location.leading_comments
                for location in file.source_code_info.location
            }
            prefix = f".{file.package}" if file.package else ""
            for index, message in enumerate(file.message_type):
                registry._add_message(prefix, message, (4, index), comments)
            for index, enum in enumerate(file.enum_type):
                registry._add_enum(prefix, enum, (5, index), comments)
        return registry

    def _add_message(
        self,
        prefix: str,
        message: descriptor_pb2.DescriptorProto,
        path: tuple[int, ...],
        comments: dict[tuple[int, ...], str],
    ) -> None:
        name = f"{prefix}.{message.name}"
        field_comments = {
            each.name: comments.get((*path, 2, index), "")
            for index, each in enumerate(message.field)
        }
        self.messages[name] = Message(name, message, comments.get(path, ""), field_comments)
        for index, nested in enumerate(message.nested_type):
            self._add_message(name, nested, (*path, 3, index), comments)
        for index, enum in enumerate(message.enum_type):
            self._add_enum(name, enum, (*path, 4, index), comments)

    def _add_enum(
        self,
        prefix: str,
        enum: descriptor_pb2.EnumDescriptorProto,
        path: tuple[int, ...],
        comments: dict[tuple[int, ...], str],
    ) -> None:
        name = f"{prefix}.{enum.name}"
        values = {
            value.name: comments.get((*path, 2, index), "")
            for index, value in enumerate(enum.value)
        }
        self.enums[name] = Enum(name, enum, comments.get(path, ""), values)

    def mark_input(self, full_name: str) -> None:
        """Marks a request message and every message it holds as sent by clients."""
        if full_name in self.inputs or full_name not in self.messages:
            return
        self.inputs.add(full_name)
        for each in self.messages[full_name].proto.field:
            if each.type == F.TYPE_MESSAGE:
                self.mark_input(each.type_name)


def component_name(full_name: str) -> str:
    """`.backoffice.v1.AccountTypeEnum.AccountType` -> `AccountTypeEnum.AccountType`."""
    return full_name.removeprefix(f".{PACKAGE}.").lstrip(".")


def ref(full_name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{component_name(full_name)}"}


class Builder:
    """Writes components.schemas for the messages and enums that are referenced."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.schemas: dict[str, Schema] = {}
        self.responses: dict[str, Any] = {}  # components.responses (document.py)
        self._pending: list[str] = []

    def field_schema(self, owner: Message, each: F) -> Schema:
        """The schema of one field's value (repeated and map fields included)."""
        if each.type == F.TYPE_MESSAGE:
            entry = self.registry.messages.get(each.type_name)
            if entry is not None and entry.proto.options.map_entry:
                value = entry.proto.field[1]
                return {"type": "object", "additionalProperties": self.field_schema(entry, value)}
            single = self.type_schema(each.type_name)
        elif each.type == F.TYPE_ENUM:
            single = self.type_schema(each.type_name)
        else:
            single = dict(_SCALARS[each.type])
        if each.label == F.LABEL_REPEATED:
            return {"type": "array", "items": single}
        return single

    def type_schema(self, full_name: str) -> Schema:
        """A reference to a message or enum (written once), or a well-known type inline."""
        if full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[full_name])
        name = component_name(full_name)
        if name not in self.schemas:
            self.schemas[name] = {}  # a placeholder: recursive messages end here
            self._pending.append(full_name)
        return ref(full_name)

    def finish(self) -> dict[str, Schema]:
        """Writes every referenced schema; returns components.schemas in name order."""
        while self._pending:
            full_name = self._pending.pop()
            name = component_name(full_name)
            if full_name in self.registry.enums:
                self.schemas[name] = self._enum(self.registry.enums[full_name])
            else:
                self.schemas[name] = self.message_schema(self.registry.messages[full_name])
        return dict(sorted(self.schemas.items()))

    def _enum(self, enum: Enum) -> Schema:
        words = [v.name for v in enum.proto.value if not v.name.endswith("_UNSPECIFIED")]
        lines = [f"- `{word}`: {clean(enum.value_comments[word])}" for word in words]
        description = "\n\n".join(part for part in (clean(enum.comment), "\n".join(lines)) if part)
        return {"type": "string", "enum": words, "description": description}

    def message_schema(self, message: Message, leave_out: Iterable[str] = ()) -> Schema:
        """An object schema of `message`, without the fields named in `leave_out`."""
        skipped = set(leave_out)
        raw = message.full_name in self.registry.raw
        is_input = message.full_name in self.registry.inputs
        properties: Schema = {}
        required: list[str] = []
        oneof_members = {
            each.name
            for each in message.proto.field
            if each.HasField("oneof_index") and not each.proto3_optional
        }
        for each in message.proto.field:
            if each.name in skipped:
                continue
            name = each.name if raw else each.json_name
            comment = clean(message.field_comments.get(each.name, ""))
            value = self.field_schema(message, each)
            if comment:
                value = {**value, "description": comment}
            if comment.startswith(OUTPUT_ONLY) and is_input:
                value["readOnly"] = True
            deprecated = each.options.deprecated
            if deprecated:  # kept for its number only: never sent, never required
                value["deprecated"] = True
            properties[name] = value
            if deprecated:
                continue
            if is_input:
                if comment.startswith(REQUIRED):
                    required.append(name)
            elif not (
                each.proto3_optional
                or each.name in oneof_members
                or (each.type == F.TYPE_MESSAGE and each.label != F.LABEL_REPEATED)
            ):
                required.append(name)
        schema: Schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        if message.comment:
            schema["description"] = clean(message.comment)
        return schema
