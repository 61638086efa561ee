"""The bench's arithmetic: CPU per transfer, the CPU guard, batch answers, targets."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import psycopg2
import pytest

from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from tests.bench import batch, cpu, main, probes
from tests.bench.config import BenchConfig
from tests.bench.report import Row, Target, targets_table
from tests.bench.targets import targets
from tests.common.databases import POSTGRES_ADMIN_URL, postgres_database

REFERENCE = {
    "tolerance": 0.5,
    "grpc_p99_ms_before": 57.0,
    "scenarios": {"grpc": {"cpu_ms": 4.0, "x_tpcb": 10.0}},
}


def _row(key: str, *, server: float | None, db: float, client: float, **kw: Any) -> Row:
    return Row(
        key=key,
        title=key,
        transport=kw.pop("transport", "gRPC"),
        clients=16,
        ops=kw.pop("ops", 1000),
        failures={},
        seconds=10.0,
        throughput=kw.pop("throughput", 100.0),
        p50_ms=10.0,
        p99_ms=kw.pop("p99_ms", 40.0),
        mean_ms=12.0,
        server_cpu_ms_per_op=server,
        db_cpu_ms_per_op=db,
        client_cpu_ms_per_op=client,
        **kw,
    )


def _pgbench(total: float) -> list[Row]:
    # pgbench rows: no server, the pgbench process is the client
    return [
        _row("pgbench_before", server=None, db=total * 0.8, client=total * 0.2),
        _row("pgbench_after", server=None, db=total * 0.8, client=total * 0.2),
    ]


def test_split_total_leaves_out_envoy_of_grpc_rows_and_the_shared_processes() -> None:
    grpc = _row("grpc", server=2.0, db=1.0, client=0.5, envoy_cpu_ms_per_op=9.0)
    grpc.db_shared_cpu_ms_per_op = 7.0
    rest = _row("rest", server=2.0, db=1.0, client=0.5, envoy_cpu_ms_per_op=0.7, transport="REST")
    assert cpu.Split.of(grpc).total == pytest.approx(3.5)  # type: ignore[union-attr]
    assert cpu.Split.of(rest).total == pytest.approx(4.2)  # type: ignore[union-attr]
    assert cpu.Split.of(_row("x", server=1.0, db=None, client=0.1)) is None  # type: ignore[arg-type]


def test_tpcb_is_the_mean_of_the_pgbench_rows_only() -> None:
    rows = [*_pgbench(0.4), _row("grpc", server=2.0, db=1.0, client=0.5)]
    rows[1].db_cpu_ms_per_op = 0.52  # after: 0.6 in all
    assert cpu.tpcb_ms(rows) == pytest.approx(0.5)
    assert cpu.tpcb_ms([_row("grpc", server=2.0, db=1.0, client=0.5)]) is None


def test_guard_judges_the_ratio_to_tpcb_when_pgbench_ran() -> None:
    # reference 10x with +50%: 15x is the bound
    rows = [*_pgbench(0.4), _row("grpc", server=3.0, db=2.0, client=0.9)]  # 5.9 ms = 14.75x
    (passed,) = cpu.guards(rows, REFERENCE)
    assert passed.met is True and passed.guard
    assert "14.75x TPC-B" in passed.measured and passed.goal == "<= 15.0x TPC-B txn"
    rows[-1].db_cpu_ms_per_op = 2.2  # 6.1 ms = 15.25x
    (failed,) = cpu.guards(rows, REFERENCE)
    assert failed.met is False
    # the same 6.1 ms on a machine half as fast (TPC-B twice as dear) passes
    (slow_machine,) = cpu.guards([*_pgbench(0.8), rows[-1]], REFERENCE)
    assert slow_machine.met is True


def test_guard_judges_milliseconds_without_pgbench() -> None:
    (passed,) = cpu.guards([_row("grpc", server=3.0, db=2.0, client=0.99)], REFERENCE)
    assert passed.met is True and passed.goal == "<= 6.00 ms"
    (failed,) = cpu.guards([_row("grpc", server=3.0, db=2.0, client=1.01)], REFERENCE)
    assert failed.met is False


def test_guard_without_reference_or_without_transfers() -> None:
    rows = [_row("batch", server=0.5, db=0.3, client=0.1), _row("hot", server=1, db=1, client=1)]
    rows[1].ops = 0  # every request failed: no CPU per transfer to judge
    (batch_guard,) = cpu.guards(rows, REFERENCE)
    assert batch_guard.met is None and batch_guard.goal == "no reference"
    assert "PASS" not in targets_table([batch_guard]) and "n/a" in targets_table([batch_guard])


def test_the_transfer_sql_row_is_shown_but_not_guarded() -> None:
    reference = {**REFERENCE, "scenarios": {"transfer_sql": {"cpu_ms": 0.1, "x_tpcb": 0.1}}}
    rows = [*_pgbench(0.4), _row("transfer_sql", server=None, db=0.7, client=0.1)]
    assert cpu.guards(rows, reference) == []
    assert any(
        line.startswith("a transfer's SQL alone")
        for line in cpu.table(rows, reference).splitlines()
    )


def test_targets_table_says_pass_fail_for_guards_and_met_missed_for_targets() -> None:
    text = targets_table(
        [
            Target("g1", "", "", True, guard=True),
            Target("g2", "", "", False, guard=True),
            Target("t1", "", "", True),
            Target("t2", "", "", False),
        ]
    )
    verdicts = [line.split()[-1] for line in text.splitlines()[2:]]
    assert verdicts == ["PASS", "FAIL", "MET", "MISSED"]


def test_cpu_table_shows_the_split_ratio_and_reference() -> None:
    rows = [*_pgbench(0.5), _row("grpc", server=3.0, db=1.5, client=0.5)]
    rows[-1].db_shared_cpu_ms_per_op = 0.25
    lines = cpu.table(rows, REFERENCE).splitlines()
    tpcb = next(line for line in lines if line.startswith("one TPC-B"))
    grpc = next(line for line in lines if line.startswith("transfers, uniform (gRPC)"))
    assert tpcb.split()[-6:-4] == ["0.10", "0.50"]  # client, total
    expected = ["3.00", "-", "1.50", "0.50", "5.00", "0.25", "10.0", "0.100", "4.00"]
    assert grpc.split()[-9:] == expected


def test_committed_reference_loads_and_bad_ones_are_refused(tmp_path: Path) -> None:
    reference = cpu.load_reference()
    assert set(reference["scenarios"]) <= set(cpu.TRANSFER_ROWS)
    assert {"grpc", "rest", "hot", "replay", "batch"} <= set(reference["scenarios"])
    for bad in (
        {"tolerance": 0, "scenarios": {}},
        {"tolerance": "0.5", "scenarios": {}},
        {"tolerance": 0.5, "scenarios": {"grcp": {"cpu_ms": 1, "x_tpcb": 1}}},
        {"tolerance": 0.5, "scenarios": {"grpc": {"cpu_ms": 1}}},
        {"tolerance": 0.5, "scenarios": {"grpc": {"cpu_ms": -1, "x_tpcb": 1}}},
    ):
        path = tmp_path / "reference.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=r"reference\.json"):
            cpu.load_reference(path)


def _targets(rows: list[Row], tps: list[float]) -> dict[str, Target]:
    found = targets(rows, tps, clients=16, history=1000, reference=REFERENCE)
    return {t.name.split(",")[0]: t for t in found}


def test_throughput_targets_are_ratios_to_pgbench_with_stretch_goals() -> None:
    rows = [
        _row("grpc", server=1, db=1, client=1, throughput=400.0, p99_ms=56.9),
        _row("rest", server=1, db=1, client=1, throughput=319.0),
        _row("batch", server=1, db=1, client=1, throughput=1500.0),
        _row("hot", server=1, db=1, client=1, throughput=120.0),
    ]
    found = _targets(rows, [900.0, 1100.0])  # reference 1,000 TPS
    grpc = found["gRPC transfers/s vs pgbench TPS"]
    assert (grpc.met, grpc.measured) == (True, "0.400x (stretch missed)")
    assert found["REST transfers/s vs gRPC"].met is False  # 0.7975x
    batch_target = found["batch API transfers/s vs pgbench TPS"]
    assert (batch_target.met, batch_target.measured) == (True, "1.500x (stretch met)")
    assert found["hot account vs uniform"].met is True
    p99 = found["p99 of single gRPC transfers"]
    assert (p99.met, p99.goal) == (True, "< 57.0 ms (before)")
    rows[0].p99_ms = 57.0
    assert _targets(rows, [1000.0])["p99 of single gRPC transfers"].met is False
    rows[2].throughput = 999.0
    assert _targets(rows, [1000.0])["batch API transfers/s vs pgbench TPS"].met is False


def test_targets_not_measured_without_pgbench_or_rows() -> None:
    found = _targets([], [])
    assert all(t.met is None for t in found.values())
    assert found["batch API transfers/s vs pgbench TPS"].measured == "not measured"


class _Message:
    """A result message as protobuf answers it: HasField and DESCRIPTOR.fields_by_name."""

    class DESCRIPTOR:
        fields_by_name: ClassVar[dict[str, None]] = {"transaction": None, "error": None}

    def __init__(self, field: str | None, code: str = "") -> None:
        self._field = field
        self.error = type("Error", (), {"code": code})()

    def HasField(self, name: str) -> bool:
        return name == self._field


def test_batch_results_count_transfers_and_item_errors() -> None:
    results = [_Message("transaction"), _Message("error", "TXN003"), _Message(None)]
    posted, errors = batch.count_results(results, 3)
    assert posted == 1
    assert errors == Counter({"item TXN003": 1, "item with neither transaction nor error": 1})
    posted, errors = batch.count_results([_Message("transaction")] * 2, 3)
    assert (posted, errors) == (2, Counter({"2 results for 3 requests": 1}))
    assert batch.count_results([_Message("transaction")] * 3, 3) == (3, Counter())


def test_batch_rest_results() -> None:
    ok = {"transaction": {"id": "txn_1"}}
    body = {"results": [ok, {"error": {"code": "TXN001", "message": "m"}}, {}]}
    posted, errors = batch.count_rest_results(body, 3)
    assert posted == 1 and errors["item TXN001"] == 1
    assert errors["item with neither transaction nor error"] == 1
    assert batch.count_rest_results({"data": {"results": [ok]}}, 1) == (1, Counter())
    assert batch.count_rest_results({"success": True}, 1)[1] == Counter(
        {"answer without results": 1}
    )


def test_batch_call_with_an_item_error_is_a_failure_and_still_counts_its_transfers() -> None:
    tally = batch.Tally()
    assert batch._verdict(tally, 99, Counter({"item TXN003": 1})) == "item TXN003 x1"
    assert batch._verdict(tally, 100, Counter()) is None
    assert tally.transfers == 199 and tally.item_errors == Counter({"item TXN003": 1})


def test_batch_size_knob() -> None:
    assert BenchConfig.from_env({}).batch_size == 50
    assert BenchConfig.from_env({}).batch_clients == 8
    assert BenchConfig.from_env({"BENCH_BATCH_CLIENTS": "16"}).batch_clients == 16
    with pytest.raises(SystemExit, match="BENCH_BATCH_CLIENTS"):
        BenchConfig.from_env({"BENCH_BATCH_CLIENTS": "0"})
    assert BenchConfig.from_env({"BENCH_BATCH_SIZE": "1000"}).batch_size == 1000
    for bad in ("0", "1001"):
        with pytest.raises(SystemExit, match="BENCH_BATCH_SIZE"):
            BenchConfig.from_env({"BENCH_BATCH_SIZE": bad})
    only = BenchConfig.from_env({"BENCH_ONLY": "batch,batch_rest"}).only
    assert only == ("batch", "batch_rest")


def test_parent_pid_reads_proc() -> None:
    assert probes.parent_pid(os.getpid()) == os.getppid()
    assert probes.parent_pid(2**22 + 12345) is None  # above pid_max: no such process


def _burn(url: str, seconds: float) -> None:
    """Keeps one backend of `url`'s database busy for about `seconds` of CPU."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM generate_series(1, %s) AS g WHERE md5(g::text) LIKE 'a%%'",
                (int(seconds * 1_500_000),),
            )
    finally:
        connection.close()


@pytest.mark.postgres
def test_probe_counts_the_backends_of_its_database_only() -> None:
    with postgres_database() as url, postgres_database() as other_url:
        database = url.rsplit("/", 1)[1]
        probe = probes.Probe(None, None, POSTGRES_ADMIN_URL, database).start()
        shared = probe._shared()
        # the postmaster (no ':' in its command line) and its shared processes
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in shared]
        assert any(b":" not in command.split(b"\0")[0] for command in commands)
        assert any(b"walwriter" in command or b"checkpointer" in command for command in commands)
        _burn(other_url, 0.5)  # another database: not this probe's
        after_other = probe.stop()
        assert after_other.db_cpu < 0.1
        probe = probes.Probe(None, None, POSTGRES_ADMIN_URL, database).start()
        _burn(url, 0.5)
        usage = probe.stop()
        assert usage.db_cpu > 0.2
        assert usage.db_shared_cpu >= 0.0
        assert usage.server_cpu == usage.envoy_cpu == 0.0


class _Http:
    def __init__(self, status: int, body: bytes) -> None:
        self.answer = (status, body)
        self.sent: list[tuple[str, str, bytes | None]] = []

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.sent.append((method, path, body))
        return self.answer


def test_rest_batch_is_skipped_only_without_a_route() -> None:
    for status, body in ((404, b"{}"), (405, b'{"error":{}}'), (200, b'{"code":"UNIMPLEMENTED"}')):
        http = _Http(status, body)
        assert batch.rest_skip_reason(http) is not None  # type: ignore[arg-type]
        assert http.sent == [("POST", batch.REST_PATH, b'{"requests": []}')]
    for status in (200, 400, 422):  # an empty batch answered or refused: the route is there
        assert batch.rest_skip_reason(_Http(status, b'{"error": {}}')) is None  # type: ignore[arg-type]


def test_grpc_batch_is_skipped_without_the_generated_rpc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(txn_pb, "BatchCreateTransfersRequest", raising=False)
    assert "has not landed" in (batch.grpc_available() or "")
    monkeypatch.setattr(txn_pb, "BatchCreateTransfersRequest", object, raising=False)
    servicer = txn_grpc.TransactionServiceServicer
    monkeypatch.delattr(servicer, "BatchCreateTransfers", raising=False)
    assert "TransactionService.BatchCreateTransfers" in (batch.grpc_available() or "")
    monkeypatch.setattr(servicer, "BatchCreateTransfers", object, raising=False)
    assert batch.grpc_available() is None


def test_a_failed_cpu_guard_fails_the_run_and_a_missed_target_does_not(tmp_path: Path) -> None:
    def run(grpc_total_ms: float) -> tuple[int, dict[str, Any]]:
        bench = main.Bench(BenchConfig.from_env({"BENCH_OUT": str(tmp_path)}))
        bench.pgbench_tps = [1000.0]
        # pgbench's TPC-B transaction: 0.4 ms; gRPC transfers far below the throughput target
        bench.rows = [*_pgbench(0.4), _row("grpc", server=grpc_total_ms, db=0.0, client=0.0)]
        document: dict[str, Any] = {}
        started = datetime.now(UTC)
        code = main._report(bench, document, started, 0)
        (written,) = tmp_path.glob("result-*.json")
        written.unlink()
        return code, document

    reference = cpu.load_reference()["scenarios"]["grpc"]["x_tpcb"] * 1.5 * 0.4
    passed, document = run(reference * 0.99)
    assert passed == 0 and document["exit_code"] == 0
    verdicts = {t["name"]: t["met"] for t in document["targets"]}
    assert verdicts["gRPC transfers/s vs pgbench TPS"] is False  # missed: reported only
    assert verdicts["CPU per op, grpc (guard)"] is True
    failed, document = run(reference * 1.01)
    assert failed == 1 and document["exit_code"] == 1
    assert document["tpcb_cpu_ms_per_txn"] == pytest.approx(0.4)
