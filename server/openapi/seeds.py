"""The seed documents' examples, kept in seed_examples.json for the OpenAPI document.

The seeds live outside this repository (the project's shared folder), so
their examples are copied into seed_examples.json once, by

    python -m server.openapi.seeds ../shared/seeds/*.txt > server/openapi/seed_examples.json

and `make gen` reads that copy (tests/domain/test_openapi.py checks that it
still equals what the seeds hold). A seed section gives an example when it
prints `**Endpoint:** \\`METHOD /path\\`` with a JSON request body and/or a
`**Response:** \\`201 Created\\`` JSON body.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

_ENDPOINT_RE = re.compile(r"\*\*Endpoint:\*\* `(GET|POST|PUT|PATCH|DELETE) ([^`?]+)")
_REQUEST_RE = re.compile(r"\*\*Request Body:\*\*\s*```json\n(.*?)\n```", re.DOTALL)
_RESPONSE_RE = re.compile(r"\*\*Response:\*\* `(\d{3})[^`]*`\s*```json\n(.*?)\n```", re.DOTALL)
# seed 000's path lists: "- `GET /users` - List users"
_LISTED_RE = re.compile(r"^- `(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)`", re.MULTILINE)
# and its HTTP samples: "```http\nGET /oauth/authorize?..."
_SAMPLE_RE = re.compile(r"```http\n(GET|POST|PUT|PATCH|DELETE) (/[^\s?]*)")


def examples(seed: Path) -> list[dict[str, Any]]:
    """The examples of one seed document, in its order."""
    found = []
    text = seed.read_text(encoding="utf-8")
    for section in re.split(r"\n#{2,3} ", text):
        endpoint = _ENDPOINT_RE.search(section)
        if endpoint is None:
            continue
        example: dict[str, Any] = {
            "seed": seed.name.split("_")[0],
            "method": endpoint.group(1),
            "path": endpoint.group(2).strip(),
        }
        request = _REQUEST_RE.search(section)
        if request is not None:
            example["request"] = json.loads(request.group(1))
        response = _RESPONSE_RE.search(section)
        if response is not None:
            example["status"] = int(response.group(1))
            example["response"] = json.loads(response.group(2))
        if "request" in example or "response" in example:
            found.append(example)
    return found


def seed_paths(seed: Path) -> list[tuple[str, str]]:
    """(METHOD, path as printed) of every endpoint a seed names."""
    text = seed.read_text(encoding="utf-8")
    named = [(m.group(1), m.group(2).strip()) for m in _ENDPOINT_RE.finditer(text)]
    named += [(m.group(1), m.group(2).strip()) for m in _LISTED_RE.finditer(text)]
    named += [(m.group(1), m.group(2).strip()) for m in _SAMPLE_RE.finditer(text)]
    return named


def render(seeds: list[Path]) -> str:
    found = [example for seed in sorted(seeds) for example in examples(seed)]
    return json.dumps({"examples": found}, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render([Path(argument) for argument in sys.argv[1:]]))
