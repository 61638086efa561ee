"""The OpenAPI document (gen/openapi.json, server/openapi/): valid, complete, truthful.

The live half (served by Envoy, real responses checked against it) is
tests/api/test_openapi.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from server.api.idempotency import NOT_IDEMPOTENT
from server.openapi import outcomes, seeds, site
from server.openapi.__main__ import render
from server.openapi.document import build

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_PATH = ROOT / "gen" / "openapi.json"
DESCRIPTOR_SET = ROOT / "gen" / "backoffice.binpb"
SEEDS = ROOT.parent / "shared" / "seeds"
VERBS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def file_set() -> descriptor_pb2.FileDescriptorSet:
    files = descriptor_pb2.FileDescriptorSet()
    files.ParseFromString(DESCRIPTOR_SET.read_bytes())
    return files


def shape(path: str) -> str:
    """A path with every variable as `{}` (the seeds' `:id` and `{id}` as well)."""
    return re.sub(r"\{[^}]*\}|:[A-Za-z_]+", "{}", path)


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (verb.upper(), shape(path)): operation
        for path, item in document["paths"].items()
        for verb, operation in item.items()
    }


def test_the_committed_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_a_freshly_built_document_is_valid_and_built_the_same_twice(
    file_set: descriptor_pb2.FileDescriptorSet,
) -> None:
    first = build(file_set)
    validate(first)
    assert json.dumps(build(file_set)) == json.dumps(first)
    assert render(DESCRIPTOR_SET) == render(DESCRIPTOR_SET)


def test_every_http_rule_of_the_protos_is_an_operation(
    document: dict[str, Any], file_set: descriptor_pb2.FileDescriptorSet
) -> None:
    documented = operations(document)
    missing = []
    for file in file_set.file:
        if file.package != "backoffice.v1":
            continue
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in (rule, *rule.additional_bindings):
                    verb = binding.WhichOneof("pattern")
                    if (
                        verb in VERBS
                        and (verb.upper(), shape(getattr(binding, verb))) not in documented
                    ):
                        missing.append(
                            f"{service.name}.{method.name} {verb} {getattr(binding, verb)}"
                        )
    assert missing == []


def settled(method: str, path: str, seed: str) -> list[tuple[str, str]]:
    """Where the contract puts a path a seed prints (API_CONTRACT.md, "Paths")."""
    if path.startswith(("/oauth/", "/.well-known/")):
        return [(method, path)]
    if seed.startswith("000"):  # base URL /backoffice/v1
        return [(method, f"/backoffice/v1{path}")]
    rest = path.removeprefix("/api/v1").removeprefix("/api")  # seed 002: base URL /api/v1
    return [(method, f"/api{rest}"), (method, f"/api/v1{rest}")]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds are in the project's shared folder")
def test_every_path_of_both_seed_documents_is_in_the_document(document: dict[str, Any]) -> None:
    documented = operations(document)
    printed = [
        (method, path, seed.name)
        for seed in sorted(SEEDS.glob("*.txt"))
        for method, path in seeds.seed_paths(seed)
    ]
    assert len(printed) >= 30  # both seeds were read
    missing = [
        f"{seed}: {method} {path}"
        for method, path, seed in printed
        for wanted in settled(method, path, seed)
        if (wanted[0], shape(wanted[1])) not in documented
    ]
    assert missing == []


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds are in the project's shared folder")
def test_the_committed_seed_examples_are_the_seeds() -> None:
    committed = ROOT / "server" / "openapi" / "seed_examples.json"
    assert committed.read_text(encoding="utf-8") == seeds.render(sorted(SEEDS.glob("*.txt")))


def test_seed_examples_are_attached_to_their_operations(document: dict[str, Any]) -> None:
    transfer = document["paths"]["/api/transactions/transfer"]["post"]
    request = transfer["requestBody"]["content"]["application/json"]["examples"]["seed"]
    assert request["value"]["fromAccountId"] == "acc_1a2b3c4d"
    answer = transfer["responses"]["201"]["content"]["application/json"]["examples"]["seed"]
    assert answer["value"]["data"]["transaction"]["type"] == "TRANSFER"
    # The canonical path of the same call carries the same example.
    canonical = document["paths"]["/v1/transactions/transfer"]["post"]
    assert "examples" in canonical["requestBody"]["content"]["application/json"]


def test_success_and_error_envelopes_are_described(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    envelope = schemas["ErrorEnvelope"]
    assert envelope["required"] == ["success", "status", "message", "error", "meta"]
    assert envelope["properties"]["success"] == {"const": False}
    assert envelope["properties"]["status"] == {"const": "error"}
    detail = schemas["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "details", "field"}
    assert {"TXN001", "TXN008", "IDEMPOTENCY_KEY_REUSED", "RATE_LIMITED"} <= set(
        detail["properties"]["code"]["enum"]
    )
    assert schemas["ResponseMeta"]["required"] == ["timestamp", "requestId", "version"]
    created = document["paths"]["/v1/accounts"]["post"]["responses"]["201"]
    success = created["content"]["application/json"]["schema"]
    assert success["properties"]["data"] == {"$ref": "#/components/schemas/CreateAccountResponse"}
    assert success["properties"]["success"] == {"const": True}
    listed = document["paths"]["/v1/accounts"]["get"]["responses"]["200"]
    assert "pagination" in listed["content"]["application/json"]["schema"]["properties"]


def error_codes(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, list[str]]:
    found = {}
    for status, answer in operation["responses"].items():
        if "$ref" in answer:
            name = answer["$ref"].rsplit("/", 1)[1]
            shared = document["components"]["responses"][name]
            schema = shared["content"]["application/json"]["schema"]
            found[status] = schema["properties"]["error"]["properties"]["code"]["enum"]
    return found


def test_each_outcome_has_its_status_and_the_contracts_codes(document: dict[str, Any]) -> None:
    paths = document["paths"]
    transfer = paths["/v1/transactions/transfer"]["post"]
    assert {"201", "202"} <= set(transfer["responses"])
    assert "200" not in transfer["responses"]
    codes = error_codes(document, transfer)
    assert {"TXN001", "TXN003", "TXN004", "TXN005", "TXN006"} <= set(codes["422"])
    assert "TXN002" in codes["404"]
    assert "IDEMPOTENCY_KEY_REUSED" in codes["409"]
    assert codes["401"] == ["UNAUTHORIZED"] and codes["403"] == ["FORBIDDEN"]
    cancel = paths["/v1/transactions/{transaction_id}/cancel"]["post"]
    assert {"TXN007", "TXN008"} <= set(error_codes(document, cancel)["409"])
    assert "200" in cancel["responses"]
    assert "202" in paths["/v1/reports/custom"]["post"]["responses"]
    read = paths["/v1/accounts/{account_id}"]["get"]
    assert [s for s in read["responses"] if s.startswith("2")] == ["200"]
    assert "NOT_FOUND" in error_codes(document, read)["404"]


def test_statuses_come_from_the_servicers() -> None:
    assert outcomes.success_statuses("CreateAccount") == [201]
    assert outcomes.success_statuses("CreateCustomReport") == [202]
    assert outcomes.success_statuses("CreateTransfer") == [201, 202]
    assert outcomes.success_statuses("GetAccount") == [200]
    statuses = outcomes.error_statuses()
    assert statuses["TXN001"] == 422 and statuses["TXN002"] == 404 and statuses["TXN007"] == 409


def test_fields_are_camel_case_money_numbers_enums_words(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    account = schemas["Account"]["properties"]
    assert "accountNumber" in account and "account_number" not in account
    assert account["balance"]["type"] == "number"
    kinds = schemas["AccountTypeEnum.AccountType"]["enum"]
    assert kinds == ["SAVINGS", "CHECKING", "BUSINESS"]
    assert not any(
        word.endswith("_UNSPECIFIED") for s in schemas.values() for word in s.get("enum", [])
    )
    # RFC bodies keep the RFCs' names.
    assert "access_token" in schemas["TokenResponseBody"]["properties"]


def test_security_schemes_are_oauth2_and_api_key(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    flows = schemes["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert flows["authorizationCode"]["authorizationUrl"] == "/oauth/authorize"
    assert "PKCE" in schemes["oauth2"]["description"]
    assert schemes["apiKey"] == {
        **schemes["apiKey"],
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    paths = document["paths"]
    assert paths["/oauth/token"]["post"]["security"] == []
    freeze = paths["/v1/accounts/{account_id}/freeze"]["post"]["security"]
    assert freeze[0] == {"oauth2": ["banking.write", "backoffice.admin"]}


def test_docs_routes_say_so_when_swagger_ui_is_missing(tmp_path: Path) -> None:
    files = {path: (file, kind) for path, file, kind in site.served_files(DOCUMENT_PATH, tmp_path)}
    assert files["/openapi.json"] == (DOCUMENT_PATH, "application/json")
    assert files["/docs"][0].name == "unavailable.html"
    assert files["/docs"][1].startswith("text/html")
    assert not any(path.endswith(".js") for path in files)
    routes = site.routes(list(site.served_files(DOCUMENT_PATH, tmp_path)))
    assert routes.count("direct_response:") == len(files)
    assert '"^(GET|HEAD)$"' in routes


def test_docs_routes_serve_swagger_ui_when_installed(tmp_path: Path) -> None:
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        (tmp_path / name).write_text("/* */", encoding="utf-8")
    files = {path: (file, kind) for path, file, kind in site.served_files(DOCUMENT_PATH, tmp_path)}
    assert files["/docs"][0].name == "index.html"
    assert files["/docs/swagger-ui-bundle.js"][1].startswith("application/javascript")
    assert files["/docs/swagger-ui.css"][1].startswith("text/css")


def test_the_calls_without_idempotency_keys_are_the_servers() -> None:
    assert outcomes.not_idempotent() == NOT_IDEMPOTENT
