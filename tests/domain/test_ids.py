"""Ids: a prefix and 20 lower-case base32 digits of fresh random bytes."""

from __future__ import annotations

import re

import pytest

from server.domain import ids


@pytest.mark.parametrize("raw", [bytes(13), b"\xff" * 13, bytes(range(13)), b"\x80" + bytes(12)])
def test_new_id_writes_the_random_bytes_in_base32(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ids.os, "urandom", lambda size: raw[:size])
    assert ids.new_id("txn") == "txn_" + ids._encode(raw)[:20]


def test_new_ids_are_fresh_and_well_formed() -> None:
    made = {ids.new_id("acc") for _ in range(5_000)}
    assert len(made) == 5_000
    assert all(re.fullmatch(r"acc_[a-z2-7]{20}", value) for value in made)


def test_an_unknown_prefix_is_a_programming_error() -> None:
    with pytest.raises(AssertionError):
        ids.new_id("nope")
