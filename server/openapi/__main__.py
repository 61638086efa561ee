"""Writes the OpenAPI document: python -m server.openapi DESCRIPTOR_SET OUTPUT.

`make gen` runs it after protoc, so gen/openapi.json always matches the
descriptor set it was built from (and `make gen-check` sees any drift).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

from server.openapi.document import build


def render(descriptor_set: Path) -> str:
    """The document as the committed file holds it (stable key order, one trailing newline)."""
    file_set = descriptor_pb2.FileDescriptorSet()
    file_set.ParseFromString(Path(descriptor_set).read_bytes())
    return json.dumps(build(file_set), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.openapi", description=__doc__)
    parser.add_argument("descriptor_set", type=Path)
    parser.add_argument("output", type=Path)
    arguments = parser.parse_args(argv)
    arguments.output.write_text(render(arguments.descriptor_set), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
