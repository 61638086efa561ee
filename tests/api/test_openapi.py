"""The API's documentation through real Envoy: /openapi.json, /docs, and real
answers checked against the document's response schemas (on both databases).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from server.openapi import site
from server.run import Stack
from tests.common import users
from tests.common.browser import headless_chromium
from tests.conftest import Rest

DOCUMENT_URI = "urn:backoffice:openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(site.OPENAPI_PATH.read_text(encoding="utf-8"))


def conforms(document: dict[str, Any], response: requests.Response, path: str, verb: str) -> None:
    """The answer's status is documented for the operation and its body fits the schema."""
    operation = document["paths"][path][verb]
    answer = operation["responses"].get(str(response.status_code))
    assert answer is not None, f"{verb.upper()} {path} does not document {response.status_code}"
    pointer = ["paths", path, verb, "responses", str(response.status_code)]
    if "$ref" in answer:  # a shared error response
        pointer = ["components", "responses", answer["$ref"].rsplit("/", 1)[1]]
    pointer += ["content", "application/json", "schema"]
    escaped = "/".join(part.replace("~", "~0").replace("/", "~1") for part in pointer)
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/{escaped}"}, registry=registry)
    problems = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())
    ]
    assert problems == []
    assert response.headers["content-type"].startswith("application/json")


def test_openapi_json_is_served_as_is(anonymous: Rest, document: dict[str, Any]) -> None:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == document  # no envelope around it
    assert "x-envoy-upstream-service-time" not in response.headers


def test_docs_page_is_served_without_a_cdn(anonymous: Rest) -> None:
    for path in ("/docs", "/docs/"):
        response = anonymous.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "/openapi.json" in response.text
        assert "https://" not in response.text  # everything from this host
    installed = (site.SWAGGER_UI / "swagger-ui-bundle.js").is_file()
    if not installed:
        pytest.skip("Swagger UI is not installed (make docs-ui needs npm)")
    assert "/docs/swagger-ui-bundle.js" in anonymous.get("/docs").text
    script = anonymous.get("/docs/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert len(script.content) == (site.SWAGGER_UI / "swagger-ui-bundle.js").stat().st_size
    style = anonymous.get("/docs/swagger-ui.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


def test_swagger_ui_renders_every_operation_in_a_browser(
    stack: Stack, tmp_path: Path, document: dict[str, Any]
) -> None:
    if not (site.SWAGGER_UI / "swagger-ui-bundle.js").is_file():
        pytest.skip("Swagger UI is not installed (make docs-ui needs npm)")
    # Imported here: selenium is only needed by the browser tests.
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    operation_count = sum(len(item) for item in document["paths"].values())
    # Swagger UI renders a large document's operations as they scroll into view,
    # so its own state says how many it read; the page shows the first ones.
    counted = (
        "return window.ui && window.ui.specSelectors.loadingStatus() === 'success'"
        " ? window.ui.specSelectors.taggedOperations().toList()"
        "   .map(t => t.get('operations').size).reduce((a, b) => a + b, 0) : -1"
    )
    with headless_chromium(tmp_path / "profile") as driver:
        driver.get(f"{stack.http_url}/docs")
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(counted) >= 0)
        assert driver.execute_script(counted) == operation_count
        errors = driver.execute_script("return window.ui.errSelectors.allErrors().toJS()")
        assert errors == []
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
        title = driver.find_element(By.CSS_SELECTOR, ".info .title").text
        assert title.startswith("Banking Back Office API")


def test_documentation_routes_answer_reads_only(anonymous: Rest) -> None:
    response = anonymous.post("/openapi.json", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert anonymous.get("/docs/nothing-here.js").status_code == 404


def test_real_answers_fit_the_document(
    rest: Rest, anonymous: Rest, document: dict[str, Any]
) -> None:
    owner = users.create_rest(rest)["id"]
    created = rest.post("/v1/accounts", json={"type": "CHECKING", "ownerId": owner})
    assert created.status_code == 201
    conforms(document, created, "/v1/accounts", "post")
    account_id = created.json()["data"]["account"]["id"]

    read = rest.get(f"/v1/accounts/{account_id}")
    conforms(document, read, "/v1/accounts/{account_id}", "get")
    listed = rest.get("/v1/accounts", params={"ownerId": owner})
    conforms(document, listed, "/v1/accounts", "get")
    alias = rest.get("/backoffice/v1/accounts", params={"ownerId": owner})
    conforms(document, alias, "/backoffice/v1/accounts", "get")

    body = {"accountId": account_id, "amount": 250.5, "currency": "USD", "method": "CASH"}
    deposit = rest.post("/api/transactions/deposit", json=body)
    assert deposit.status_code == 201
    conforms(document, deposit, "/api/transactions/deposit", "post")
    transaction_id = deposit.json()["data"]["transaction"]["id"]
    found = rest.get(f"/v1/transactions/{transaction_id}")
    conforms(document, found, "/v1/transactions/{transaction_id}", "get")
    history = rest.get("/api/transactions", params={"accountId": account_id})
    conforms(document, history, "/api/transactions", "get")


def test_real_errors_fit_the_document(
    rest: Rest, anonymous: Rest, document: dict[str, Any]
) -> None:
    missing = rest.get("/v1/accounts/acc_doesnotexist0000")
    assert missing.status_code == 404
    conforms(document, missing, "/v1/accounts/{account_id}", "get")
    unauthenticated = anonymous.get("/v1/accounts")
    assert unauthenticated.status_code == 401
    conforms(document, unauthenticated, "/v1/accounts", "get")
    invalid = rest.post("/v1/accounts", json={"type": "CHECKING", "ownerId": 7})
    assert invalid.status_code in (400, 422)
    conforms(document, invalid, "/v1/accounts", "post")
    amount = {"accountId": "acc_x", "amount": -5, "currency": "USD", "method": "CASH"}
    refused = rest.post("/v1/transactions/deposit", json=amount)
    assert refused.status_code in (404, 422)
    conforms(document, refused, "/v1/transactions/deposit", "post")


def test_the_document_on_disk_is_the_one_in_gen() -> None:
    assert Path(__file__).resolve().parents[2] / "gen" / "openapi.json" == site.OPENAPI_PATH
