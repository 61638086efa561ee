"""The nemesis: one fault at a time, from a seeded schedule."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import server  # noqa: F401  (puts gen/ on sys.path)
from tests.chaos.model import Config, Fault, seeded
from tests.chaos.system import System
from tests.chaos.workload import Bank


class Nemesis:
    """Injects one fault at a time, from a seeded schedule, until stopped."""

    def __init__(
        self, system: System, bank: Bank, config: Config, log: Callable[[str], None]
    ) -> None:
        self.system = system
        self.bank = bank
        self.config = config
        self.log = log
        self.rng = seeded(config.seed, "nemesis")
        self.faults: list[Fault] = []
        self.kills: list[tuple[int, float]] = []  # (server, when it was SIGKILLed)
        self.errors: list[str] = []

    def run(self, stop: threading.Event) -> None:
        kinds = self.config.faults
        number = 0
        limit = self.config.max_faults
        while not stop.wait(self.rng.uniform(*self.config.gap)):
            if limit and number >= limit:
                continue  # the quota is spent: the workload goes on without faults
            if self.config.order == "cycle":
                kind = kinds[number % len(kinds)]
            else:
                kind = self.rng.choice(kinds)
            number += 1
            started = self.bank.now()
            try:
                detail = self.inject(kind)
            except Exception as exc:  # the harness must heal and go on, and say so
                detail = f"failed: {exc!r}"
                self.errors.append(f"{kind}: {exc!r}")
                with contextlib.suppress(Exception):
                    self.system.heal()
            fault = Fault(kind, started, self.bank.now(), detail)
            self.faults.append(fault)
            self.log(f"  t={fault.started:6.1f}s {kind:<22} {detail}")

    def inject(self, kind: str) -> str:
        pg = self.system.pg
        if kind == "kill-server":
            process = self.system.servers[self.rng.randrange(len(self.system.servers))]
            down = self.rng.uniform(0.2, 2.0)
            self.kills.append((process.index, self.bank.now()))
            process.kill()
            time.sleep(down)
            process.start()
            return f"server {process.index} SIGKILLed, restarted after {down:.1f} s"
        if kind == "kill-webhook-worker":
            workers = self.system.webhook_workers
            worker = workers[self.rng.randrange(len(workers))]
            down = self.rng.uniform(0.2, 2.0)
            worker.kill()  # its leased deliveries come back when the lease passes
            time.sleep(down)
            worker.start()
            return f"webhook worker {worker.index} SIGKILLed, restarted after {down:.1f} s"
        if kind == "terminate-connections":
            return f"{pg.terminate_backends()} backends terminated"
        if kind == "pause-postgres":
            paused_for = self.rng.uniform(0.5, 4.0)
            count = pg.pause()
            try:
                time.sleep(paused_for)
            finally:
                pg.resume()
            return f"{count} processes stopped for {paused_for:.1f} s"
        if kind == "crash-postgres":
            down = self.rng.uniform(0.2, 2.0)
            pg.crash_restart(down)
            return f"immediate shutdown, restarted after {down:.1f} s"
        raise ValueError(f"unknown fault {kind!r}")
