"""One table on stdout, the targets with a verdict each, and the JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.load import Outcome, percentile
from tests.bench.probes import Usage


@dataclass
class Row:
    """One measured line of the table."""

    key: str
    title: str
    transport: str
    clients: int
    ops: int
    failures: dict[str, int]
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    server_cpu_ms_per_op: float | None = None
    envoy_cpu_ms_per_op: float | None = None
    db_cpu_ms_per_op: float | None = None
    db_shared_cpu_ms_per_op: float | None = None  # postmaster, WAL writer, ... (all databases)
    client_cpu_ms_per_op: float | None = None
    db_xacts_per_op: float | None = None
    server_rss_max_mb: float | None = None
    other_cores: float | None = None  # CPU used by other processes of the machine, in cores
    ratio_to_pgbench: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        key: str,
        title: str,
        *,
        transport: str,
        clients: int,
        outcome: Outcome,
        usage: Usage | None,
        latencies: list[float] | None = None,
        per_op_count: int | None = None,
    ) -> Row:
        values = outcome.latencies if latencies is None else latencies
        count = per_op_count if per_op_count is not None else len(values)
        row = cls(
            key=key,
            title=title,
            transport=transport,
            clients=clients,
            ops=len(values),
            failures=dict(outcome.failures),
            seconds=round(outcome.elapsed, 2),
            throughput=len(values) / outcome.elapsed if outcome.elapsed else 0.0,
            p50_ms=percentile(values, 0.50) * 1000,
            p99_ms=percentile(values, 0.99) * 1000,
            mean_ms=(sum(values) / len(values) * 1000) if values else 0.0,
        )
        if usage is not None and count:
            row.server_cpu_ms_per_op = usage.server_cpu * 1000 / count
            row.envoy_cpu_ms_per_op = usage.envoy_cpu * 1000 / count
            row.db_cpu_ms_per_op = usage.db_cpu * 1000 / count
            row.db_shared_cpu_ms_per_op = usage.db_shared_cpu * 1000 / count
            row.client_cpu_ms_per_op = usage.client_cpu * 1000 / count
            row.db_xacts_per_op = usage.db_xacts / count
            row.server_rss_max_mb = usage.server_rss_max_mb or None
            row.other_cores = usage.other_cores
        return row


def _cell(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


COLUMNS = (
    ("scenario", 44, "<"),
    ("ops", 8, ">"),
    ("ops/s", 8, ">"),
    ("p50 ms", 7, ">"),
    ("p99 ms", 7, ">"),
    ("fail", 5, ">"),
    ("srv cpu", 7, ">"),
    ("envoy", 6, ">"),
    ("db cpu", 6, ">"),
    ("client", 6, ">"),
    ("RSS MB", 6, ">"),
    ("others", 6, ">"),
    ("x pgb", 6, ">"),
)


def table(rows: list[Row]) -> str:
    header = " ".join(f"{name:{align}{width}}" for name, width, align in COLUMNS)
    lines = [header, "-" * len(header)]
    for row in rows:
        envoy = row.envoy_cpu_ms_per_op if row.transport == "REST" else None
        cells = (
            row.title,
            f"{row.ops:,}",
            _cell(row.throughput, 0),
            _cell(row.p50_ms),
            _cell(row.p99_ms),
            str(sum(row.failures.values())),
            _cell(row.server_cpu_ms_per_op),
            _cell(envoy),
            _cell(row.db_cpu_ms_per_op),
            _cell(row.client_cpu_ms_per_op),
            _cell(row.server_rss_max_mb, 0),
            _cell(row.other_cores),
            _cell(row.ratio_to_pgbench, 3),
        )
        lines.append(
            " ".join(
                f"{cell:{align}{width}}"
                for cell, (_name, width, align) in zip(cells, COLUMNS, strict=True)
            )
        )
    lines.append(
        "cpu columns: CPU milliseconds per operation (server process, Envoy, PostgreSQL backends"
        " of the database, this bench client); others: cores busy with other processes"
    )
    return "\n".join(lines)


@dataclass
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run
    guard: bool = False  # a regression guard (PASS/FAIL, fails the run), not a target


def targets_table(targets: list[Target]) -> str:
    lines = [f"{'target':<44} {'goal':<24} {'measured':<30} verdict", "-" * 110]
    for target in targets:
        words = ("PASS", "FAIL") if target.guard else ("MET", "MISSED")
        verdict = "n/a" if target.met is None else words[0 if target.met else 1]
        lines.append(f"{target.name:<44} {target.goal:<24} {target.measured:<30} {verdict}")
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def row_dict(row: Row) -> dict[str, Any]:
    return asdict(row)
