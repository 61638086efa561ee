"""The targets of one run, each with a verdict (missed targets are reported, not failures).

Throughput targets are ratios to pgbench's TPC-B TPS in the same run (the
mean of its runs before and after the service scenarios), as issue 15
states them: single gRPC transfers >= 0.35x (stretch 0.45x), REST >= 0.8x
of gRPC, the batch API >= 1.0x in transfers/s (stretch 1.5x), a hot account
>= 0.3x of uniform, and the p99 of single transfers at the run's callers
below the one before that work (tests/bench/reference.json). Webhooks:
>= 500 deliveries/s, p99 lag < 1 s at 200 events/s, and no event lost
after a receiver outage.
"""

from __future__ import annotations

from typing import Any

from tests.bench.report import Row, Target

TARGETS = {
    "grpc_vs_pgbench": 0.35,
    "grpc_vs_pgbench_stretch": 0.45,
    "rest_vs_grpc": 0.8,
    "batch_vs_pgbench": 1.0,
    "batch_vs_pgbench_stretch": 1.5,
    "hot_vs_uniform": 0.3,
    "replay_vs_fresh": 2.0,
    "history_p99_ms": 50.0,
    "rss_mb": 300.0,
    "webhook_deliveries_per_s": 500.0,
    "webhook_lag_p99_ms": 1000.0,
}


def check(
    name: str, goal: str, value: float | None, bound: float, fmt: str, *, above: bool = True
) -> Target:
    if value is None:
        return Target(name, goal, "not measured", None)
    return Target(name, goal, fmt.format(value), value >= bound if above else value < bound)


def stretch(target: Target, value: float | None, bound: float) -> Target:
    """Notes in `measured` whether the stretch goal was reached too."""
    if value is not None:
        target.measured += " (stretch met)" if value >= bound else " (stretch missed)"
    return target


def targets(
    rows: list[Row],
    pgbench_tps: list[float],
    *,
    clients: int,
    history: int,
    reference: dict[str, Any],
) -> list[Target]:
    by_key = {row.key: row for row in rows}
    base = sum(pgbench_tps) / len(pgbench_tps) if pgbench_tps else 0.0

    def ratio(key: str, over: float) -> float | None:
        return by_key[key].throughput / over if key in by_key and over else None

    grpc_tps = by_key["grpc"].throughput if "grpc" in by_key else 0.0
    rss = [r.server_rss_max_mb for r in rows if r.server_rss_max_mb]
    grpc_ratio, batch_ratio = ratio("grpc", base), ratio("batch", base)
    p99_before = float(reference.get("grpc_p99_ms_before", 0.0)) or None
    history_p99 = TARGETS["history_p99_ms"]
    return [
        stretch(
            check(
                "gRPC transfers/s vs pgbench TPS",
                ">= 0.35x (stretch 0.45x)",
                grpc_ratio,
                TARGETS["grpc_vs_pgbench"],
                "{:.3f}x",
            ),
            grpc_ratio,
            TARGETS["grpc_vs_pgbench_stretch"],
        ),
        check(
            "REST transfers/s vs gRPC",
            ">= 0.8x",
            ratio("rest", grpc_tps),
            TARGETS["rest_vs_grpc"],
            "{:.2f}x",
        ),
        stretch(
            check(
                "batch API transfers/s vs pgbench TPS",
                ">= 1.0x (stretch 1.5x)",
                batch_ratio,
                TARGETS["batch_vs_pgbench"],
                "{:.3f}x",
            ),
            batch_ratio,
            TARGETS["batch_vs_pgbench_stretch"],
        ),
        check(
            "hot account vs uniform",
            ">= 0.3x",
            ratio("hot", grpc_tps),
            TARGETS["hot_vs_uniform"],
            "{:.2f}x",
        ),
        check(
            f"p99 of single gRPC transfers, {clients} callers",
            f"< {p99_before:.1f} ms (before)" if p99_before else "< before (no reference)",
            by_key["grpc"].p99_ms if "grpc" in by_key and by_key["grpc"].ops else None,
            p99_before or float("inf"),
            "{:.1f} ms",
            above=False,
        ),
        check(
            "replays vs fresh keyed transfers",
            ">= 2x",
            ratio("replay", by_key["fresh_keyed"].throughput) if "fresh_keyed" in by_key else None,
            TARGETS["replay_vs_fresh"],
            "{:.2f}x",
        ),
        check(
            f"history p99 ({history:,} history txns)",
            "< 50 ms",
            by_key["history_paced"].p99_ms if "history_paced" in by_key else None,
            history_p99,
            "{:.1f} ms",
            above=False,
        ),
        check(
            "  same, saturated (closed loops)",
            "< 50 ms",
            by_key["history"].p99_ms if "history" in by_key else None,
            history_p99,
            "{:.1f} ms",
            above=False,
        ),
        check(
            "  same, saturated, typical accounts only",
            "< 50 ms",
            by_key["history_typical"].p99_ms if "history_typical" in by_key else None,
            history_p99,
            "{:.1f} ms",
            above=False,
        ),
        check(
            "webhook deliveries/s (queued events)",
            ">= 500/s",
            by_key["webhooks_throughput"].throughput if "webhooks_throughput" in by_key else None,
            TARGETS["webhook_deliveries_per_s"],
            "{:.0f}/s",
        ),
        check(
            "webhook lag p99 at 200 events/s",
            "< 1000 ms",
            by_key["webhooks_lag"].p99_ms if "webhooks_lag" in by_key else None,
            TARGETS["webhook_lag_p99_ms"],
            "{:.0f} ms",
            above=False,
        ),
        check(
            "webhooks lost after a receiver outage",
            "0",
            by_key["webhooks_outage"].notes.get("lost") if "webhooks_outage" in by_key else None,
            1,
            "{:.0f}",
            above=False,
        ),
        check(
            "server RSS (max over the run)",
            "< 300 MB",
            max(rss) if rss else None,
            TARGETS["rss_mb"],
            "{:.0f} MB",
            above=False,
        ),
    ]
