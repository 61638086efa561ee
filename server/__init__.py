"""Banking back office: a gRPC server whose REST face is published by Envoy."""

import sys
from pathlib import Path

# The generated stubs in gen/ import each other as `backoffice.v1.*`, so gen/
# must be importable as a top-level location before anything imports them.
_GEN_DIR = Path(__file__).resolve().parent.parent / "gen"
if str(_GEN_DIR) not in sys.path:
    sys.path.insert(0, str(_GEN_DIR))
