"""Sealed columns on both databases: legacy values sealed, keys rotated and retired."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path

import peewee
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server import keys
from server.crypto import fields
from server.domain.ids import new_id
from server.store import sealed
from server.store.migrations import m0006_field_encryption
from server.store.models import User


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One keys directory for the module's database: every row is sealed under it."""
    return tmp_path_factory.mktemp("keys")


def _active(keys_dir: Path) -> int:
    return int(keys.keyring_state(fields.fields_dir(keys_dir)).active[1:])


def _insert_user(database: peewee.Database, **columns: str | None) -> str:
    user_id = new_id("usr")
    stamp = datetime.now(UTC).replace(tzinfo=None)
    User.insert(
        id=user_id,
        email=f"{user_id}@example.test",
        name="Sealed Test",
        password_hash="x",
        role="CUSTOMER",
        status="ACTIVE",
        created_at=stamp,
        updated_at=stamp,
        **columns,
    ).execute()
    return user_id


def _stored(user_id: str) -> User:
    return User.get_by_id(user_id)


def _legacy_tax_id(key: bytes, user_id: str, tax_id: str) -> str:
    nonce = secrets.token_bytes(12)
    blob = AESGCM(key).encrypt(nonce, tax_id.encode(), user_id.encode())
    return f"v1:{tax_id[-4:]}:" + base64.urlsafe_b64encode(nonce + blob).decode().rstrip("=")


def _open_user(keyring: fields.FieldSealer, row: User) -> tuple[str | None, ...]:
    return (
        sealed.open_value(keyring, sealed.USER_PHONE, row.id, row.phone),
        sealed.open_value(keyring, sealed.USER_DATE_OF_BIRTH, row.id, row.date_of_birth),
        sealed.open_value(keyring, sealed.USER_TAX_ID, row.id, row.tax_id),
    )


def test_values_stored_before_encryption_are_sealed(
    database: peewee.Database, keys_dir: Path
) -> None:
    legacy_key = secrets.token_bytes(32)
    (keys_dir / "pii.key").write_bytes(legacy_key)
    user_id = new_id("usr")
    legacy = _legacy_tax_id(legacy_key, user_id, "123456789")
    stamp = datetime.now(UTC).replace(tzinfo=None)
    User.insert(
        id=user_id,
        email=f"{user_id}@example.test",
        name="Legacy",
        password_hash="x",
        role="CUSTOMER",
        status="ACTIVE",
        created_at=stamp,
        updated_at=stamp,
        phone="+14155550123",
        date_of_birth="1990-05-17",
        tax_id=legacy,
    ).execute()
    # m0006 fills the readable last four from the legacy form.
    database.execute_sql(m0006_field_encryption.statements("any")[1])
    assert _stored(user_id).tax_id_last4 == "6789"
    keyring = fields.load_keyring(keys_dir)
    # Legacy values read before they are converted.
    assert _open_user(keyring, _stored(user_id)) == ("+14155550123", "1990-05-17", "123456789")

    report = sealed.reseal(keyring, legacy_only=True, batch_size=2)
    assert report.resealed["users.phone"] >= 1 and report.resealed["users.tax_id"] >= 1
    row = _stored(user_id)
    for value in (row.phone, row.date_of_birth, row.tax_id):
        assert value.startswith(f"enc:v1:{keyring.active}:")
    for secret in ("4155550123", "1990-05-17", "123456789"):
        assert secret not in row.phone + row.date_of_birth + row.tax_id
    assert _open_user(keyring, row) == ("+14155550123", "1990-05-17", "123456789")
    # A second run finds nothing left to do.
    assert sealed.reseal(keyring, legacy_only=True).resealed_total == 0


def test_rotation_reseals_everything_and_retires_the_old_key(
    database: peewee.Database, keys_dir: Path
) -> None:
    first = fields.load_keyring(keys_dir)
    old = first.active
    users = [_insert_user(database) for _ in range(7)]
    for number, user_id in enumerate(users):
        User.update(
            phone=sealed.seal(first, sealed.USER_PHONE, user_id, f"+1415555{number:04d}"),
            tax_id=sealed.seal(first, sealed.USER_TAX_ID, user_id, f"12345{number:04d}"),
        ).where(User.id == user_id).execute()

    result = sealed.rotate(keys_dir, retire=True, batch_size=3, settle_seconds=0)
    new = result.active_key
    assert new == f"k{int(old[1:]) + 1}" and result.complete and not result.resumed
    assert result.resealed["users.phone"] >= 7 and result.resealed["users.tax_id"] >= 7
    assert old in result.retired and old not in result.values_by_key
    # No legacy tax id is left either: the legacy key (if any) goes too.
    assert not (keys_dir / "pii.key").exists()
    assert set(result.values_by_key) == {new}
    assert not (fields.fields_dir(keys_dir) / f"{old}.key").exists()
    keyring = fields.load_keyring(keys_dir)
    for number, user_id in enumerate(users):
        row = _stored(user_id)
        assert row.phone.startswith(f"enc:v1:{new}:") and row.tax_id.startswith(f"enc:v1:{new}:")
        assert _open_user(keyring, row)[0] == f"+1415555{number:04d}"
        assert _open_user(keyring, row)[2] == f"12345{number:04d}"
    state = keys.keyring_state(fields.fields_dir(keys_dir))
    assert (state.active, state.kids, state.rotating) == (new, (new,), False)


def test_an_interrupted_rotation_resumes_instead_of_adding_a_key(
    database: peewee.Database, keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fields.load_keyring(keys_dir)
    number = _active(keys_dir)
    user_id = _insert_user(database)
    User.update(phone=sealed.seal(first, sealed.USER_PHONE, user_id, "+14155550199")).where(
        User.id == user_id
    ).execute()

    def crash(*_args: object, **_kwargs: object) -> sealed.ResealReport:
        raise KeyboardInterrupt  # the operator's Ctrl-C, or a crash

    monkeypatch.setattr(sealed, "reseal", crash)
    with pytest.raises(KeyboardInterrupt):
        sealed.rotate(keys_dir, settle_seconds=0)
    assert keys.keyring_state(fields.fields_dir(keys_dir)).rotating
    monkeypatch.undo()
    # Without --retire the old key stays; the rotation is the same one (k2).
    result = sealed.rotate(keys_dir, settle_seconds=0)
    assert (result.active_key, result.resumed, result.complete, result.retired) == (
        f"k{number + 1}",
        True,
        True,
        [],
    )
    assert _stored(user_id).phone.startswith(f"enc:v1:k{number + 1}:")
    assert keys.keyring_state(fields.fields_dir(keys_dir)).kids == (
        f"k{number}",
        f"k{number + 1}",
    )
    # Running it again is a new rotation; with --retire the unused keys go.
    again = sealed.rotate(keys_dir, retire=True, settle_seconds=0)
    assert (again.active_key, again.resumed) == (f"k{number + 2}", False)
    assert sorted(again.retired) == [f"k{number}", f"k{number + 1}"]


def test_a_value_that_does_not_open_is_reported_and_keeps_its_key(
    database: peewee.Database, keys_dir: Path
) -> None:
    first = fields.load_keyring(keys_dir)
    old = first.active
    victim, other = _insert_user(database), _insert_user(database)
    # The ciphertext of one row copied into another: it no longer opens.
    moved = sealed.seal(first, sealed.USER_PHONE, other, "+14155550100")
    User.update(phone=moved).where(User.id == victim).execute()
    result = sealed.rotate(keys_dir, retire=True, settle_seconds=0)
    assert victim in result.unreadable["users.phone"]
    assert not result.complete
    assert old not in result.retired and (fields.fields_dir(keys_dir) / f"{old}.key").exists()
    assert result.values_by_key.get(old, 0) == 1
    assert _stored(victim).phone == moved  # left as it was, for someone to look at
    # Once repaired, a rotation can retire the old key.
    User.update(phone=None).where(User.id == victim).execute()
    assert old in sealed.rotate(keys_dir, retire=True, settle_seconds=0).retired


def test_values_by_key_counts_each_form(database: peewee.Database, keys_dir: Path) -> None:
    keyring = fields.load_keyring(keys_dir)
    before = sealed.values_by_key()
    user_id = _insert_user(database, date_of_birth="1980-01-01")
    User.update(phone=sealed.seal(keyring, sealed.USER_PHONE, user_id, "+14155550111")).where(
        User.id == user_id
    ).execute()
    after = sealed.values_by_key()
    assert after.get(sealed.PLAINTEXT, 0) == before.get(sealed.PLAINTEXT, 0) + 1
    assert after.get(keyring.active, 0) == before.get(keyring.active, 0) + 1
    # Leave nothing plaintext behind for the next test.
    User.update(date_of_birth=None).where(User.id == user_id).execute()
