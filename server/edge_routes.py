"""Envoy routes derived from the API's google.api.http rules.

A REST path of the API called with a method it does not take passes the
transcoder untranslated; these routes answer it 405 with `Allow` (the
contract's "A known path with another method is 405"), one route per path
template, listed after the gRPC route by server/gateway.py. Like the gateway,
this module reads the descriptor set file and imports nothing from gen/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

# The HTTP methods of google.api.HttpRule patterns.
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_TEMPLATE_VARIABLE_RE = re.compile(r"\{[^}]*\}")


def http_rules(descriptor_set: Path, services: list[str]) -> dict[str, set[str]]:
    """{path template: HTTP methods} of every google.api.http binding of `services`."""
    file_set = descriptor_pb2.FileDescriptorSet()
    file_set.ParseFromString(Path(descriptor_set).read_bytes())
    templates: dict[str, set[str]] = {}
    for file in file_set.file:
        for service in file.service:
            if f"{file.package}.{service.name}" not in services:
                continue
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in (rule, *rule.additional_bindings):
                    verb = binding.WhichOneof("pattern")
                    if verb in _HTTP_METHODS:
                        templates.setdefault(getattr(binding, verb), set()).add(verb.upper())
    return templates


def _template_regex(template: str) -> str:
    """An RE2 pattern of the request paths a template matches (a variable is one segment)."""
    parts = _TEMPLATE_VARIABLE_RE.split(template)
    return "^" + "[^/]+".join(re.escape(part) for part in parts) + "$"


def _covers(general: str, specific: str) -> bool:
    """True when every path `specific` matches is matched by `general` too."""
    general_parts, specific_parts = general.split("/"), specific.split("/")
    if len(general_parts) != len(specific_parts):
        return False
    # A variable segment takes any segment but one with a custom verb (`{id}:poke`).
    return all(
        g == s or (_TEMPLATE_VARIABLE_RE.fullmatch(g) is not None and ":" not in s)
        for g, s in zip(general_parts, specific_parts, strict=True)
    )


def method_not_allowed_routes(templates: dict[str, set[str]]) -> str:
    """Envoy routes (YAML at the route list's indentation): 405 and Allow per template.

    A path's Allow lists the methods of every template that matches it (a literal
    `/v1/transactions/transfer` also answers GET as `/v1/transactions/{id}`), and
    the routes go most literal first, so that a path meets its most specific one.
    """
    order = sorted(templates, key=lambda t: (len(_TEMPLATE_VARIABLE_RE.findall(t)), -len(t), t))
    lines = []
    for template in order:
        allowed = set().union(*(m for t, m in templates.items() if _covers(t, template)))
        regex, allow = json.dumps(_template_regex(template)), ", ".join(sorted(allowed))
        lines += [
            f"              - match: {{ safe_regex: {{ regex: {regex} }} }}",
            "                direct_response: { status: 405 }",
            "                response_headers_to_add:",
            f"                - header: {{ key: allow, value: {json.dumps(allow)} }}",
            "                  append_action: OVERWRITE_IF_EXISTS_OR_ADD",
        ]
    return "\n".join(lines)
