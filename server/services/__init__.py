"""Use cases: one module per movement kind, called by the api layer and the workers.

A use case composes pure rules (server.domain) with store functions that
read and write rows (server.store) inside one database transaction, and
hands the api layer typed records (`Movement`), never ORM rows.
"""
