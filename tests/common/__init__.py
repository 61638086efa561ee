"""Shared test helpers: stack start-up, clients, factories."""
