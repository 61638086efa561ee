"""Cryptography kept out of the domain layer: field-level encryption of stored data."""
