"""`python -m tests.bench` (what `make bench` runs)."""

import sys

from tests.bench.main import main

sys.exit(main())
