"""Local secret keys: 32 random bytes in a file, made on first use (mode 0600),
in directories only their owner may enter (0700, see `private_directory`).

Every server process sharing a database must be given the same files (they
live in `$BANK_DATA_DIR/keys/`). A key manager (KMS/HSM) is the production
answer and replaces `key_file` only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32
PRIVATE_DIRECTORY_MODE = 0o700


def private_directory(path: Path) -> Path:
    """`path` as a directory only its owner may enter (0700): made so, with any
    missing parent (mkdir(parents=True) would make those 0755), and tightened
    when it exists wider (made by an earlier version). A directory of another
    owner (a bank's read-only PKI mount) is left as it is."""
    missing = []
    level = path
    while not level.exists():
        missing.append(level)
        level = level.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=PRIVATE_DIRECTORY_MODE)
        directory.chmod(PRIVATE_DIRECTORY_MODE)  # mkdir's mode passes through the umask
    status = path.stat()
    if status.st_uid == os.getuid() and status.st_mode & 0o777 != PRIVATE_DIRECTORY_MODE:
        path.chmod(PRIVATE_DIRECTORY_MODE)
    return path


def key_file(path: Path) -> bytes:
    """The key stored at `path`, created atomically if missing."""
    private_directory(path.parent)
    if not path.exists():
        staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            # A key that data was sealed under must survive a power loss.
            handle.flush()
            os.fsync(handle.fileno())
        # link() never replaces: when two processes race, both end up
        # reading the one key that won.
        with contextlib.suppress(FileExistsError):
            os.link(staging, path)
        staging.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise RuntimeError(f"{path} must hold exactly {KEY_BYTES} bytes")
    return key


# -- The field-encryption keyring ---------------------------------------------------
# `keys/fields/keyring.json` names the keys (`k1`, `k2`, ...) that can open
# stored values and the one that seals new ones; each key is its own 0600
# file beside it (`k1.key`). The file is replaced atomically, so a reader
# sees either the old or the new keyring; changes are made under an
# exclusive lock on `keys/fields/.lock`.
KEYRING_FILE = "keyring.json"
_KID_RE = re.compile(r"^k[1-9][0-9]{0,5}$")


class KeyringError(RuntimeError):
    """The keyring on disk cannot be used (missing key, bad file)."""


@dataclass(frozen=True)
class KeyringState:
    """What keyring.json says."""

    active: str
    kids: tuple[str, ...]  # every key that may still open values, oldest first
    # True from the creation of a new active key until `rotate-keys` has
    # re-encrypted every value under it: a re-run resumes instead of adding
    # yet another key.
    rotating: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {"active": self.active, "keys": list(self.kids), "rotating": self.rotating},
            indent=2,
        )


def _parse_state(text: str, path: Path) -> KeyringState:
    try:
        data = json.loads(text)
        state = KeyringState(
            active=str(data["active"]),
            kids=tuple(str(kid) for kid in data["keys"]),
            rotating=bool(data.get("rotating", False)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyringError(f"{path} is not a keyring file") from exc
    if state.active not in state.kids or not all(_KID_RE.match(kid) for kid in state.kids):
        raise KeyringError(f"{path} names an unknown or malformed key id")
    return state


def read_key_file(path: Path) -> bytes:
    """The key at `path`; never creates one (a missing key is an error, not a new key)."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise KeyringError(f"key file {path} is missing") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{path} must hold exactly {KEY_BYTES} bytes")
    return key


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    staging.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    private_directory(directory)
    fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def keyring_state(directory: Path) -> KeyringState:
    """The keyring in `directory`, made with one key (`k1`) on first use."""
    path = directory / KEYRING_FILE
    private_directory(directory)
    if not path.exists():
        with _locked(directory):
            if not path.exists():
                key_file(directory / "k1.key")
                _write_atomically(path, KeyringState(active="k1", kids=("k1",)).to_json())
    return _parse_state(path.read_text(), path)


def keyring_keys(directory: Path, state: KeyringState) -> dict[str, bytes]:
    """Every key the keyring names, read from its file."""
    return {kid: read_key_file(directory / f"{kid}.key") for kid in state.kids}


def add_active_key(directory: Path) -> KeyringState:
    """Makes a new key and makes it the active one; marks a rotation started."""
    keyring_state(directory)
    with _locked(directory):
        path = directory / KEYRING_FILE
        state = _parse_state(path.read_text(), path)
        number = max(int(kid[1:]) for kid in state.kids) + 1
        kid = f"k{number}"
        key_file(directory / f"{kid}.key")
        new_state = KeyringState(active=kid, kids=(*state.kids, kid), rotating=True)
        _write_atomically(path, new_state.to_json())
        return new_state


def finish_rotation(directory: Path) -> KeyringState:
    """Clears the rotation mark: every value is under the active key."""
    with _locked(directory):
        path = directory / KEYRING_FILE
        state = _parse_state(path.read_text(), path)
        done = KeyringState(active=state.active, kids=state.kids, rotating=False)
        _write_atomically(path, done.to_json())
        return done


def retire_key(directory: Path, kid: str) -> None:
    """Removes `kid` from the keyring and deletes its file (never the active key).

    The caller must have checked that no stored value is sealed under it:
    after this, such a value can never be opened again.
    """
    with _locked(directory):
        path = directory / KEYRING_FILE
        state = _parse_state(path.read_text(), path)
        if kid == state.active:
            raise KeyringError(f"{kid} is the active key and cannot be retired")
        if kid not in state.kids:
            return
        kept = tuple(k for k in state.kids if k != kid)
        _write_atomically(path, KeyringState(state.active, kept, state.rotating).to_json())
        (directory / f"{kid}.key").unlink(missing_ok=True)
