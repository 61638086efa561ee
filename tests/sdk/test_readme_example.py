"""The README's "Python SDK" example runs as printed against the stack
(BACKOFFICE_URL set to its Envoy), on both databases."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from server.config import REPO_ROOT
from server.run import Stack
from tests.sdk.conftest import SDK_SOURCE


def readme_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python SDK\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the Python SDK section has one Python example"
    return str(blocks[0])


def test_the_readme_example_runs_as_printed(stack: Stack) -> None:
    env = {**os.environ, "BACKOFFICE_URL": stack.http_url}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SDK_SOURCE), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", readme_example()],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"TXN\d+ COMPLETED 100\.00", lines[0]), lines
    assert lines[1:3] == ["TRANSFER 100.00 150.00", "DEPOSIT 250.00 250.00"], lines
    assert lines[3].startswith("TXN001 422 "), lines
    assert re.fullmatch(r"NOT_FOUND 404 \S+", lines[4]), lines
    assert len(lines) == 5, lines
