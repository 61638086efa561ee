"""`make bench`: references and the service, measured in one run on PostgreSQL.

1. Creates `bo_bench_<random>` (and `..._pgbench`) on the local PostgreSQL,
   migrates it with `python -m server setup`, loads the data with SQL
   (tests/bench/dataset.py) and checks the ledger invariants.
2. Starts the stack (gRPC server + Envoy, `server.run.Stack`) on free ports
   with the server's settings as they are, and takes a token of the sandbox
   client.
3. Measures, one scenario after the other, each after a short warm-up:
   pgbench (before and after the service scenarios), a no-op RPC, an
   authenticated read, transfers over gRPC and over REST, a hot account,
   fresh keyed transfers and their replays, the batch transfer API (gRPC
   and REST), history reads mixed with writes
   (and EXPLAIN of the history statements), and webhook delivery
   (tests/bench/webhooks.py: deliveries/s, lag at a steady rate, a
   receiver outage), and a 100,000-row CSV export's first byte and total
   time (tests/bench/export.py).
4. Checks the invariants again, prints one table, the CPU per transfer by
   process (tests/bench/cpu.py) and the targets with the CPU guards, writes
   var/bench/result-<timestamp>.json, stops the stack and drops the databases.

Exit status: 0 when every step ran, no request failed and no CPU guard
failed (targets missed are reported, not failures); 1 otherwise.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2

import server  # noqa: F401  (puts gen/ on sys.path)
from server.config import REPO_ROOT, Settings
from server.run import Stack, grpc_channel
from tests.bench import (
    batch,
    cpu,
    dataset,
    export,
    flood,
    load,
    pgbench,
    plans,
    probes,
    reports,
    webhooks,
)
from tests.bench.config import BenchConfig
from tests.bench.report import Row, row_dict, table, targets_table, write_json
from tests.bench.targets import targets as run_targets
from tests.common.auth import token_over_rest
from tests.common.stack import free_ports, run_setup

SEARCH_WORDS = ["rent", "groceries", "salary", "invoice", "utilities", "refund", "insurance"]


def log(message: str) -> None:
    print(message, flush=True)


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    changed = [line for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_files": len(changed)}


def _postgres_facts(url: str) -> dict[str, str]:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            facts = {}
            for name in (
                "server_version",
                "fsync",
                "synchronous_commit",
                "shared_buffers",
                "max_connections",
                "wal_level",
            ):
                cursor.execute(f"SHOW {name}")
                facts[name] = str(cursor.fetchone()[0])
            return facts
    finally:
        connection.close()


class Bench:
    """One run: holds the stack, the token and the rows measured so far."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.rows: list[Row] = []
        self.pgbench_tps: list[float] = []
        self.failed = False
        self.skipped: dict[str, str] = {}  # scenario -> why it did not run

    # --- helpers ---------------------------------------------------------------

    def _probe(self, stack: Stack | None, database: str) -> probes.Probe:
        server_pid = stack.processes[0].pid if stack else None
        envoy_pid = stack.processes[1].pid if stack else None
        return probes.Probe(server_pid, envoy_pid, self.config.admin_url, database).start()

    def measure(
        self,
        stack: Stack,
        database: str,
        make_operations: Any,
        *,
        warmup: bool = True,
        labels: list[Any] | None = None,
        max_ops: int | None = None,
        seconds: float | None = None,
        rates: list[float] | None = None,
    ) -> tuple[load.Outcome, probes.Usage]:
        """Warm-up (not counted), then the measured window with its probe.

        With `rates` (requests/s of each operation) the loops are paced, else closed.
        """
        config = self.config

        def run(
            operations: list[load.Operation], window: float, budget: int, **kw: Any
        ) -> load.Outcome:
            if rates is None:
                return load.closed_loop(operations, window, budget, **kw)
            return load.paced_loop(operations, rates, window, budget, config.seed, **kw)

        if warmup and config.warmup_seconds:
            run(make_operations(), config.warmup_seconds, config.max_ops)
        operations = make_operations()
        probe = self._probe(stack, database)
        outcome = run(
            operations,
            seconds if seconds is not None else config.seconds,
            max_ops if max_ops is not None else config.max_ops,
            labels=labels,
        )
        usage = probe.stop()
        if outcome.failures:
            self.failed = True
            log(f"    failures: {dict(outcome.failures.most_common(5))}")
        return outcome, usage

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        log(
            f"  {row.title:<40} {row.throughput:8.1f} ops/s  p50 {row.p50_ms:7.2f} ms"
            f"  p99 {row.p99_ms:7.2f} ms  failures {sum(row.failures.values())}"
        )
        return row

    # --- scenarios -------------------------------------------------------------

    def pgbench(self, url: str, label: str) -> None:
        self._pgbench(url, f"pgbench_{label}", f"pgbench TPC-B-like ({label})")

    def transfer_sql(self, url: str, accounts: int) -> None:
        """The transfer's statements (transfer.pgbench) on the service's database."""
        self._pgbench(
            url,
            "transfer_sql",
            "a transfer's SQL alone (pgbench)",
            script="transfer.pgbench",
            variables={"accounts": accounts},
        )

    def _pgbench(
        self,
        url: str,
        key: str,
        title: str,
        script: str | None = None,
        variables: dict[str, int] | None = None,
    ) -> None:
        config = self.config
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        probe = self._probe(None, dataset.database_name(url))
        result = pgbench.run(url, config.clients, config.seconds, script, variables)
        usage = probe.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        pgbench_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        usage.client_cpu += pgbench_cpu
        usage.other_cores = max(0.0, usage.other_cores - pgbench_cpu / config.seconds)
        outcome = load.Outcome(latencies=result.latencies_s, elapsed=config.seconds)
        row = Row.of(
            key,
            title,
            transport="libpq",
            clients=config.clients,
            outcome=outcome,
            usage=usage,
            per_op_count=result.transactions,
        )
        # pgbench's own figure, not ours: it excludes connection set-up.
        row.throughput = result.tps
        row.server_cpu_ms_per_op = row.envoy_cpu_ms_per_op = row.server_rss_max_mb = None
        row.ops = result.transactions
        row.notes = {
            "failed_transactions": result.failed,
            "latency_average_ms": result.latency_average_ms,
            "scale": config.pgbench_scale,
        }
        if script is None:
            self.pgbench_tps.append(result.tps)
        self.add(row)

    def service(self, stack: Stack, token: str, data: dataset.Dataset) -> None:
        config = self.config
        database = dataset.database_name(stack.settings.database_url)
        only = set(config.only)
        rng = load.seeded(config.seed)
        timeout = config.timeout_seconds
        clients = config.clients
        channels = load.ChannelPool(
            lambda: grpc_channel(stack.settings, options=load.CHANNEL_OPTIONS), clients
        )
        host, port = stack.settings.host, stack.settings.http_port

        def grpc_row(outcome: load.Outcome, usage: probes.Usage) -> dict[str, Any]:
            return {"transport": "gRPC", "clients": clients, "outcome": outcome, "usage": usage}

        def pairs(source: str | None = None) -> load.Pairs:
            return load.Pairs(data.account_ids, load.seeded(rng.random()), source)

        try:
            if "noop" in only:
                outcome, usage = self.measure(
                    stack,
                    database,
                    lambda: [load.health_check(channels(), timeout) for _ in range(clients)],
                )
                self.add(
                    Row.of("noop", "no-op RPC (gRPC Health/Check)", **grpc_row(outcome, usage))
                )
            if "auth_read" in only:
                outcome, usage = self.measure(
                    stack,
                    database,
                    lambda: [load.get_clock(channels(), token, timeout) for _ in range(clients)],
                )
                self.add(
                    Row.of(
                        "auth_read",
                        "authenticated read (gRPC GetClock)",
                        **grpc_row(outcome, usage),
                    )
                )
            if "auth_read_flood" in only:
                flood.run(self, stack, database, channels, token)
            if "grpc" in only:
                outcome, usage = self.measure(
                    stack,
                    database,
                    lambda: [
                        load.grpc_transfer(channels(), token, pairs(), timeout)
                        for _ in range(clients)
                    ],
                )
                self.add(Row.of("grpc", "transfers, uniform (gRPC)", **grpc_row(outcome, usage)))
            if "rest" in only:
                outcome, usage = self.measure(
                    stack,
                    database,
                    lambda: [
                        load.rest_transfer(load.Http(host, port, token, timeout), pairs())
                        for _ in range(clients)
                    ],
                )
                self.add(
                    Row.of(
                        "rest",
                        "transfers, uniform (REST via Envoy)",
                        transport="REST",
                        clients=clients,
                        outcome=outcome,
                        usage=usage,
                    )
                )
            if "hot" in only:
                outcome, usage = self.measure(
                    stack,
                    database,
                    lambda: [
                        load.grpc_transfer(channels(), token, pairs(data.hot_account_id), timeout)
                        for _ in range(clients)
                    ],
                )
                self.add(
                    Row.of(
                        "hot", "transfers, one hot debit account (gRPC)", **grpc_row(outcome, usage)
                    )
                )
            if "replay" in only:
                self._replays(stack, database, channels, token, pairs)
            for key in ("batch", "batch_rest"):
                if key in only:
                    batch.run(self, stack, database, channels, token, pairs, rest=key != "batch")
            deep_starts = (
                dataset.deep_page_starts(
                    stack.settings.database_url,
                    data.deep_account_id,
                    every=500,
                    data_dir=stack.settings.data_dir,
                )
                if {"history", "history_paced"} & set(only)
                else []
            )
            paced = (self.config.history_rate, self.config.history_write_rate)
            for key, deep_share, pace in (
                ("history", 0.5, None),
                ("history_typical", 0.0, None),
                ("history_paced", 0.5, paced),
            ):
                if key in only:
                    self._history(
                        key=key,
                        deep_share=deep_share,
                        pace=pace,
                        deep_starts=deep_starts,
                        stack=stack,
                        channels=channels,
                        token=token,
                        data=data,
                        pairs=pairs,
                    )
        finally:
            channels.close()

    def _replays(
        self, stack: Stack, database: str, channels: load.ChannelPool, token: str, pairs: Any
    ) -> None:
        config, clients, timeout = self.config, self.config.clients, self.config.timeout_seconds
        keyed: list[list[tuple[str, Any]]] = [[] for _ in range(clients)]
        outcome, usage = self.measure(
            stack,
            database,
            lambda: [
                load.grpc_transfer(channels(), token, pairs(), timeout, keyed=keyed[i])
                for i in range(clients)
            ],
            warmup=False,
        )
        self.add(
            Row.of(
                "fresh_keyed",
                "keyed transfers, first time (gRPC)",
                transport="gRPC",
                clients=clients,
                outcome=outcome,
                usage=usage,
            )
        )
        total = sum(len(items) for items in keyed)
        outcome, usage = self.measure(
            stack,
            database,
            lambda: [
                load.grpc_replay(channels(), token, keyed[i], timeout) for i in range(clients)
            ],
            warmup=False,
            max_ops=total,
            seconds=config.seconds * 5,
        )
        row = Row.of(
            "replay",
            "the same keys replayed (gRPC)",
            transport="gRPC",
            clients=clients,
            outcome=outcome,
            usage=usage,
        )
        row.notes = {"keys": total}
        self.add(row)

    def _history(
        self,
        *,
        key: str,
        deep_share: float,
        deep_starts: list[tuple[int, str]],
        stack: Stack,
        channels: load.ChannelPool,
        token: str,
        data: dataset.Dataset,
        pairs: Any,
        pace: tuple[float, float] | None = None,
    ) -> None:
        """History reads over REST, with a quarter of the callers writing beside.

        `pace`: (reads/s, transfers/s) of a paced run; None: closed loops.
        """
        config, timeout = self.config, self.config.timeout_seconds
        database = dataset.database_name(stack.settings.database_url)
        writers = max(1, config.clients // 4)
        if pace is not None and not pace[1]:
            writers = 0
        readers_count = max(1, config.clients - writers)
        rates = None
        if pace is not None:
            rates = [pace[0] / readers_count] * readers_count
            rates += [pace[1] / writers] * writers if writers else []
        first = data.history_start.date()
        days = [
            (first + timedelta(days=d)).isoformat()
            for d in range((data.history_end.date() - first).days + 1)
        ]
        typical = [a for a in data.account_ids if a != data.deep_account_id]
        readers: list[load.HistoryReader] = []

        def operations() -> list[load.Operation]:
            readers.clear()
            for _ in range(readers_count):
                readers.append(
                    load.HistoryReader(
                        http=load.Http(
                            stack.settings.host, stack.settings.http_port, token, timeout
                        ),
                        typical_ids=typical,
                        deep_id=data.deep_account_id,
                        deep_starts=deep_starts,
                        days=days,
                        words=SEARCH_WORDS,
                        rng=load.seeded(pairs().rng.random()),
                        deep_share=deep_share,
                    )
                )
            ops: list[load.Operation] = [reader.operation for reader in readers]
            ops += [load.grpc_transfer(channels(), token, pairs(), timeout) for _ in range(writers)]
            return ops

        def label_of(index: int) -> Any:
            if index < readers_count:
                return lambda: readers[index].label
            return lambda: "write"

        labels = [label_of(i) for i in range(readers_count + writers)]
        outcome, usage = self.measure(stack, database, operations, labels=labels, rates=rates)
        reads = outcome.by_label.get("typical", []) + outcome.by_label.get("deep", [])
        kind = "typical + deep pages" if deep_share else "typical accounts only"
        if pace is not None:
            kind = f"paced at {pace[0]:g}/s, half deep"
        row = Row.of(
            key,
            f"history reads (REST), {kind}",
            transport="REST",
            clients=readers_count,
            outcome=outcome,
            usage=usage,
            latencies=reads,
            per_op_count=outcome.ok,
        )
        row.notes = {
            "cpu_per_op_counts": "reads and writes of the window",
            "writers": writers,
            "deepest_row": max((r.deepest_row for r in readers), default=0),
        }
        self.add(row)
        parts = [("typical", "  typical accounts, filtered", "REST")]
        if deep_share:
            parts.append(("deep", "  deep keyset pages, 100 rows", "REST"))
        if writers:
            beside = f"{writers} callers of transfers"
            if pace is not None:
                beside = f"transfers paced at {pace[1]:g}/s"
            parts.append(("write", f"  beside: {beside}", "gRPC"))
        for label, title, transport in parts:
            part = load.Outcome(latencies=outcome.by_label.get(label, []), elapsed=outcome.elapsed)
            self.add(
                Row.of(
                    f"{key}.{label}",
                    title,
                    transport=transport,
                    clients=0,
                    outcome=part,
                    usage=None,
                )
            )
        if deep_share:
            log(f"    deepest row read: {row.notes['deepest_row']:,}")


def main() -> int:
    config = BenchConfig.from_env()
    started = datetime.now(UTC)
    bench = Bench(config)
    document: dict[str, Any] = {
        "started": started.isoformat(),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()},
        "git": _git_state(),
    }
    log(
        f"make bench: {config.clients} clients, {config.seconds:g} s per scenario,"
        f" {config.accounts:,} accounts, {config.history:,} history transactions,"
        f" {config.server_processes} server process(es), gRPC TLS {config.grpc_tls}"
    )
    log(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    exit_code = 1
    try:
        with dataset.scratch_databases(config.admin_url, keep=config.keep_database) as (
            url,
            pgbench_url,
        ):
            document["postgres"] = _postgres_facts(url)
            grpc_port, http_port, https_port, admin_port, metrics_port = free_ports(5)
            settings = replace(
                Settings.from_env(),
                mode="sandbox",  # the sandbox client authenticates the bench
                metrics_port=metrics_port,  # on, as in production
                grpc_port=grpc_port,
                http_port=http_port,
                https_port=https_port,
                envoy_admin_port=admin_port,
                database_url=url,
                data_dir=tmp,
                public_url="",
                server_processes=config.server_processes,
                grpc_tls=config.grpc_tls,
                # The transfer scenarios measure the API's own path: the
                # webhook worker's fan-out of their events (a write per
                # event) is measured by the webhooks scenario, with its
                # own worker (README, "Benchmarks").
                webhook_worker=False,
            )
            document["server_settings"] = {
                "server_processes": settings.server_processes,
                "grpc_tls": settings.grpc_tls,
                "worker_threads": settings.worker_threads,
                "log_level": settings.log_level,
            }
            log(f"database {dataset.database_name(url)}: migrations (python -m server setup)")
            run_setup(settings)
            log(f"loading {config.accounts:,} accounts and {config.history:,} transactions")
            data = dataset.load(
                url,
                accounts=config.accounts,
                history=config.history,
                deep_share=config.deep_share,
                seed=config.seed,
            )
            checked = time.monotonic()
            data.rows = dataset.verify(url)
            took = time.monotonic() - checked
            log(f"  invariants hold ({took:.0f} s to check); rows: {data.rows}")
            document["dataset"] = {
                "rows": data.rows,
                "load_seconds": data.timings,
                "history_from": data.history_start,
                "history_to": data.history_end,
                "deep_account_id": data.deep_account_id,
                "hot_account_id": data.hot_account_id,
            }
            if "pgbench" in config.only:
                log(f"pgbench -i -s {config.pgbench_scale}")
                document["pgbench_init_seconds"] = pgbench.initialize(
                    pgbench_url, config.pgbench_scale
                )
                log("measuring")
                bench.pgbench(pgbench_url, "before")
            if "transfer_sql" in config.only:
                bench.transfer_sql(url, config.accounts)
            stack = Stack(settings, tmp / "logs")
            try:
                stack.start()
                token = str(token_over_rest(stack.http_url)["access_token"])
                bench.service(stack, token, data)
                if "reports" in config.only:
                    reports.run(bench, stack, token, log)
                if "export" in config.only:
                    export.run(bench, stack, token, log)
                if "webhooks" in config.only:  # last: it stops the stack's webhook worker
                    webhooks.run(bench, stack, token)
            finally:
                stack.stop()
            if "pgbench" in config.only:
                bench.pgbench(pgbench_url, "after")
            if {"history", "history_typical", "history_paced"} & set(config.only):
                log("EXPLAIN (ANALYZE, BUFFERS) of the history statements")
                found = plans.explain_history(
                    url, data.deep_account_id, data.account_ids[-1], data.history_end.date()
                )
                for plan in found:
                    log(
                        f"  {plan.case:<52} {plan.statement:<20} {plan.execution_ms:8.2f} ms"
                        f"  {', '.join(plan.indexes)}"
                    )
                document["explain"] = [asdict(plan) for plan in found]
            document["invariants_after"] = dataset.verify(url)
            log(f"invariants hold after the run; rows: {document['invariants_after']}")
        exit_code = 1 if bench.failed else 0
    except dataset.BenchFailure as failure:
        log(f"BENCH FAILED: {failure}")
        document["failure"] = str(failure)
        logs = tmp / "logs" / "server.log"
        if logs.exists():
            log("last lines of the server log:\n" + "\n".join(logs.read_text().splitlines()[-20:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(bench, document, started, exit_code)


def _report(bench: Bench, document: dict[str, Any], started: datetime, exit_code: int) -> int:
    """Ratios, targets and guards; prints the tables, writes the JSON; the exit status.

    A CPU guard that FAILs makes the status 1 (a missed target does not).
    """
    config = bench.config
    reference = sum(bench.pgbench_tps) / len(bench.pgbench_tps) if bench.pgbench_tps else 0.0
    for row in bench.rows:
        if reference and not row.key.startswith("pgbench_") and "." not in row.key:
            row.ratio_to_pgbench = row.throughput / reference
    reference_cpu = cpu.load_reference()
    targets = run_targets(
        bench.rows,
        bench.pgbench_tps,
        clients=config.clients,
        history=config.history,
        reference=reference_cpu,
    )
    guards = cpu.guards(bench.rows, reference_cpu)
    if any(g.met is False for g in guards):
        exit_code = 1
    document.update(
        finished=datetime.now(UTC).isoformat(),
        loadavg_after=os.getloadavg(),
        pgbench_reference_tps=reference,
        tpcb_cpu_ms_per_txn=cpu.tpcb_ms(bench.rows),
        rows=[row_dict(row) for row in bench.rows],
        targets=[asdict(t) for t in targets + guards],
        skipped=bench.skipped,
        exit_code=exit_code,
    )
    out = config.out_dir / f"result-{started:%Y%m%dT%H%M%SZ}.json"
    write_json(out, document)
    log("")
    log(table(bench.rows))
    log(f"x pgb: throughput / pgbench TPS (mean of the runs, {reference:,.0f} TPS)")
    log("")
    log(cpu.table(bench.rows, reference_cpu))
    log("")
    log(targets_table(targets + guards))
    for key, reason in bench.skipped.items():
        log(f"skipped {key}: {reason}")
    log(f"\nload average after: {os.getloadavg()[0]:.2f}; wrote {out}")
    log(f"took {(datetime.now(UTC) - started).total_seconds():.0f} s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
