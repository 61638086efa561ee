"""CPU per transfer, split by process, and the CPU-per-operation regression guard.

For each transfer scenario the table gives the CPU milliseconds per
successful transfer of the server (supervisor and workers), Envoy (REST),
the PostgreSQL backends of the bench database and the bench client, their
total, and the same total for one TPC-B transaction of pgbench in the same
run (its backends plus the pgbench process). `x TPC-B` is the transfer's
total over the TPC-B transaction's; its inverse (`by cpu`) is the ratio to
pgbench's TPS the transfers would reach if CPU alone limited both. The
cluster's shared processes (postmaster, WAL writer, checkpointer: `db shared`)
serve every database of the PostgreSQL, so they are shown apart and left out
of the total.

The guard compares each scenario's total with tests/bench/reference.json:
CPU per operation does not count idle time, so it moves less than
throughput when other processes share the machine. With pgbench in the run
it judges `x TPC-B` (the machine's speed cancels out), else the
milliseconds; a scenario above its reference by more than the tolerance
FAILs, and the run exits 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.report import Row, Target

REFERENCE_PATH = Path(__file__).resolve().parent / "reference.json"

# Transfer scenarios, in the order of the table: row key -> short title.
TRANSFER_ROWS = {
    "transfer_sql": "a transfer's SQL alone (pgbench)",
    "grpc": "transfers, uniform (gRPC)",
    "rest": "transfers, uniform (REST via Envoy)",
    "hot": "transfers, one hot debit account (gRPC)",
    "fresh_keyed": "keyed transfers, first time (gRPC)",
    "replay": "the same keys replayed (gRPC)",
    "batch": "batch API (gRPC), per transfer",
    "batch_rest": "batch API (REST), per transfer",
}
PGBENCH_ROWS = ("pgbench_before", "pgbench_after")
# The database's share alone (pgbench running the transfer's statements): shown, not guarded;
# a move of work between the server and the database changes it either way.
UNGUARDED = ("transfer_sql",)


@dataclass(frozen=True)
class Split:
    """CPU milliseconds per operation of one row."""

    server: float
    envoy: float
    db: float
    client: float
    db_shared: float | None = None

    @property
    def total(self) -> float:
        return self.server + self.envoy + self.db + self.client

    @classmethod
    def of(cls, row: Row) -> Split | None:
        if row.db_cpu_ms_per_op is None or row.client_cpu_ms_per_op is None:
            return None
        return cls(
            server=row.server_cpu_ms_per_op or 0.0,
            envoy=(row.envoy_cpu_ms_per_op or 0.0) if row.transport == "REST" else 0.0,
            db=row.db_cpu_ms_per_op,
            client=row.client_cpu_ms_per_op,
            db_shared=row.db_shared_cpu_ms_per_op,
        )


def tpcb_ms(rows: list[Row]) -> float | None:
    """CPU milliseconds of one pgbench TPC-B transaction: mean of the pgbench rows."""
    splits = [Split.of(row) for row in rows if row.key in PGBENCH_ROWS]
    totals = [split.total for split in splits if split is not None and split.total > 0]
    return sum(totals) / len(totals) if totals else None


def load_reference(path: Path = REFERENCE_PATH) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    tolerance = document.get("tolerance")
    if not isinstance(tolerance, int | float) or not 0 < tolerance <= 5:
        raise ValueError(f"{path.name}: tolerance must be a number in (0, 5], got {tolerance!r}")
    for key, entry in document.get("scenarios", {}).items():
        if key not in TRANSFER_ROWS:
            raise ValueError(f"{path.name}: unknown scenario {key!r}")
        for name in ("cpu_ms", "x_tpcb"):
            value = entry.get(name)
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{path.name}: {key}.{name} must be a positive number")
    return document


def guard(key: str, split: Split, base_ms: float | None, reference: dict[str, Any]) -> Target:
    """One guard line: PASS when the CPU per transfer stays within the reference's tolerance."""
    name = f"CPU per op, {key} (guard)"
    entry = reference.get("scenarios", {}).get(key)
    if entry is None:
        return Target(name, "no reference", f"{split.total:.2f} ms", None, guard=True)
    limit = 1 + float(reference["tolerance"])
    if base_ms:
        ratio = split.total / base_ms
        bound = entry["x_tpcb"] * limit
        measured = f"{ratio:.2f}x TPC-B ({split.total:.2f} ms)"
        return Target(name, f"<= {bound:.1f}x TPC-B txn", measured, ratio <= bound, guard=True)
    bound = entry["cpu_ms"] * limit
    measured = f"{split.total:.2f} ms (no pgbench)"
    return Target(name, f"<= {bound:.2f} ms", measured, split.total <= bound, guard=True)


def guards(rows: list[Row], reference: dict[str, Any]) -> list[Target]:
    base = tpcb_ms(rows)
    found = {row.key: row for row in rows}
    targets = []
    for key in TRANSFER_ROWS:
        split = Split.of(found[key]) if key in found else None
        if split is not None and found[key].ops and key not in UNGUARDED:
            targets.append(guard(key, split, base, reference))
    return targets


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Row], reference: dict[str, Any]) -> str:
    """CPU milliseconds per transfer by process, beside one TPC-B transaction's."""
    base = tpcb_ms(rows)
    header = (
        f"{'CPU ms per transfer':<40} {'server':>7} {'envoy':>6} {'db':>6} {'client':>6}"
        f" {'total':>6} {'db shared':>9} {'x TPC-B':>7} {'by cpu':>6} {'ref':>6}"
    )
    lines = [header, "-" * len(header)]
    found = {row.key: row for row in rows}
    shared = [Split.of(found[k]) for k in PGBENCH_ROWS if k in found]
    if base is not None:
        db_shared = [s.db_shared for s in shared if s is not None and s.db_shared is not None]
        lines.append(
            f"{'one TPC-B transaction (pgbench)':<40} {'-':>7} {'-':>6}"
            f" {_cell(_mean([s.db for s in shared if s])):>6}"
            f" {_cell(_mean([s.client for s in shared if s])):>6} {_cell(base):>6}"
            f" {_cell(_mean(db_shared)):>9} {'1.0':>7} {'1.000':>6} {'-':>6}"
        )
    for key, title in TRANSFER_ROWS.items():
        split = Split.of(found[key]) if key in found else None
        if split is None or not found[key].ops:
            continue
        ratio = split.total / base if base else None
        envoy = split.envoy if found[key].transport == "REST" else None
        entry = reference.get("scenarios", {}).get(key, {})
        lines.append(
            f"{title:<40} {_cell(split.server):>7} {_cell(envoy):>6}"
            f" {_cell(split.db):>6} {_cell(split.client):>6} {_cell(split.total):>6}"
            f" {_cell(split.db_shared):>9} {_cell(ratio, 1):>7}"
            f" {_cell(1 / ratio if ratio else None, 3):>6} {_cell(entry.get('cpu_ms')):>6}"
        )
    lines.append(
        "total: server + envoy + db (backends of the bench database) + client (pgbench's process"
        " in its row); db shared: postmaster, WAL writer, checkpointer (all databases, not in"
        " total); by cpu: 1 / x TPC-B; ref: tests/bench/reference.json"
    )
    return "\n".join(lines)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
