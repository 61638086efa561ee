"""The OpenAPI 3.1 document of the REST API, built from the descriptor set.

Every google.api.http binding (additional_bindings, so the seeds' aliases,
included) is a path; each operation answers the envelope Envoy builds
(envoy/envelope.lua): `{success, status, message, data, [pagination], meta}`
with the response message as `data` and the status the servicer announces
(outcomes.py), or the error envelope `{success, status, message, error:
{code, message, details?, field?}, meta}` per HTTP status with the error codes
that status carries for that call. `/oauth/*` and `/.well-known/*` speak the
RFCs (form requests, raw JSON or HTML answers, RFC 6749 error bodies), and
HttpBody answers are files. Seed examples (seed_examples.json) are attached
to the operations whose path they print.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, httpbody_pb2
from google.protobuf import descriptor_pb2

from backoffice.v1 import annotations_pb2 as bank_annotations
from server.openapi import envelope, outcomes
from server.openapi.schemas import PACKAGE, Builder, Registry, Schema, clean

EXAMPLES_PATH = Path(__file__).with_name("seed_examples.json")
HTTP_BODY = f".{httpbody_pb2.DESCRIPTOR.package}.HttpBody"
_VERBS = ("get", "put", "post", "delete", "patch")
_VARIABLE_RE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")
_STATUS_WORDS = {200: "OK", 201: "Created", 202: "Accepted"}
_STATUS_IN_COMMENT_RE = re.compile(
    r"\b(?:answer(?:s|ed)?:?|REST|status:?)\s+(20[12])\b|\((20[12])\)", re.IGNORECASE
)
_RAW_PREFIXES = ("/oauth/", "/.well-known/")
_REQUIRED_SCOPES: Any = bank_annotations.required_scopes  # (typed stubs know no extension)
_FILE_CONTENT = {
    "*/*": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
}


def build(file_set: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    """The whole document (deterministic: same descriptors, same JSON)."""
    registry = Registry.of(file_set)
    builder = Builder(registry)
    paths: dict[str, dict[str, Any]] = {}
    examples = _examples()
    services = _services(file_set)
    for service_comment, methods in services:
        for method, method_comment in methods:
            rule = method.options.Extensions[annotations_pb2.http]
            bindings = [b for b in (rule, *rule.additional_bindings) if b.WhichOneof("pattern")]
            example = next(
                (
                    examples[key]
                    for b in bindings
                    if (key := f"{b.WhichOneof('pattern').upper()} {_shape(_path(b))}") in examples
                ),
                None,
            )
            for index, binding in enumerate(bindings):
                verb = binding.WhichOneof("pattern")
                if verb not in _VERBS:
                    continue
                path = getattr(binding, verb)
                call = _Call(service_comment, method, method_comment, [t for _, t in methods])
                operation = _operation(builder, call, binding)
                operation["operationId"] = method.name if index == 0 else f"{method.name}_{index}"
                operation["tags"] = [service_comment[0]]
                _attach_examples(operation, example)
                openapi_path = _VARIABLE_RE.sub(lambda m: "{" + m.group(1) + "}", path)
                paths.setdefault(openapi_path, {})[verb] = operation
    schemas = builder.finish()
    schemas.update(envelope.envelope_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Banking Back Office API",
            "version": "v1",
            "description": envelope.INFO,
        },
        "servers": [
            {"url": "/", "description": "The Envoy that serves this document"},
            {"url": "http://127.0.0.1:8080", "description": "REST through Envoy"},
            {"url": "https://127.0.0.1:8443", "description": "REST over TLS 1.3"},
        ],
        "tags": [
            {"name": name, "description": comment} for (name, comment), _ in services if comment
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": dict(sorted(builder.responses.items())),
            "securitySchemes": envelope.security_schemes(),
            "parameters": envelope.PARAMETERS,
            "headers": envelope.HEADERS,
        },
    }


def _services(
    file_set: descriptor_pb2.FileDescriptorSet,
) -> list[tuple[tuple[str, str], list[tuple[descriptor_pb2.MethodDescriptorProto, str]]]]:
    """[((service name, comment), [(method, comment)])] of the package, in file order."""
    found = []
    for file in file_set.file:
        if file.package != PACKAGE:
            continue
        comments = {tuple(x.path): x.leading_comments for x in file.source_code_info.location}
        for s, service in enumerate(file.service):
            methods = [(m, comments.get((6, s, 2, i), "")) for i, m in enumerate(service.method)]
            found.append(((service.name, clean(comments.get((6, s), ""))), methods))
    return found


@dataclass(frozen=True)
class _Call:
    """One RPC and the comments around it."""

    service: tuple[str, str]  # (name, comment)
    method: descriptor_pb2.MethodDescriptorProto
    comment: str
    siblings: list[str]  # the comments of its service's RPCs


def _operation(builder: Builder, call: _Call, binding: Any) -> dict[str, Any]:
    registry, method, comment, path = builder.registry, call.method, call.comment, _path(binding)
    request = registry.messages[method.input_type]
    response = registry.messages.get(method.output_type)
    path_fields = [v.split(".")[0] for v in _VARIABLE_RE.findall(path)]
    verb = binding.WhichOneof("pattern")
    raw = path.startswith(_RAW_PREFIXES)
    scopes: list[str] = list(method.options.Extensions[_REQUIRED_SCOPES])
    description = clean(comment)
    operation: dict[str, Any] = {"summary": description.split(". ")[0].rstrip(".")}
    operation["description"] = description
    operation["parameters"] = _parameters(builder, request, path_fields, binding.body)
    idempotent = bool(method.options.Extensions[annotations_pb2.http].post) and (
        method.name not in outcomes.not_idempotent()
    )
    if idempotent:
        operation["parameters"].append({"$ref": "#/components/parameters/IdempotencyKey"})
    operation["parameters"].append({"$ref": "#/components/parameters/RequestId"})
    if binding.body:
        operation["requestBody"] = _request_body(
            builder, request, binding.body, path_fields, comment
        )
    operation["security"] = [{"oauth2": scopes}, {"apiKey": []}] if scopes else []
    texts = [comment, request.comment, call.service[1]]
    if response is not None:
        texts += [response.comment, *response.field_comments.values()]
    facts = outcomes.Facts(
        name=method.name,
        verb=verb,
        public=not scopes,
        has_path_id=bool(path_fields),
        has_body=bool(binding.body),
        body_fields=_body_fields(registry, request, binding.body),
        query=frozenset(p["name"] for p in operation["parameters"] if p.get("in") == "query"),
        idempotent=idempotent,
        comments="\n".join(texts),
    )
    if raw or method.output_type == HTTP_BODY:
        operation["responses"] = _raw_responses(builder, call, raw, facts)
        return operation
    assert response is not None
    statuses = set(outcomes.success_statuses(method.name))
    for text in (comment, response.comment, *response.field_comments.values()):
        statuses |= {int(a or b) for a, b in _STATUS_IN_COMMENT_RE.findall(text)}
    if len(statuses) > 1:
        statuses.discard(200)  # 200 is the default; a call that announces another one uses it
    body_field = binding.response_body
    data = (
        builder.field_schema(response, _field(response.proto, body_field))
        if body_field
        else builder.type_schema(method.output_type)
    )
    has_pagination = any(f.name == "pagination" for f in response.proto.field)
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _STATUS_WORDS[status],
            "headers": envelope.RESPONSE_HEADERS,
            "content": {"application/json": {"schema": envelope.success(data, has_pagination)}},
        }
    for status, codes in outcomes.error_codes(facts).items():
        responses[str(status)] = envelope.error_response(builder, status, codes)
    operation["responses"] = responses
    return operation


def _body_fields(registry: Registry, request: Any, body: str) -> frozenset[str]:
    """The JSON names of the top-level fields a call's body carries (none without one)."""
    message = request
    if body and body != "*":
        message = registry.messages.get(_field(request.proto, body).type_name)
    if not body or message is None:
        return frozenset()
    return frozenset(each.json_name for each in message.proto.field)


def _field(
    message: descriptor_pb2.DescriptorProto, name: str
) -> descriptor_pb2.FieldDescriptorProto:
    return next(f for f in message.field if f.name == name)


def _parameters(builder: Builder, request: Any, path_fields: list[str], body: str) -> list[Any]:
    """Path parameters, then (when the body is not `*`) every other leaf field as a query one."""
    parameters: list[Any] = []
    for each in request.proto.field:
        if each.name in path_fields:
            parameters.append(
                {
                    "name": each.name,
                    "in": "path",
                    "required": True,
                    "description": clean(request.field_comments.get(each.name, "")),
                    "schema": builder.field_schema(request, each),
                }
            )
    if body == "*":
        return parameters
    for name, schema, description in _query_leaves(builder, request, set(path_fields) | {body}):
        parameter: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
        if description:
            parameter["description"] = description
        if schema.get("type") == "array":
            parameter["explode"] = True
        parameters.append(parameter)
    return parameters


def _query_leaves(
    builder: Builder, message: Any, skipped: set[str], prefix: str = "", depth: int = 0
) -> list[tuple[str, Schema, str]]:
    """(dotted lowerCamelCase name, schema, description) of the fields a query string can set."""
    leaves: list[tuple[str, Schema, str]] = []
    for each in message.proto.field:
        if each.name in skipped:
            continue
        name = prefix + each.json_name
        description = clean(message.field_comments.get(each.name, ""))
        if each.json_name != each.name:  # the transcoder takes the proto name as well
            description = f"Also `{prefix}{each.name}`. {description}".strip()
        nested = builder.registry.messages.get(each.type_name) if each.type_name else None
        if nested is not None and each.label != each.LABEL_REPEATED and depth < 2:
            leaves += _query_leaves(builder, nested, set(), f"{name}.", depth + 1)
        elif nested is None or each.type_name.startswith(".google.protobuf."):
            leaves.append((name, builder.field_schema(message, each), description))
    return leaves


def _request_body(
    builder: Builder,
    request: Any,
    body: str,
    path_fields: list[str],
    comment: str,
) -> dict[str, Any]:
    registry = builder.registry
    if body != "*":
        body_field = _field(request.proto, body)
        if body_field.type_name == HTTP_BODY:  # a form the server parses (OAuth)
            field_comment = request.field_comments.get(body, "")
            form = _named_message(registry, f"{comment}\n{field_comment}", "Form")
            schema = builder.type_schema(form) if form else {"type": "object"}
            if form:
                registry.raw.add(form)
                registry.mark_input(form)
            return {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": schema}},
            }
        registry.mark_input(body_field.type_name)
        schema = builder.field_schema(request, body_field)
        return {"required": True, "content": {"application/json": {"schema": schema}}}
    registry.mark_input(request.full_name)
    present = [f for f in path_fields if any(x.name == f for x in request.proto.field)]
    if present:
        name = f"{request.full_name.rsplit('.', 1)[1]}.Body"
        builder.schemas[name] = builder.message_schema(request, leave_out=present)
        schema = {"$ref": f"#/components/schemas/{name}"}
    else:
        schema = builder.type_schema(request.full_name)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _named_message(registry: Registry, comment: str, suffix: str) -> str | None:
    """The message of this package a comment names whose name ends with `suffix`."""
    for word in re.findall(r"\b[A-Z][A-Za-z]+\b", comment):
        full_name = f".{PACKAGE}.{word}"
        if word.endswith(suffix) and full_name in registry.messages and word != "OAuthErrorBody":
            return full_name
    return None


def _raw_responses(
    builder: Builder, call: _Call, oauth: bool, facts: outcomes.Facts
) -> dict[str, Any]:
    """Answers written verbatim: the RFCs' JSON or HTML (OAuth), or a file."""
    registry, method, comment = builder.registry, call.method, call.comment
    if not oauth:  # a download: the file itself, with its own Content-Type
        responses: dict[str, Any] = {"200": {"description": "The file", "content": _FILE_CONTENT}}
        for status, codes in outcomes.error_codes(facts).items():
            responses[str(status)] = envelope.error_response(builder, status, codes)
        return responses
    request = registry.messages[method.input_type]
    form = _named_message(registry, "\n".join([comment, *request.field_comments.values()]), "Form")
    sharing = [text for text in call.siblings if form and form.rsplit(".", 1)[1] in text]
    answer = _named_message(registry, "\n".join([comment, *sharing]), "Body") or next(
        (
            f".{PACKAGE}.{w}"
            for w in ("JsonWebKeySet", "AuthorizationServerMetadata")
            if w in comment
        ),
        None,
    )
    if "HTML" in comment:
        content: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
    elif answer is not None and answer != f".{PACKAGE}.OAuthErrorBody":
        registry.raw.add(answer)
        content = {"application/json": {"schema": builder.type_schema(answer)}}
    else:
        content = {"application/json": {"schema": {"type": "object"}}}
    error_body = f".{PACKAGE}.OAuthErrorBody"
    registry.raw.add(error_body)
    error = {"application/json": {"schema": builder.type_schema(error_body)}}
    responses = {"200": {"description": "OK", "content": content}}
    if "302" in comment:
        responses["302"] = {"description": "Redirect to the client's redirect_uri (Location)"}
    responses["400"] = {
        "description": "RFC 6749 error (`invalid_request`, `invalid_grant`...)",
        "content": error,
    }
    if method.name in ("Token", "Refresh", "Revoke"):
        responses["401"] = {
            "description": "`invalid_client` (WWW-Authenticate: Basic)",
            "content": error,
        }
    responses["414"] = {"description": "URL over 4 KiB (`invalid_request`)", "content": error}
    # Envoy answers over-large headers before it routes: the contract's envelope.
    responses["431"] = envelope.error_response(builder, 431, ["REQUEST_HEADERS_TOO_LARGE"])
    responses["429"] = {"description": "Too many calls (Retry-After)", "content": error}
    responses["503"] = {"description": "`temporarily_unavailable` (Retry-After)", "content": error}
    return dict(sorted(responses.items()))


def _path(binding: Any) -> str:
    pattern = binding.WhichOneof("pattern")
    return str(getattr(binding, pattern)) if pattern in _VERBS else ""


def _shape(path: str) -> str:
    """A path with every variable written `{}` (`:id` of the seeds as well)."""
    return re.sub(r"\{[^}]*\}|:[A-Za-z_]+", "{}", path)


def _examples() -> dict[str, dict[str, Any]]:
    """{"METHOD /path/{}": seed example} from seed_examples.json."""
    if not EXAMPLES_PATH.is_file():
        return {}
    found = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    return {f"{e['method']} {_shape(e['path'])}": e for e in found["examples"]}


def _attach_examples(operation: dict[str, Any], example: dict[str, Any] | None) -> None:
    if example is None:
        return
    summary = f"{example['seed']}: {example['method']} {example['path']}"
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and "request" in example:
        body["examples"] = {"seed": {"summary": summary, "value": example["request"]}}
    response = operation["responses"].get(str(example.get("status")))
    if response is not None and "response" in example:
        content = response["content"]["application/json"]
        content["examples"] = {"seed": {"summary": summary, "value": example["response"]}}
