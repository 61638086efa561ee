"""A Postman collection (v2.1) and its sandbox environment, from gen/openapi.json.

python -m server.openapi.postman OPENAPI OUT_DIR writes
OUT_DIR/backoffice.postman_collection.json and OUT_DIR/sandbox.postman_environment.json
(`make gen` runs it after the OpenAPI document, so `make gen-check` guards both).

The collection: OAuth 2.0 (client credentials) at the collection level, and a
collection pre-request script that fetches the token with pm.sendRequest when
it is missing or about to expire (newman fetches no OAuth token itself); a
"Quick start" folder that runs end to end (postman_quickstart.py); then one
folder per tag with every operation (aliases included): its seed example body,
or a minimal body built from the schema's required fields, path parameters as
collection variables, an Idempotency-Key `{{$guid}}` where the call takes one,
and the tests "no 5xx" and "the envelope's shape".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

from server.openapi import postman_quickstart as quickstart

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
COLLECTION_FILE = "backoffice.postman_collection.json"
ENVIRONMENT_FILE = "sandbox.postman_environment.json"
SANDBOX = {
    "baseUrl": "http://127.0.0.1:8080",
    "clientId": "sandbox-client",
    "clientSecret": "sandbox-secret",
}
SCOPES = "banking.read banking.write backoffice.admin"
_NAMESPACE = uuid.UUID("6f1c7e0a-6a59-4c55-9d0e-2b7d8f3c1a10")
_VERBS = ("get", "put", "post", "delete", "patch")
_RAW_PREFIXES = ("/oauth/", "/.well-known/")
# Request fields whose value is a collection variable the Quick start sets.
_FIELD_VARIABLES = {
    "accountId": "{{accountId}}",
    "fromAccountId": "{{accountId}}",
    "toAccountId": "{{secondAccountId}}",
    "ownerId": "{{userId}}",
    "userId": "{{userId}}",
    "transactionId": "{{transactionId}}",
    "client_id": "{{clientId}}",
    "client_secret": "{{clientSecret}}",
    "currency": "USD",
    "email": "{{$randomEmail}}",
    "password": "correct-horse-battery-9",
    "grant_type": "client_credentials",
}

_QUICKSTART_IDS = {k for k, v in _FIELD_VARIABLES.items() if v.strip("{}") in quickstart.VARIABLES}

TOKEN_SCRIPT = [
    "// Fetches an access token (client credentials) when there is none or it",
    "// expires within a minute; the collection's OAuth 2.0 auth sends it.",
    "const expiresAt = Number(pm.collectionVariables.get('accessTokenExpiresAt') || 0);",
    "if (!pm.collectionVariables.get('accessToken') || Date.now() > expiresAt - 60000) {",
    "    pm.sendRequest({",
    "        url: pm.variables.replaceIn('{{baseUrl}}/oauth/token'),",
    "        method: 'POST',",
    "        header: { 'Content-Type': 'application/x-www-form-urlencoded' },",
    "        body: {",
    "            mode: 'urlencoded',",
    "            urlencoded: [",
    "                { key: 'grant_type', value: 'client_credentials' },",
    "                { key: 'client_id', value: pm.variables.get('clientId') },",
    "                { key: 'client_secret', value: pm.variables.get('clientSecret') },",
    f"                {{ key: 'scope', value: '{SCOPES}' }}",
    "            ]",
    "        }",
    "    }, (error, response) => {",
    "        if (error || response.code !== 200) {",
    "            console.error('no access token', error || response.text());",
    "            return;",
    "        }",
    "        const token = response.json();",
    "        pm.collectionVariables.set('accessToken', token.access_token);",
    "        pm.collectionVariables.set(",
    "            'accessTokenExpiresAt', String(Date.now() + token.expires_in * 1000));",
    "    });",
    "}",
]

_NO_5XX = [
    "pm.test('no 5xx', () => {",
    "    pm.expect(pm.response.code, pm.response.text()).to.be.below(500);",
    "});",
]
_ENVELOPE = [
    "function isJson() {",
    "    return (pm.response.headers.get('Content-Type') || '').startsWith('application/json');",
    "}",
    "function checkEnvelope(body) {",
    "    pm.expect(body.success).to.be.a('boolean');",
    "    pm.expect(body.status).to.equal(body.success ? 'success' : 'error');",
    "    pm.expect(body.message).to.be.a('string');",
    "    pm.expect(body.meta).to.be.an('object');",
    "    pm.expect(body.meta.requestId).to.be.a('string');",
    "    pm.expect(body.meta.version).to.equal('v1');",
    "    if (body.success) {",
    "        pm.expect(body).to.have.property('data');",
    "    } else {",
    "        pm.expect(body.error.code).to.be.a('string');",
    "        pm.expect(body.error.message).to.be.a('string');",
    "    }",
    "}",
]
_TESTS = {
    "envelope": [
        'pm.test("the envelope\'s shape", () => {',
        "    pm.expect(isJson(), 'a JSON answer').to.be.true;",
        "    checkEnvelope(pm.response.json());",
        "});",
    ],
    "file": [
        'pm.test("the envelope\'s shape", () => {',
        "    // A file on success; an error is the error envelope.",
        "    if (pm.response.code >= 400 || isJson()) { checkEnvelope(pm.response.json()); }",
        "});",
    ],
    "oauth": [
        'pm.test("the envelope\'s shape", () => {',
        "    // RFC 6749 and RFC 8414 bodies, not the envelope: an error is {error}.",
        "    // The authorization pages answer HTML, errors included.",
        "    if (!isJson()) {",
        "        pm.expect(pm.response.text()).to.match(/^<!DOCTYPE html>|^$/i);",
        "    } else if (pm.response.code >= 400) {",
        "        pm.expect(pm.response.json().error).to.be.a('string');",
        "    } else {",
        "        pm.expect(pm.response.json()).to.be.an('object');",
        "    }",
        "});",
    ],
}


def build_collection(document: dict[str, Any]) -> dict[str, Any]:
    """The collection (deterministic: same document, same JSON)."""
    folders: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in document.get("tags", [])}
    variables: dict[str, str] = {}
    operations = [
        (path, verb, operation)
        for path, verbs in document["paths"].items()
        for verb, operation in verbs.items()
        if verb in _VERBS
    ]
    # Each folder: the calls under their own path first, then the seeds' aliases.
    operations.sort(key=lambda each: _is_alias(each[2]))
    for path, verb, operation in operations:
        item = _request_item(document, path, verb, operation, variables)
        folders.setdefault(operation["tags"][0], []).append(item)
    descriptions = {t["name"]: t.get("description", "") for t in document.get("tags", [])}
    items = [quickstart.folder(document, _NO_5XX + _ENVELOPE, url)]
    for tag, requests in folders.items():
        if requests:
            items.append({"name": tag, "description": descriptions.get(tag, ""), "item": requests})
    collection_variables = [
        {"key": "baseUrl", "value": SANDBOX["baseUrl"]},
        {"key": "clientId", "value": SANDBOX["clientId"]},
        {"key": "clientSecret", "value": SANDBOX["clientSecret"]},
        {"key": "accessToken", "value": ""},
        {"key": "accessTokenExpiresAt", "value": "0"},
    ]
    for name in quickstart.VARIABLES:
        variables[name] = ""
    collection_variables += [
        {"key": k, "value": v, "description": _variable_description(k)}
        for k, v in sorted(variables.items())
    ]
    info = document["info"]
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(_NAMESPACE, info["title"])),
            "name": info["title"],
            "description": (
                "Generated from gen/openapi.json by server/openapi/postman.py (`make gen`). "
                "Run it with the sandbox environment (gen/sandbox.postman_environment.json): "
                "the collection fetches its own OAuth token. Run **Quick start** first: it "
                "sets the ids (`userId`, `accountId`, `secondAccountId`, `transactionId`) "
                "the other requests use.\n\n" + info.get("description", "")
            ),
            "schema": SCHEMA,
        },
        "auth": {
            "type": "oauth2",
            "oauth2": [
                {"key": "grant_type", "value": "client_credentials", "type": "string"},
                {"key": "accessTokenUrl", "value": "{{baseUrl}}/oauth/token", "type": "string"},
                {"key": "clientId", "value": "{{clientId}}", "type": "string"},
                {"key": "clientSecret", "value": "{{clientSecret}}", "type": "string"},
                {"key": "scope", "value": SCOPES, "type": "string"},
                {"key": "client_authentication", "value": "body", "type": "string"},
                {"key": "accessToken", "value": "{{accessToken}}", "type": "string"},
                {"key": "headerPrefix", "value": "Bearer", "type": "string"},
                {"key": "addTokenTo", "value": "header", "type": "string"},
                {"key": "tokenName", "value": "sandbox", "type": "string"},
            ],
        },
        "event": [_event("prerequest", TOKEN_SCRIPT)],
        "variable": collection_variables,
        "item": items,
    }


def _variable_description(name: str) -> str:
    if name in quickstart.VARIABLES:
        return "Set by Quick start (the customer, accounts and transfer it makes)."
    return "A path parameter: set it to an id of yours (`example` names nothing: 404)."


def build_environment() -> dict[str, Any]:
    """The sandbox environment (README "Sandbox data")."""
    return {
        "id": str(uuid.uuid5(_NAMESPACE, "sandbox")),
        "name": "Banking Back Office sandbox",
        "values": [
            {
                "key": key,
                "value": value,
                "type": "secret" if key == "clientSecret" else "default",
                "enabled": True,
            }
            for key, value in SANDBOX.items()
        ],
        "_postman_variable_scope": "environment",
    }


def variable_name(parameter: str) -> str:
    """A path parameter's collection variable: `account_id` -> `accountId`."""
    head, *rest = parameter.split("_")
    return head + "".join(part.capitalize() for part in rest)


def url(path: str, query: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A Postman URL of `path` (OpenAPI `{x}` variables as `{{x}}`) on {{baseUrl}}."""
    templated = re.sub(r"\{([^}]+)\}", lambda m: "{{" + variable_name(m.group(1)) + "}}", path)
    raw = "{{baseUrl}}" + templated
    enabled = [q for q in query or [] if not q.get("disabled")]
    if enabled:
        raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in enabled)
    result: dict[str, Any] = {
        "raw": raw,
        "host": ["{{baseUrl}}"],
        "path": [part for part in templated.split("/") if part],
    }
    if query:
        result["query"] = query
    return result


def _request_item(
    document: dict[str, Any],
    path: str,
    verb: str,
    operation: dict[str, Any],
    variables: dict[str, str],
) -> dict[str, Any]:
    for name in re.findall(r"\{([^}]+)\}", path):
        variables.setdefault(variable_name(name), "example")  # 404 until set
    alias = _is_alias(operation)
    name = operation.get("summary") or operation["operationId"]
    headers: list[dict[str, Any]] = []
    parameters = [_resolve(document, p) for p in operation.get("parameters", [])]
    if any(p.get("name") == "Idempotency-Key" for p in parameters):
        headers.append({"key": "Idempotency-Key", "value": "{{$guid}}"})
    query = [
        {
            "key": p["name"],
            "value": _example(document, p.get("schema", {}), p["name"]),
            **({} if p.get("required") else {"disabled": True}),
        }
        for p in parameters
        if p.get("in") == "query" and "." not in p["name"]
    ]
    request: dict[str, Any] = {"method": verb.upper(), "header": headers, "url": url(path, query)}
    body = _body(document, operation)
    if body is not None:
        request["body"] = body
        if body["mode"] == "raw":
            headers.append({"key": "Content-Type", "value": "application/json"})
    request["description"] = f"`{verb.upper()} {path}`\n\n{operation.get('description', '')}"
    if not operation.get("security"):
        request["auth"] = {"type": "noauth"}
    kind = _kind(path, operation)
    item: dict[str, Any] = {
        "name": f"{name} ({path})" if alias else name,
        "event": [_event("test", _NO_5XX + _ENVELOPE + _TESTS[kind])],
        "request": request,
    }
    if path.startswith("/oauth/"):
        item["protocolProfileBehavior"] = {"followRedirects": False}
    return item


def _is_alias(operation: dict[str, Any]) -> bool:
    """An additional binding (seed 000's or seed 002's path for the same call)."""
    return re.search(r"_\d+$", operation["operationId"]) is not None


def _kind(path: str, operation: dict[str, Any]) -> str:
    if path.startswith(_RAW_PREFIXES):
        return "oauth"
    success = operation["responses"].get("200", {}).get("content", {})
    return "file" if "application/json" not in success and success else "envelope"


def _body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        media = content["application/json"]
        seed = media.get("examples", {}).get("seed")
        value = seed["value"] if seed else _example(document, media["schema"], "")
        return {
            "mode": "raw",
            "raw": json.dumps(value, indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}},
        }
    if "application/x-www-form-urlencoded" in content:
        schema = _resolve(document, content["application/x-www-form-urlencoded"]["schema"])
        fields = list(schema.get("required", [])) or ["grant_type", "client_id", "client_secret"]
        properties = schema.get("properties", {})
        form = [
            {"key": f, "value": _example(document, properties.get(f, {}), f)}
            for f in fields
            if f in properties
        ]
        return {"mode": "urlencoded", "urlencoded": form}
    return None


def _example(document: dict[str, Any], schema: dict[str, Any], name: str, depth: int = 0) -> Any:
    """A small valid-looking value of `schema` (required fields only, for objects)."""
    if name in _FIELD_VARIABLES:
        return _FIELD_VARIABLES[name]
    schema = _resolve(document, schema)
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            merged = {k: v for k, v in schema.items() if k != combined}
            return _example(document, {**_resolve(document, schema[combined][0]), **merged}, name)
    if "const" in schema or schema.get("enum"):
        return schema.get("const", (schema.get("enum") or [None])[0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind != "object":
        return [] if kind == "array" else _scalar(kind, schema.get("format", ""))
    properties = schema.get("properties", {}) if depth <= 4 else {}
    # Required fields, and the ids the Quick start has made (its customer, accounts).
    chosen = [f for f in properties if f in schema.get("required", []) or f in _QUICKSTART_IDS]
    return {field: _example(document, properties[field], field, depth + 1) for field in chosen}


def _scalar(kind: str, form: str) -> Any:
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return {"date": "2026-01-02", "date-time": "2026-01-02T00:00:00Z"}.get(form, "example")


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _event(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


def render(document: dict[str, Any]) -> tuple[str, str]:
    """(collection, environment) as the committed files hold them."""
    return _dump(build_collection(document)), _dump(build_environment())


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.openapi.postman", description=__doc__)
    parser.add_argument("openapi", type=Path)
    parser.add_argument("out_dir", type=Path)
    arguments = parser.parse_args(argv)
    document = json.loads(arguments.openapi.read_text(encoding="utf-8"))
    collection, environment = render(document)
    (arguments.out_dir / COLLECTION_FILE).write_text(collection, encoding="utf-8")
    (arguments.out_dir / ENVIRONMENT_FILE).write_text(environment, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
