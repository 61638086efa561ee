"""Argon2id for people's secrets, SHA-256 for the server's own (server.domain.passwords)."""

from __future__ import annotations

import secrets

import pytest

from server.domain import passwords


def test_server_made_secrets_get_a_fast_hash_that_verifies() -> None:
    secret = secrets.token_urlsafe(32)
    stored = passwords.fast_hash(secret)
    assert stored.startswith("sha256:") and passwords.is_fast(stored)
    assert passwords.verify_secret(stored, secret)
    assert not passwords.verify_secret(stored, secret[:-1] + ("A" if secret[-1] != "A" else "B"))


def test_a_fast_hash_is_refused_for_a_human_secret() -> None:
    with pytest.raises(AssertionError):
        passwords.fast_hash("sandbox-secret")


def test_argon2_hashes_keep_verifying_and_server_made_ones_are_moved() -> None:
    machine = secrets.token_urlsafe(32)
    stored = passwords.hash_secret(machine)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_secret(stored, machine)
    assert passwords.rehash_to_fast(stored, machine)
    # A person's secret stays under Argon2, and a fast hash is never re-hashed.
    assert not passwords.rehash_to_fast(passwords.hash_secret("sandbox-secret"), "sandbox-secret")
    assert not passwords.rehash_to_fast(passwords.fast_hash(machine), machine)


def test_garbage_hashes_never_verify() -> None:
    assert not passwords.verify_secret("not-a-hash", "x")
    assert not passwords.verify_secret("sha256:", "")
