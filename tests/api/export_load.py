"""Loading many postings of one account for the export tests (tests/bench/export_rows.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.bench import export_rows
from tests.common.accounts import OPENING_EQUITY, Db


def load_rows(db: Db, account_id: str, count: int, start: datetime) -> None:
    """`count` movements of `account_id` (which has none yet), one second apart from `start`."""
    tag = uuid.uuid4().hex[:8]
    texts = export_rows.statements(
        db.postgres, tag, account_id, OPENING_EQUITY, count=count, start=start
    )
    with db.transaction():
        for text, params in texts:
            db.execute(text, params)
