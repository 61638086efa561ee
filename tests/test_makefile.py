"""What a new user's first `make run` does: says what it is doing, needs no npm."""

from __future__ import annotations

import subprocess
from pathlib import Path

from server.config import REPO_ROOT


def _dry_run(target: str, venv: Path) -> str:
    """The commands `make <target>` would run for a user with no venv yet."""
    result = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_first_run_shows_each_step_and_needs_no_npm(tmp_path: Path) -> None:
    commands = _dry_run("run", tmp_path / "venv")
    # npm only for Swagger UI (/docs), tried when npm is there and never fatal.
    assert all("swagger" in line.lower() for line in commands.splitlines() if "npm" in line)
    assert "command -v npm" in commands
    for step in ("creating the virtual environment", "installing Python packages", "done"):
        assert step in commands, step
    assert "install.log" in commands and " -q " not in commands


def test_buf_is_installed_for_lint_and_fmt(tmp_path: Path) -> None:
    for target in ("lint", "fmt"):
        assert "npm install" in _dry_run(target, tmp_path / "venv"), target
