"""The Postman collection's "Quick start" folder: the API end to end, in order.

Create a customer, open two accounts, deposit 250.00, transfer 100.00 with an
Idempotency-Key, read the balance (150.00), then an error: a transfer above
the balance answers 422 TXN001 in the error envelope. Each step checks its
answer with pm.test and keeps the ids it made in collection variables
(VARIABLES), which the other folders' requests use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

VARIABLES = ("userId", "accountId", "secondAccountId", "transactionId")

_STEPS: list[dict[str, Any]] = [
    {
        "name": "1. Create a customer",
        "verb": "post",
        "path": "/v1/users",
        "body": {
            "email": "quickstart-{{$guid}}@example.com",
            "name": "Quick Start",
            "password": "correct-horse-battery-9",
        },
        "tests": [
            "pm.test('201 Created: a CUSTOMER', () => {",
            "    pm.response.to.have.status(201);",
            "    pm.expect(body.data.user.role).to.equal('CUSTOMER');",
            "});",
            "pm.collectionVariables.set('userId', body.data.user.id);",
        ],
    },
    {
        "name": "2. Open a CHECKING account",
        "verb": "post",
        "path": "/v1/accounts",
        "body": {"type": "CHECKING", "currency": "USD", "ownerId": "{{userId}}"},
        "tests": [
            "pm.test('201 Created: ACTIVE, empty, owned by the customer', () => {",
            "    pm.response.to.have.status(201);",
            "    pm.expect(body.data.account.status).to.equal('ACTIVE');",
            "    pm.expect(body.data.account.balance).to.equal(0);",
            "    pm.expect(body.data.account.ownerId).to.equal(pm.variables.get('userId'));",
            "});",
            "pm.collectionVariables.set('accountId', body.data.account.id);",
        ],
    },
    {
        "name": "3. Open a SAVINGS account",
        "verb": "post",
        "path": "/v1/accounts",
        "body": {"type": "SAVINGS", "currency": "USD", "ownerId": "{{userId}}"},
        "tests": [
            "pm.test('201 Created: SAVINGS', () => {",
            "    pm.response.to.have.status(201);",
            "    pm.expect(body.data.account.type).to.equal('SAVINGS');",
            "});",
            "pm.collectionVariables.set('secondAccountId', body.data.account.id);",
        ],
    },
    {
        "name": "4. Deposit 250.00 in cash",
        "verb": "post",
        "path": "/v1/transactions/deposit",
        "body": {
            "accountId": "{{accountId}}",
            "amount": 250.00,
            "currency": "USD",
            "method": "CASH",
        },
        "tests": [
            "pm.test('201 Created: COMPLETED, balance 250', () => {",
            "    pm.response.to.have.status(201);",
            "    pm.expect(body.data.transaction.status).to.equal('COMPLETED');",
            "    pm.expect(body.data.transaction.balanceAfter).to.equal(250);",
            "});",
        ],
    },
    {
        "name": "5. Transfer 100.00 to savings (Idempotency-Key)",
        "verb": "post",
        "path": "/v1/transactions/transfer",
        "body": {
            "fromAccountId": "{{accountId}}",
            "toAccountId": "{{secondAccountId}}",
            "amount": 100.00,
            "currency": "USD",
            "description": "Quick start",
        },
        "tests": [
            "pm.test('201 Created: COMPLETED between the two accounts', () => {",
            "    pm.response.to.have.status(201);",
            "    const transfer = body.data.transaction;",
            "    pm.expect(transfer.status).to.equal('COMPLETED');",
            "    pm.expect(transfer.fromAccount.id).to.equal(pm.variables.get('accountId'));",
            "    pm.expect(transfer.toAccount.id).to.equal(pm.variables.get('secondAccountId'));",
            "    pm.expect(transfer.amount).to.equal(100);",
            "});",
            "pm.collectionVariables.set('transactionId', body.data.transaction.id);",
        ],
    },
    {
        "name": "6. Read the balance",
        "verb": "get",
        "path": "/v1/accounts/{account_id}/balance",
        "tests": [
            "pm.test('200 OK: 250 in, 100 out', () => {",
            "    pm.response.to.have.status(200);",
            "    pm.expect(body.data.balance.balance).to.equal(150);",
            "    pm.expect(body.data.balance.availableBalance).to.equal(150);",
            "});",
        ],
    },
    {
        "name": "7. Error: a transfer above the balance",
        "verb": "post",
        "path": "/v1/transactions/transfer",
        "body": {
            "fromAccountId": "{{accountId}}",
            "toAccountId": "{{secondAccountId}}",
            "amount": 5000.00,
            "currency": "USD",
        },
        "tests": [
            "pm.test('422 TXN001 in the error envelope; nothing moved', () => {",
            "    pm.response.to.have.status(422);",
            "    pm.expect(body.success).to.equal(false);",
            "    pm.expect(body.error.code).to.equal('TXN001');",
            "});",
        ],
    },
]


def folder(
    document: dict[str, Any], common: list[str], url: Callable[[str], dict[str, Any]]
) -> dict[str, Any]:
    """The folder; `common` are the test lines every request runs ("no 5xx", envelope),
    `url` makes a Postman URL of a path."""
    items = []
    for step in _STEPS:
        operation = document["paths"][step["path"]][step["verb"]]  # still in the document
        headers = [{"key": "Content-Type", "value": "application/json"}] if "body" in step else []
        if any(p.get("$ref", "").endswith("/IdempotencyKey") for p in operation["parameters"]):
            headers.append({"key": "Idempotency-Key", "value": "{{$guid}}"})
        request: dict[str, Any] = {
            "method": step["verb"].upper(),
            "header": headers,
            "url": url(step["path"]),
            "description": operation.get("description", ""),
        }
        if "body" in step:
            request["body"] = {
                "mode": "raw",
                "raw": json.dumps(step["body"], indent=2),
                "options": {"raw": {"language": "json"}},
            }
        tests = [
            *common,
            'pm.test("the envelope\'s shape", () => checkEnvelope(pm.response.json()));',
            "const body = pm.response.json();",
            *step["tests"],
        ]
        script = {"type": "text/javascript", "exec": tests}
        items.append(
            {
                "name": step["name"],
                "event": [{"listen": "test", "script": script}],
                "request": request,
            }
        )
    return {
        "name": "Quick start",
        "description": __doc__.split("\n\n", 1)[1].strip() if __doc__ else "",
        "item": items,
    }
