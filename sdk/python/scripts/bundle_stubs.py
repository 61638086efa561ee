"""Copies the generated gRPC stubs (the repository's gen/backoffice) into the
package (src/backoffice_sdk/_stubs/backoffice) before a wheel is built:

    python sdk/python/scripts/bundle_stubs.py && python -m build sdk/python

An editable install in the repository needs no copy: `grpc_stubs.load()`
finds gen/ itself. `_stubs/` is not committed (gen/ is the one source).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SDK = Path(__file__).resolve().parents[1]
SOURCE = SDK.parents[1] / "gen" / "backoffice"
TARGET = SDK / "src" / "backoffice_sdk" / "_stubs" / "backoffice"


def bundle(source: Path = SOURCE, target: Path = TARGET) -> int:
    """Replaces `target` with the .py and .pyi files of `source`; how many were copied."""
    if not (source / "v1" / "__init__.py").is_file():
        raise SystemExit(f"no generated stubs at {source}: run make gen")
    if target.exists():
        shutil.rmtree(target)
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.suffix in {".py", ".pyi"} and "__pycache__" not in path.parts:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied += 1
    return copied


if __name__ == "__main__":
    count = bundle(*(Path(arg) for arg in sys.argv[1:3]))
    print(f"bundled {count} stub files into {TARGET if len(sys.argv) < 3 else sys.argv[2]}")
