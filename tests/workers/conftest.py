"""The workers' tests run on the store's migrated databases (both backends)."""

from tests.store.conftest import database

__all__ = ["database"]
