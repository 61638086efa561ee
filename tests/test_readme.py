"""The README's commands work as printed for a new user."""

from __future__ import annotations

import re

from server.config import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_api_curl_carries_a_token() -> None:
    """Every call needs credentials: a curl of the API without one only shows a 401."""
    calls = [line for line in README.splitlines() if re.search(r"curl .*/(v1|api)/", line)]
    assert calls
    bare = [line for line in calls if "$AUTH" not in line and "Authorization:" not in line]
    assert not bare, bare


def test_the_sandbox_clock_and_its_reset_are_documented() -> None:
    assert "only moves forward" in README
    assert "make reset-sandbox" in README
