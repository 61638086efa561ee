"""Field-level encryption without a database: the keyring, its files, the stored form."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server import keys
from server.crypto import fields
from server.crypto.fields import FieldRef, Keyring, LiveKeyring, UnreadableField
from server.store import sealed

PHONE = FieldRef("users", "phone", "usr_a")
KEY_1 = b"1" * 32
KEY_2 = b"2" * 32


def _legacy_seal(key: bytes, user_id: str, tax_id: str) -> str:
    """The format TaxIdVault wrote before the keyring: `v1:<last4>:<blob>`."""
    nonce = secrets.token_bytes(12)
    sealed_bytes = AESGCM(key).encrypt(nonce, tax_id.encode(), user_id.encode())
    blob = base64.urlsafe_b64encode(nonce + sealed_bytes).decode().rstrip("=")
    return f"v1:{tax_id[-4:]}:{blob}"


# -- Keyring -------------------------------------------------------------------------------
def test_seal_gives_the_versioned_form_and_opens_again() -> None:
    ring = Keyring({"k1": KEY_1}, "k1")
    stored = ring.seal("+14155550123", PHONE)
    assert stored.startswith("enc:v1:k1:")
    assert "4155550123" not in stored and "=" not in stored
    assert fields.key_id(stored) == "k1" and fields.is_sealed(stored)
    assert ring.open(stored, PHONE) == "+14155550123"
    # A fresh nonce each time: equal values do not look equal at rest.
    assert ring.seal("+14155550123", PHONE) != stored
    # Non-ASCII survives the round trip.
    assert ring.open(ring.seal("Zoë 東京", PHONE), PHONE) == "Zoë 東京"


@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param(FieldRef("users", "phone", "usr_b"), id="another-row"),
        pytest.param(FieldRef("users", "date_of_birth", "usr_a"), id="another-column"),
        pytest.param(FieldRef("payees", "phone", "usr_a"), id="another-table"),
    ],
)
def test_ciphertext_moved_elsewhere_does_not_open(elsewhere: FieldRef) -> None:
    ring = Keyring({"k1": KEY_1}, "k1")
    stored = ring.seal("+14155550123", PHONE)
    with pytest.raises(UnreadableField) as caught:
        ring.open(stored, elsewhere)
    # The message names the place, never the value.
    assert elsewhere.row_id in str(caught.value) and "4155550123" not in str(caught.value)


def test_tampered_relabelled_or_malformed_values_do_not_open() -> None:
    ring = Keyring({"k1": KEY_1, "k2": KEY_2}, "k1")
    stored = ring.seal("1990-05-17", PHONE)
    blob = stored.removeprefix("enc:v1:k1:")
    flipped = blob[:-2] + ("A" if blob[-2] != "A" else "B") + blob[-1]
    bad = [
        "enc:v1:k1:" + flipped,  # one bit of the ciphertext or tag changed
        "enc:v1:k2:" + blob,  # the key id relabelled: another key, another AAD
        "enc:v1:k9:" + blob,  # a key this keyring does not have
        "enc:v1:k1:",  # nothing
        "enc:v1:k1:!!!!",  # not base64url
        "enc:v1:k1:" + blob[:10],  # shorter than a nonce and a tag
        "enc:v1:k1",  # no separator
        "1990-05-17",  # plaintext where a sealed value belongs
        "",
    ]
    for stored_value in bad:
        with pytest.raises(UnreadableField):
            ring.open(stored_value, PHONE)


def test_old_keys_open_new_values_use_the_active_one() -> None:
    old = Keyring({"k1": KEY_1}, "k1").seal("123456789", PHONE)
    ring = Keyring({"k1": KEY_1, "k2": KEY_2}, "k2")
    assert ring.open(old, PHONE) == "123456789"
    assert ring.seal("123456789", PHONE).startswith("enc:v1:k2:")
    assert ring.active == "k2" and ring.can_open("k1") and not ring.can_open("k3")
    # Without the old key, the old value is gone.
    with pytest.raises(UnreadableField):
        Keyring({"k2": KEY_2}, "k2").open(old, PHONE)


def test_legacy_tax_ids_open_with_the_old_key_only_where_they_were_stored() -> None:
    legacy_key = b"L" * 32
    stored = _legacy_seal(legacy_key, "usr_a", "123456789")
    assert fields.key_id(stored) == fields.LEGACY_KID
    ring = Keyring({"k1": KEY_1}, "k1", legacy_key=legacy_key)
    tax_id = FieldRef("users", "tax_id", "usr_a")
    assert ring.open(stored, tax_id) == "123456789"
    for elsewhere in (FieldRef("users", "tax_id", "usr_b"), FieldRef("users", "phone", "usr_a")):
        with pytest.raises(UnreadableField):
            ring.open(stored, elsewhere)
    with pytest.raises(UnreadableField):
        Keyring({"k1": KEY_1}, "k1").open(stored, tax_id)  # the legacy key is gone


# -- Key files -------------------------------------------------------------------------------
def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_keyring_is_made_on_first_use_with_private_files(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ring = fields.load_keyring(keys_dir)
    directory = fields.fields_dir(keys_dir)
    assert ring.active == "k1"
    assert json.loads((directory / "keyring.json").read_text()) == {
        "active": "k1",
        "keys": ["k1"],
        "rotating": False,
    }
    assert _mode(directory / "k1.key") == 0o600 and _mode(directory / "keyring.json") == 0o600
    assert _mode(directory) == 0o700
    assert len((directory / "k1.key").read_bytes()) == 32
    # Loading again reads the same key: what k1 sealed opens.
    stored = ring.seal("x", PHONE)
    assert fields.load_keyring(keys_dir).open(stored, PHONE) == "x"


def test_concurrent_first_use_makes_one_keyring(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    rings: list[Keyring] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        rings.append(fields.load_keyring(keys_dir))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = rings[0].seal("same key everywhere", PHONE)
    assert all(ring.open(stored, PHONE) == "same key everywhere" for ring in rings)


def test_add_finish_and_retire_keys(tmp_path: Path) -> None:
    directory = fields.fields_dir(tmp_path / "keys")
    keys.keyring_state(directory)
    state = keys.add_active_key(directory)
    assert (state.active, state.kids, state.rotating) == ("k2", ("k1", "k2"), True)
    assert keys.finish_rotation(directory).rotating is False
    with pytest.raises(keys.KeyringError):
        keys.retire_key(directory, "k2")  # the active key stays
    keys.retire_key(directory, "k1")
    assert keys.keyring_state(directory).kids == ("k2",)
    assert not (directory / "k1.key").exists()
    # Numbers are never reused, even after a retirement.
    assert keys.add_active_key(directory).active == "k3"


def test_a_missing_or_damaged_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    fields.load_keyring(keys_dir)
    key_path = fields.fields_dir(keys_dir) / "k1.key"
    key_path.write_bytes(b"short")
    with pytest.raises(keys.KeyringError, match="32 bytes"):
        fields.load_keyring(keys_dir)
    key_path.unlink()
    with pytest.raises(keys.KeyringError, match="missing"):
        fields.load_keyring(keys_dir)
    assert not key_path.exists()
    (fields.fields_dir(keys_dir) / "keyring.json").write_text('{"active": "k7", "keys": ["k1"]}')
    with pytest.raises(keys.KeyringError):
        fields.load_keyring(keys_dir)


def test_live_keyring_follows_a_rotation_made_by_another_process(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    live = LiveKeyring(keys_dir, refresh_seconds=0)
    before = live.seal("+14155550123", PHONE)
    keys.add_active_key(fields.fields_dir(keys_dir))
    # Seals under the new key once the file changed...
    assert live.active == "k2"
    assert live.seal("x", PHONE).startswith("enc:v1:k2:")
    assert live.open(before, PHONE) == "+14155550123"


def test_live_keyring_rereads_at_once_for_an_unknown_key_id(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    slow = LiveKeyring(keys_dir, refresh_seconds=3600)
    keys.add_active_key(fields.fields_dir(keys_dir))
    newer = fields.load_keyring(keys_dir).seal("+14155550123", PHONE)
    assert slow.active == "k1"  # not looked at the file yet
    assert slow.open(newer, PHONE) == "+14155550123"
    assert slow.active == "k2"


# -- External transfer beneficiaries --------------------------------------------------------
def test_beneficiary_numbers_are_sealed_each_in_its_own_place() -> None:
    ring = Keyring({"k1": KEY_1}, "k1")
    account = sealed.seal(ring, sealed.BENEFICIARY_ACCOUNT_NUMBER, "txn_a", "000123456789")
    routing = sealed.seal(ring, sealed.BENEFICIARY_ROUTING_NUMBER, "txn_a", "021000021")
    assert account is not None and routing is not None
    assert "000123456789" not in account + routing
    assert "021000021" not in account + routing
    assert (
        sealed.open_value(ring, sealed.BENEFICIARY_ACCOUNT_NUMBER, "txn_a", account),
        sealed.open_value(ring, sealed.BENEFICIARY_ROUTING_NUMBER, "txn_a", routing),
    ) == ("000123456789", "021000021")
    for column, row_id, value in (
        (sealed.BENEFICIARY_ACCOUNT_NUMBER, "txn_b", account),  # another transfer's row
        (sealed.PAYEE_ACCOUNT_NUMBER, "txn_a", account),  # another table
        (sealed.BENEFICIARY_ACCOUNT_NUMBER, "txn_a", routing),  # account and routing swapped
    ):
        with pytest.raises(UnreadableField):
            sealed.open_value(ring, column, row_id, value)


def test_sealed_columns_keep_none_and_read_pre_encryption_plaintext() -> None:
    ring = Keyring({"k1": KEY_1}, "k1")
    assert sealed.seal(ring, sealed.USER_PHONE, "usr_a", None) is None
    assert sealed.seal(ring, sealed.USER_PHONE, "usr_a", "") is None
    assert sealed.open_value(ring, sealed.USER_PHONE, "usr_a", None) is None
    # Written before m0006: read as is until setup seals it.
    assert sealed.open_value(ring, sealed.USER_PHONE, "usr_a", "+14155550123") == "+14155550123"
    # A tax id was never stored in plaintext: a plaintext one is refused.
    with pytest.raises(UnreadableField):
        sealed.open_value(ring, sealed.USER_TAX_ID, "usr_a", "123456789")
