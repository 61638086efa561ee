"""Field-level encryption: AES-256-GCM under a keyring of named keys.

Stored form: `enc:v1:<kid>:<base64url(nonce + ciphertext)>` (unpadded). The
associated data binds a value to its place (table, column, row id) and to
the format and key id, so a ciphertext copied to another row or column, or
relabelled with another key id, does not open.

Keys live in `$BANK_DATA_DIR/keys/fields/` (see `server.keys`): one 0600
file per key id (`k1`, `k2`, ...) and `keyring.json` naming them and the
active one, which seals every new value; the others only open. `LiveKeyring`
re-reads the keyring when it changes on disk, so that running servers start
sealing under a key made by `python -m server rotate-keys` within
`REFRESH_SECONDS`, and open values re-sealed under it at once (an unknown key
id forces a re-read).

Legacy: tax ids sealed before this module (`v1:<last4>:<blob>`, key
`keys/pii.key`, the user id alone as associated data) still open, under the
pseudo key id `pii`, until `setup` or `rotate-keys` has re-sealed them.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server import keys

PREFIX = "enc:v1:"
NONCE_BYTES = 12
REFRESH_SECONDS = 1.0
LEGACY_KID = "pii"
_LEGACY_PREFIX = "v1:"
# The only column the legacy format was ever used for.
_LEGACY_PLACE = ("users", "tax_id")


@dataclass(frozen=True, slots=True)
class FieldRef:
    """Where a value is stored; part of what its ciphertext is bound to."""

    table: str
    column: str
    row_id: str


class UnreadableField(Exception):
    """A stored value that does not open: tampered, moved, or its key is gone.

    The message names the place only, never the value.
    """

    def __init__(self, ref: FieldRef, why: str) -> None:
        super().__init__(f"{ref.table}.{ref.column} of {ref.row_id} cannot be opened: {why}")
        self.ref = ref


def key_id(stored: str) -> str | None:
    """The key id a stored value is sealed under; None when it is not sealed."""
    if stored.startswith(PREFIX):
        kid, separator, _ = stored[len(PREFIX) :].partition(":")
        return kid if separator else None
    if stored.startswith(_LEGACY_PREFIX):
        return LEGACY_KID
    return None


def is_sealed(stored: str) -> bool:
    return key_id(stored) is not None


def _associated_data(kid: str, ref: FieldRef) -> bytes:
    return json.dumps(
        ["enc:v1", kid, ref.table, ref.column, ref.row_id], separators=(",", ":")
    ).encode()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FieldSealer(Protocol):
    """What the store needs: seal new values, open stored ones."""

    @property
    def active(self) -> str: ...

    def seal(self, value: str, ref: FieldRef) -> str: ...

    def open(self, stored: str, ref: FieldRef) -> str: ...


class Keyring:
    """A fixed set of keys by id, one of them active."""

    def __init__(
        self, keys_by_id: Mapping[str, bytes], active: str, legacy_key: bytes | None = None
    ) -> None:
        assert active in keys_by_id, active
        assert all(len(key) == keys.KEY_BYTES for key in keys_by_id.values())
        assert LEGACY_KID not in keys_by_id
        self._ciphers = {kid: AESGCM(key) for kid, key in keys_by_id.items()}
        self._legacy = AESGCM(legacy_key) if legacy_key is not None else None
        self._active = active

    @property
    def active(self) -> str:
        return self._active

    def can_open(self, kid: str) -> bool:
        return kid in self._ciphers or (kid == LEGACY_KID and self._legacy is not None)

    def seal(self, value: str, ref: FieldRef) -> str:
        """`value` sealed under the active key, bound to `ref`; a fresh nonce each time."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self._active].encrypt(
            nonce, value.encode(), _associated_data(self._active, ref)
        )
        return f"{PREFIX}{self._active}:{_encode(nonce + sealed)}"

    def open(self, stored: str, ref: FieldRef) -> str:
        """The value sealed in `stored` at `ref`; UnreadableField when it does not open."""
        kid = key_id(stored)
        if kid is None:
            raise UnreadableField(ref, "not a sealed value")
        if kid == LEGACY_KID:
            return self._open_legacy(stored, ref)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnreadableField(ref, f"unknown key id {kid[:16]!r}")
        blob = stored[len(PREFIX) + len(kid) + 1 :]
        return self._open(cipher, blob, _associated_data(kid, ref), ref)

    def _open_legacy(self, stored: str, ref: FieldRef) -> str:
        if self._legacy is None or (ref.table, ref.column) != _LEGACY_PLACE:
            raise UnreadableField(ref, "legacy value without its key")
        blob = stored[len(_LEGACY_PREFIX) :].partition(":")[2]
        return self._open(self._legacy, blob, ref.row_id.encode(), ref)

    @staticmethod
    def _open(cipher: AESGCM, blob: str, associated: bytes, ref: FieldRef) -> str:
        try:
            raw = _decode(blob)
            if len(raw) <= NONCE_BYTES:
                raise ValueError("too short")
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated).decode()
        except (ValueError, binascii.Error, InvalidTag):
            raise UnreadableField(ref, "authentication failed") from None


def fields_dir(keys_dir: Path) -> Path:
    """Where the field keyring lives inside `$BANK_DATA_DIR/keys`."""
    return keys_dir / "fields"


def load_keyring(keys_dir: Path) -> Keyring:
    """The keyring on disk now (made with one key on first use)."""
    directory = fields_dir(keys_dir)
    state = keys.keyring_state(directory)
    legacy_path = keys_dir / "pii.key"
    legacy = keys.read_key_file(legacy_path) if legacy_path.exists() else None
    return Keyring(keys.keyring_keys(directory, state), state.active, legacy)


class LiveKeyring:
    """The keyring of a keys directory, re-read when keyring.json changes."""

    def __init__(self, keys_dir: Path, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._keys_dir = keys_dir
        self._path = fields_dir(keys_dir) / keys.KEYRING_FILE
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._keyring = load_keyring(keys_dir)
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()

    def _file_stamp(self) -> tuple[int, int, int]:
        info = self._path.stat()
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def current(self) -> Keyring:
        """The keyring, re-read when the file changed (checked at most every refresh)."""
        now = time.monotonic()
        if now - self._checked >= self._refresh_seconds:
            self._checked = now
            if self._file_stamp() != self._stamp:
                return self.reload()
        return self._keyring

    def reload(self) -> Keyring:
        with self._lock:
            stamp = self._file_stamp()
            self._keyring = load_keyring(self._keys_dir)
            self._stamp = stamp
            self._checked = time.monotonic()
            return self._keyring

    @property
    def active(self) -> str:
        return self.current().active

    def seal(self, value: str, ref: FieldRef) -> str:
        return self.current().seal(value, ref)

    def open(self, stored: str, ref: FieldRef) -> str:
        keyring = self.current()
        kid = key_id(stored)
        if kid is not None and not keyring.can_open(kid):
            # A key made by another process since the last look.
            keyring = self.reload()
        return keyring.open(stored, ref)
