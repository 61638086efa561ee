"""ReportService: daily, monthly and custom reports, and a custom report's file."""

from __future__ import annotations

import grpc
from google.api import httpbody_pb2

from backoffice.v1 import report_pb2 as resource_pb
from backoffice.v1 import report_service_pb2 as pb
from backoffice.v1 import report_service_pb2_grpc as pb_grpc
from backoffice.v1 import transaction_pb2
from server.api import call
from server.api import report_views as views
from server.config import Settings
from server.domain.requests import refuse_enum_number
from server.services import report_jobs, reports

_GROUP = resource_pb.ReportGroupByEnum.ReportGroupBy
_TXN_TYPE = transaction_pb2.TransactionTypeEnum.TransactionType


class ReportServicer(pb_grpc.ReportServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._sandbox = settings.sandbox

    def GetDailyReport(
        self, request: pb.GetDailyReportRequest, context: grpc.ServicerContext
    ) -> pb.GetDailyReportResponse:
        computed = reports.daily(
            call.current().principal,
            request.date,
            request.account_id,
            request.currency,
            self._sandbox,
        )
        report, every = views.computed(computed)
        call.current().ok("Daily report generated successfully")
        return pb.GetDailyReportResponse(report=report, reports=every)

    def GetMonthlyReport(
        self, request: pb.GetMonthlyReportRequest, context: grpc.ServicerContext
    ) -> pb.GetMonthlyReportResponse:
        computed = reports.monthly(
            call.current().principal,
            request.month,
            request.account_id,
            request.currency,
            self._sandbox,
        )
        report, every = views.computed(computed)
        call.current().ok("Monthly report generated successfully")
        return pb.GetMonthlyReportResponse(report=report, reports=every)

    def CreateCustomReport(
        self, request: pb.CreateCustomReportRequest, context: grpc.ServicerContext
    ) -> pb.CreateCustomReportResponse:
        form = report_jobs.CustomForm(
            first=getattr(request.date_range, "from"),
            last=request.date_range.to,
            account_ids=list(request.account_ids),
            types=[_type_name(n, i) for i, n in enumerate(request.types)],
            group_by=_group_name(request.group_by),
            file_format=request.format,
            currency=request.currency,
        )
        record = report_jobs.create(call.current().principal, form, self._sandbox)
        call.current().accepted("Report generation started")
        return pb.CreateCustomReportResponse(report=views.stored(record))

    def GetReport(
        self, request: pb.GetReportRequest, context: grpc.ServicerContext
    ) -> pb.GetReportResponse:
        record = report_jobs.get(call.current().principal, request.report_id, self._sandbox)
        call.current().ok("Report retrieved successfully")
        return pb.GetReportResponse(report=views.stored(record))

    def DownloadReport(
        self, request: pb.DownloadReportRequest, context: grpc.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        content, content_type, name = report_jobs.download(
            call.current().principal, request.report_id, self._sandbox
        )
        info = call.current()
        info.raw, info.http_status, info.message = True, 200, "OK"
        info.headers["content-disposition"] = f'attachment; filename="{name}"'
        info.headers["cache-control"] = "no-store"
        return httpbody_pb2.HttpBody(content_type=content_type, data=content)


def _group_name(number: int) -> str:
    if number == 0:
        return ""
    if number not in _GROUP.values():
        raise refuse_enum_number("group_by", number)
    return str(_GROUP.Name(number))


def _type_name(number: int, index: int) -> str:
    if number == 0 or number not in _TXN_TYPE.values():
        raise refuse_enum_number(f"types[{index}]", number)
    return str(_TXN_TYPE.Name(number))


SERVICES = {"ReportService": ReportServicer}
