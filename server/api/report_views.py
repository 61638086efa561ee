"""Report resources as proto messages (amounts to major units here, at the edge)."""

from __future__ import annotations

from collections.abc import Sequence

from backoffice.v1 import common_pb2, transaction_pb2
from backoffice.v1 import report_pb2 as pb
from server.api import convert
from server.domain import reports as rules
from server.domain.money import to_major
from server.domain.reports import Figures, Group, Period, Totals
from server.services.report_jobs import ReportRecord
from server.services.reports import Computed

_TYPE = pb.ReportTypeEnum.ReportType
_STATUS = pb.ReportStatusEnum.ReportStatus
_GROUP = pb.ReportGroupByEnum.ReportGroupBy
_TXN_TYPE = transaction_pb2.TransactionTypeEnum.TransactionType
_TXN_NAMES = frozenset(_TXN_TYPE.keys())


def _type_total(kind: str, t: Totals, currency: str) -> pb.ReportTypeTotal:
    return pb.ReportTypeTotal(
        transaction_type=kind if kind in _TXN_NAMES else None,
        transaction_count=t.transactions,
        total_debits=to_major(t.debit_minor, currency),
        total_credits=to_major(t.credit_minor, currency),
        net_change=to_major(t.net_minor, currency),
        debit_count=t.debits,
        credit_count=t.credits,
    )


def _group(g: Group, currency: str) -> pb.ReportGroup:
    t = g.totals
    message = pb.ReportGroup(
        key=g.key,
        transaction_count=t.transactions,
        total_debits=to_major(t.debit_minor, currency),
        total_credits=to_major(t.credit_minor, currency),
        net_change=to_major(t.net_minor, currency),
        fees_collected=to_major(t.fees_minor, currency),
        debit_count=t.debits,
        credit_count=t.credits,
    )
    if g.closing_minor is not None:
        message.closing_balance = to_major(g.closing_minor, currency)
    return message


def _summary(f: Figures) -> pb.ReportSummary:
    s, cur = f.summary, f.currency
    return pb.ReportSummary(
        transaction_count=s.transactions,
        total_debits=to_major(s.debit_minor, cur),
        total_credits=to_major(s.credit_minor, cur),
        net_change=to_major(s.net_minor, cur),
        fees_collected=to_major(s.fees_minor, cur),
        new_accounts=f.new_accounts,
        closed_accounts=f.closed_accounts,
        opening_balance=to_major(f.opening_minor, cur),
        closing_balance=to_major(f.closing_minor, cur),
        debit_count=s.debits,
        credit_count=s.credits,
        failed_count=f.failed,
        cancelled_count=f.cancelled,
        holds_outstanding_count=f.holds_count,
        holds_outstanding_amount=to_major(f.holds_minor, cur),
    )


def _filled(report: pb.Report, f: Figures) -> pb.Report:
    report.summary.CopyFrom(_summary(f))
    report.totals_by_type.extend(_type_total(k, t, f.currency) for k, t in f.by_type)
    report.groups.extend(_group(g, f.currency) for g in f.groups)
    return report


def _period(period: Period) -> common_pb2.DateRange:
    return common_pb2.DateRange(**{"from": period.first.isoformat(), "to": period.last.isoformat()})


def _types(kinds: Sequence[str]) -> list[int]:
    return [_TXN_TYPE.Value(k) for k in kinds]


def computed(c: Computed) -> tuple[pb.Report, list[pb.Report]]:
    """A daily or monthly report, and the same for each currency of the scope."""

    def one(f: Figures) -> pb.Report:
        q = c.query
        name = rules.report_name(
            q.kind,
            q.period.first.isoformat() if q.kind == rules.DAILY else q.period.first.isoformat()[:7],
            f.currency,
            q.account_ids[0] if q.account_ids else "",
        )
        report = pb.Report(
            id=name,
            type=q.kind,
            status="COMPLETED",
            period=_period(q.period),
            currency=f.currency,
            account_ids=list(q.account_ids),
            group_by="DAY",
            format="json",
            requested_by=c.requested_by,
            created_at=convert.timestamp(c.computed_at),
            completed_at=convert.timestamp(c.computed_at),
            as_of=convert.timestamp(c.as_of),
        )
        return _filled(report, f)

    return one(c.figures[0]), [one(f) for f in c.others]


def stored(record: ReportRecord) -> pb.Report:
    s, p = record.stored, record.stored.parameters
    period = record.period
    report = pb.Report(
        id=s.id,
        type="CUSTOM",
        status=s.status,
        period=_period(period),
        currency=str(p["currency"]),
        account_ids=list(p["account_ids"]),
        transaction_types=[str(t) for t in p["types"]],
        group_by=str(p["group_by"]),
        format=s.format,
        requested_by=s.requested_by,
        created_at=convert.timestamp(s.created_at),
        expires_at=convert.timestamp(s.expires_at),
    )
    if s.completed_at is not None:
        completed = convert.timestamp(s.completed_at)
        as_of = convert.timestamp(min(period.end, s.completed_at))
        assert completed is not None and as_of is not None
        report.completed_at.CopyFrom(completed)
        report.as_of.CopyFrom(as_of)
    if s.failure_reason:
        report.failure_reason = s.failure_reason
    if s.status == rules.COMPLETED and record.figures is not None:
        report.download_url = f"/v1/reports/{s.id}/download"
        _filled(report, record.figures)
    return report
