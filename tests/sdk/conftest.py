"""The Python SDK (sdk/python) under test: importable from the source tree
even where `make install` has not installed it yet (`pip install -e sdk/python`)."""

from __future__ import annotations

import importlib.util
import sys

from server.config import REPO_ROOT

SDK_SOURCE = REPO_ROOT / "sdk" / "python" / "src"

if importlib.util.find_spec("backoffice_sdk") is None:
    sys.path.insert(0, str(SDK_SOURCE))
