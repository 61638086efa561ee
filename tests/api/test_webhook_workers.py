"""Several delivery worker processes (BANK_WEBHOOK_WORKERS=2) on one
PostgreSQL: both run, and every event reaches the receiver exactly once
(their claims skip each other's rows)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.run import Stack
from tests.common.auth import token_over_rest
from tests.common.databases import postgres_database
from tests.common.money import open_account
from tests.common.stack import stack_settings, started
from tests.common.webhook_receiver import Receiver, receiving
from tests.conftest import Rest

pytestmark = pytest.mark.postgres

EVENTS = 40


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("two-workers")
    with postgres_database() as url:
        settings = stack_settings(tmp, database_url=url, webhook_workers=2)
        with started(settings) as stack:
            yield stack


def test_two_workers_deliver_every_event_once(two_workers: Stack) -> None:
    senders = [p for p in two_workers.processes if p.args[-1:] == ["webhooks"]]  # type: ignore[index]
    assert len(senders) == 2 and all(p.poll() is None for p in senders)
    token = token_over_rest(two_workers.http_url)["access_token"]
    with Rest(two_workers.http_url) as rest, receiving() as receiver:
        rest.headers["Authorization"] = f"Bearer {token}"
        _subscribe(rest, receiver)
        made = {open_account(rest) for _ in range(EVENTS)}
        got = receiver.wait_for(lambda r: _accounts(r) >= made, timeout=60)
        time.sleep(1.0)  # a duplicate sent late would arrive by now
        ids = Counter(r.headers["webhook-id"] for r in receiver.received if _created(r))
        assert ids and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
        assert _accounts(got) >= made


def _subscribe(rest: Rest, receiver: Receiver) -> None:
    body = {"url": f"{receiver.url}/two", "events": ["account.created"]}
    response = rest.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text


def _created(received: object) -> bool:
    return getattr(received, "path", "") == "/two"


def _accounts(received: list[object]) -> set[str]:
    found = set()
    for request in received:
        if _created(request):
            data = request.document["data"]  # type: ignore[attr-defined]
            found.add(str(data.get("accountId") or data.get("id")))
    return found


def test_the_setting_is_checked() -> None:
    from server.config import ConfigError, Settings  # noqa: PLC0415

    assert Settings.from_env({"BANK_WEBHOOK_WORKERS": "3"}).webhook_workers == 3
    with pytest.raises(ConfigError):
        Settings.from_env({"BANK_WEBHOOK_WORKERS": "0"})
