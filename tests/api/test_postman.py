"""The Postman collection (gen/backoffice.postman_collection.json), run by newman.

newman runs the whole collection against a stack of the module's own (its
requests close accounts, delete users and subscriptions, advance the sandbox
clock), on both databases: the Quick start end to end, then every operation,
each one no 5xx and in the envelope's shape. The collection is checked for
what it promises, too: every operation of gen/openapi.json, OAuth 2.0 at the
collection level, the sandbox environment.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.config import REPO_ROOT
from server.openapi import postman
from server.run import Stack
from tests.common.databases import IN_CI
from tests.common.stack import running_stack

GEN = REPO_ROOT / "gen"
COLLECTION = GEN / postman.COLLECTION_FILE
ENVIRONMENT = GEN / postman.ENVIRONMENT_FILE
NEWMAN = REPO_ROOT / ".venv" / "node-newman" / "node_modules" / ".bin" / "newman"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
VERBS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def collection() -> dict[str, Any]:
    return json.loads(COLLECTION.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads((GEN / "openapi.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _requests(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        if "item" in item:
            yield from _requests(item["item"])
        else:
            yield item


def test_every_operation_is_a_request_of_the_collection(
    collection: dict[str, Any], document: dict[str, Any]
) -> None:
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    folders = [folder["name"] for folder in collection["item"]]
    assert folders[0] == "Quick start"
    assert set(folders[1:]) <= {tag["name"] for tag in document["tags"]}
    expected = sorted(
        (verb.upper(), "{{baseUrl}}" + path)
        for path, operations in document["paths"].items()
        for verb in operations
        if verb in VERBS
    )
    requests = [
        (r["request"]["method"], r["request"]["url"]["raw"].split("?")[0])
        for folder in collection["item"][1:]
        for r in _requests(folder["item"])
    ]
    templated = sorted(
        (verb, path.replace("{{", "{").replace("}}", "}")) for verb, path in requests
    )
    as_documented = sorted(
        (verb, postman.url(path[len("{{baseUrl}}") :])["raw"].replace("{{", "{").replace("}}", "}"))
        for verb, path in expected
    )
    assert templated == as_documented
    for request in _requests(collection["item"]):
        tests = "\n".join(request["event"][0]["script"]["exec"])
        assert "pm.test('no 5xx'" in tests
        assert "the envelope's shape" in tests


def test_seed_examples_are_the_request_bodies(
    collection: dict[str, Any], document: dict[str, Any]
) -> None:
    bodies = {
        (r["request"]["method"], r["request"]["url"]["raw"]): r["request"].get("body")
        for folder in collection["item"][1:]
        for r in _requests(folder["item"])
    }
    seeds = 0
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None or "seed" not in media.get("examples", {}):
                continue
            body = bodies[(verb.upper(), postman.url(path)["raw"])]
            assert json.loads(body["raw"]) == media["examples"]["seed"]["value"]
            seeds += 1
    assert seeds >= 20


def test_oauth_is_set_up_at_the_collection_level(collection: dict[str, Any]) -> None:
    auth = {entry["key"]: entry["value"] for entry in collection["auth"]["oauth2"]}
    assert collection["auth"]["type"] == "oauth2"
    assert auth["grant_type"] == "client_credentials"
    assert auth["accessTokenUrl"] == "{{baseUrl}}/oauth/token"
    assert (auth["clientId"], auth["clientSecret"]) == ("{{clientId}}", "{{clientSecret}}")
    assert auth["accessToken"] == "{{accessToken}}"
    script = "\n".join(collection["event"][0]["script"]["exec"])
    assert collection["event"][0]["listen"] == "prerequest"
    assert "pm.sendRequest" in script and "/oauth/token" in script
    environment = json.loads(ENVIRONMENT.read_text(encoding="utf-8"))
    values = {v["key"]: v["value"] for v in environment["values"]}
    assert values == {
        "baseUrl": "http://127.0.0.1:8080",
        "clientId": "sandbox-client",
        "clientSecret": "sandbox-secret",
    }


@pytest.fixture(scope="module", params=BACKENDS)
def postman_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp(f"postman-{request.param}")
    with running_stack(request.param, tmp) as running:
        yield running


def test_newman_runs_the_collection_against_the_sandbox(
    postman_stack: Stack, tmp_path: Path, collection: dict[str, Any]
) -> None:
    if not NEWMAN.exists():
        message = f"newman is not installed at {NEWMAN}: make newman (needs npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    environment = json.loads(ENVIRONMENT.read_text(encoding="utf-8"))
    for value in environment["values"]:
        if value["key"] == "baseUrl":
            value["value"] = postman_stack.http_url
    environment_path = tmp_path / "sandbox.postman_environment.json"
    environment_path.write_text(json.dumps(environment), encoding="utf-8")
    report_path = tmp_path / "newman.json"
    result = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(COLLECTION),
            "-e",
            str(environment_path),
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report_path),
            "--reporter-cli-no-banner",
            "--reporter-cli-no-success-assertions",
            "--disable-unicode",
            "--color",
            "off",
            "--timeout-request",
            "30000",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = result.stdout[result.stdout.find("iterations") - 200 :] or result.stdout
    assert result.returncode == 0, f"newman failed:\n{summary}\n{result.stderr}"
    run = json.loads(report_path.read_text(encoding="utf-8"))["run"]
    items = list(_requests(collection["item"]))
    # One execution per request (the token request of the pre-request script too).
    statuses = {e["cursor"]["position"]: e["response"]["code"] for e in run["executions"]}
    assert sorted(statuses) == list(range(len(items)))
    assert run["stats"]["assertions"]["failed"] == 0
    assert run["stats"]["assertions"]["total"] >= 2 * len(items)
    assert max(statuses.values()) < 500
    quick_start = [statuses[position] for position in range(7)]
    assert quick_start == [201, 201, 201, 201, 201, 200, 422]
