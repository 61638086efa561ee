"""`make bench`: the benchmark harness (run as `python -m tests.bench`; not collected by pytest)."""
