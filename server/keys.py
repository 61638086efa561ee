"""Local secret keys: 32 random bytes in a file, made on first use (mode 0600).

Every server process sharing a database must be given the same files (they
live in `$BANK_DATA_DIR/keys/`). A key manager (KMS/HSM) is the production
answer and replaces `key_file` only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

KEY_BYTES = 32


def key_file(path: Path) -> bytes:
    """The key stored at `path`, created atomically if missing."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
        # link() never replaces: when two processes race, both end up
        # reading the one key that won.
        with contextlib.suppress(FileExistsError):
            os.link(staging, path)
        staging.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise RuntimeError(f"{path} must hold exactly {KEY_BYTES} bytes")
    return key
