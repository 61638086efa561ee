"""The TypeScript SDK (sdk/typescript) against the real server, on both databases.

`npm ci` installs the SDK's pinned packages into sdk/typescript/node_modules
once (kept while package-lock.json is unchanged), tsc compiles it, and node's
test runner runs test/backoffice.test.ts against the session's stack: OAuth
token over REST through Envoy, then gRPC straight to the server's port.
Without node or npm the tests skip, except with CI=true, where they fail.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from server.config import REPO_ROOT
from server.run import Stack

SDK = REPO_ROOT / "sdk" / "typescript"
BUF = REPO_ROOT / ".venv" / "node" / "node_modules" / ".bin" / "buf"
IN_CI = os.environ.get("CI") == "true"


def _tools() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing and not IN_CI:
        pytest.skip(f"{' and '.join(missing)} not installed (the TypeScript SDK needs Node.js 20+)")
    assert not missing, f"CI=true but {missing} not installed"


def _run(command: list[str], *, env: dict[str, str] | None = None, timeout: int = 240) -> str:
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=SDK,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    print(f"{' '.join(command)}: exit {result.returncode} in {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{output}"
    return output


@contextmanager
def _locked() -> Iterator[None]:
    """One installer and compiler at a time, across pytest processes."""
    with open(SDK / ".build.lock", "w") as lock:  # noqa: PTH123
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def built_sdk() -> Path:
    """sdk/typescript with its packages installed and compiled into dist/."""
    _tools()
    lock_hash = hashlib.sha256((SDK / "package-lock.json").read_bytes()).hexdigest()[:16]
    stamp = SDK / "node_modules" / f".installed-{lock_hash}"
    with _locked():
        if not stamp.exists():
            _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
            stamp.touch()
        shutil.rmtree(SDK / "dist", ignore_errors=True)
        _run([str(SDK / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"])
    return SDK


def test_node_suite_against_the_stack(built_sdk: Path, stack: Stack) -> None:
    output = _run(
        ["node", "--test", "--test-reporter=spec", "dist/test/"],
        env={"BACKOFFICE_GRPC": stack.grpc_target, "BACKOFFICE_URL": stack.http_url},
        timeout=120,
    )
    counts = dict(re.findall(r"^\S*\s*(tests|pass|fail|skipped|cancelled) (\d+)$", output, re.M))
    assert counts.get("fail") == "0" and counts.get("cancelled") == "0", output
    assert counts.get("skipped") == "0" and int(counts.get("pass", "0")) >= 7, output


def test_generated_code_is_what_the_protos_generate(built_sdk: Path, tmp_path: Path) -> None:
    """src/gen/ is committed: regenerating from protos/ must give the same files."""
    if not BUF.exists():
        if not IN_CI:
            pytest.skip("buf not installed (make lint installs it)")
        pytest.fail("CI=true but buf is not installed in .venv/node (make lint installs it)")
    _run([str(BUF), "generate", str(REPO_ROOT), "--template", "buf.gen.yaml", "-o", str(tmp_path)])
    result = subprocess.run(
        ["diff", "-r", "-q", str(SDK / "src" / "gen"), str(tmp_path / "src" / "gen")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"sdk/typescript/src/gen is stale: run make sdk-ts\n{result.stdout}"
    )
