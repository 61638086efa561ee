"""The running server keeps its secrets owner-only: directories 0700, key files 0600."""

from __future__ import annotations

import stat
from pathlib import Path

from server import keys
from server.run import Stack
from tests.common import envelope
from tests.conftest import Rest


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_and_certificate_directories_are_owner_only(stack: Stack, rest: Rest) -> None:
    envelope.success(rest.get("/v1/users?limit=1"))  # the field keyring is in use
    data = stack.settings.data_dir
    for directory in (data / "keys", data / "keys" / "fields", data / "tls"):
        assert directory.is_dir(), directory
        assert _mode(directory) == 0o700, (directory, oct(_mode(directory)))
    secrets = [*(data / "keys").rglob("*.key"), *(data / "tls").glob("*key*.pem")]
    assert len(secrets) >= 4
    for path in secrets:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_private_directory_makes_and_tightens(tmp_path: Path) -> None:
    deep = tmp_path / "var" / "keys" / "fields"
    keys.private_directory(deep)
    for directory in (tmp_path / "var", tmp_path / "var" / "keys", deep):
        assert _mode(directory) == 0o700, directory
    wide = tmp_path / "old"
    wide.mkdir(mode=0o755)
    wide.chmod(0o755)
    keys.key_file(wide / "paging.key")
    assert _mode(wide) == 0o700 and _mode(wide / "paging.key") == 0o600
