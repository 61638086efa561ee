"""Plain-Python domain: money, rules, errors and use-cases (no transport, no ORM)."""
