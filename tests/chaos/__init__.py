"""The fault test: a Jepsen bank-style workload against the real server.

`harness` runs it (`make chaos`, and a short version in
`tests/api/test_chaos.py`) from its parts: `model`, `system`, `workload`,
`movements`, `nemesis`, `checks`, `checks_movements`; `postgres` starts the
private PostgreSQL instance it breaks; `server_entry` starts the server,
optionally with a deliberate bug, to show that the checks catch it.
"""
