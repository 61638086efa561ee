"""Envoy routes of the API's documentation: /openapi.json and /docs.

Envoy serves them itself (`direct_response` with the file as body, read when
Envoy starts): gen/openapi.json as application/json, and at /docs Swagger UI
(npm `swagger-ui-dist`, installed by `make docs-ui` into .venv/node) with the
page envoy/docs/index.html. Without Swagger UI, /docs is a short page that says
how to get it; /openapi.json works all the same. The Lua envelope leaves these
answers alone (they carry no grpc-status). Like server/gateway.py, this module
imports nothing from gen/.
"""

from __future__ import annotations

import json
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent.parent
OPENAPI_PATH = REPOSITORY_ROOT / "gen" / "openapi.json"
PAGES = REPOSITORY_ROOT / "envoy" / "docs"
SWAGGER_UI = REPOSITORY_ROOT / ".venv" / "node" / "swagger-ui" / "node_modules" / "swagger-ui-dist"
# The largest file a route may answer (RouteConfiguration.max_direct_response_body_size_bytes).
BODY_MAX_BYTES = 8 * 1024 * 1024
_ASSETS = {
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
_HTML = "text/html; charset=utf-8"


def served_files(
    openapi: Path = OPENAPI_PATH, swagger_ui: Path = SWAGGER_UI
) -> list[tuple[str, Path, str]]:
    """(request path, file, content type) of every documentation route."""
    files: list[tuple[str, Path, str]] = []
    if openapi.is_file():
        files.append(("/openapi.json", openapi, "application/json"))
    if all((swagger_ui / name).is_file() for name in _ASSETS):
        page = PAGES / "index.html"
        files += [(f"/docs/{name}", swagger_ui / name, kind) for name, kind in _ASSETS.items()]
    else:
        page = PAGES / "unavailable.html"
    files += [("/docs", page, _HTML), ("/docs/", page, _HTML)]
    return files


def routes(files: list[tuple[str, Path, str]]) -> str:
    """Envoy routes (YAML at the route list's indentation) answering GET and HEAD."""
    lines = []
    for path, file, kind in files:
        lines += [
            "              - match:",
            f"                  path: {json.dumps(path)}",
            "                  headers:",
            '                  - name: ":method"',
            '                    string_match: { safe_regex: { regex: "^(GET|HEAD)$" } }',
            "                direct_response:",
            "                  status: 200",
            f"                  body: {{ filename: {json.dumps(str(file.resolve()))} }}",
            "                response_headers_to_add:",
            f"                - header: {{ key: content-type, value: {json.dumps(kind)} }}",
            "                  append_action: OVERWRITE_IF_EXISTS_OR_ADD",
            '                - header: { key: cache-control, value: "no-cache" }',
            "                  append_action: OVERWRITE_IF_EXISTS_OR_ADD",
        ]
    return "\n".join(lines)
