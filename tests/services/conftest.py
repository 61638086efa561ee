"""A migrated database per backend (the store tests' fixture)."""

from tests.store.conftest import database

__all__ = ["database"]
