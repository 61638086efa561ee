"""LedgerService: the bank's books (the trial balance), for staff."""

from __future__ import annotations

import grpc

from backoffice.v1 import ledger_pb2 as resource_pb
from backoffice.v1 import ledger_service_pb2 as pb
from backoffice.v1 import ledger_service_pb2_grpc as pb_grpc
from server.api import call, convert
from server.api.convert import timestamp
from server.config import Settings
from server.domain import ledger_reports as rules
from server.domain.money import to_major
from server.services import ledger_reports as service


class LedgerServicer(pb_grpc.LedgerServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def GetTrialBalance(
        self, request: pb.GetTrialBalanceRequest, context: grpc.ServicerContext
    ) -> pb.GetTrialBalanceResponse:
        as_of = convert.instant(request, "as_of", "asOf")
        report = service.trial_balance(call.current().principal, as_of, request.currency)
        call.current().ok("Trial balance retrieved successfully")
        return pb.GetTrialBalanceResponse(trial_balance=_trial_balance(report))


def _trial_balance(report: rules.TrialBalance) -> resource_pb.TrialBalance:
    return resource_pb.TrialBalance(
        as_of=timestamp(report.as_of),
        currency=report.currency,
        lines=[_line(line) for line in report.lines],
        totals=[
            resource_pb.TrialBalanceTotal(
                currency=total.currency,
                total_debits=to_major(total.debit_minor, total.currency),
                total_credits=to_major(total.credit_minor, total.currency),
                difference=to_major(total.difference_minor, total.currency),
            )
            for total in report.totals
        ],
        balanced=report.balanced,
    )


def _line(line: rules.TrialBalanceLine) -> resource_pb.TrialBalanceLine:
    return resource_pb.TrialBalanceLine(
        kind=line.kind,
        code=line.code,
        name=line.name,
        currency=line.currency,
        account_id=line.account_id or None,
        account_type=line.account_type or None,
        account_count=line.account_count,
        debit=to_major(line.debit_minor, line.currency),
        credit=to_major(line.credit_minor, line.currency),
        net=to_major(line.net_minor, line.currency),
    )


SERVICES = {"LedgerService": LedgerServicer}
