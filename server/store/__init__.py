"""Persistence: peewee models, queries and numbered migrations."""
