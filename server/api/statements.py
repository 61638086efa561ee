"""StatementService: an account's monthly statements and their PDF."""

from __future__ import annotations

import re
from typing import Any

import grpc
from google.api import httpbody_pb2

from backoffice.v1 import statement_pb2 as resource_pb
from backoffice.v1 import statement_service_pb2 as pb
from backoffice.v1 import statement_service_pb2_grpc as pb_grpc
from server.api import call, paging
from server.api.convert import timestamp
from server.config import Settings
from server.domain import errors
from server.domain import statement_months as rules
from server.domain.money import to_major
from server.services import statements as service

_PERIOD = re.compile(r"^\d{4}-\d{2}$")


class StatementServicer(pb_grpc.StatementServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def ListStatements(
        self, request: pb.ListStatementsRequest, context: grpc.ServicerContext
    ) -> pb.ListStatementsResponse:
        filters = {"account_id": request.account_id}
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        items, total, has_next = service.list_statements(
            call.current().principal,
            request.account_id,
            page.offset,
            page.limit,
            _after(page.after),
        )
        token = (
            paging.encode_token([items[-1].period], filters, page=page.next_page)
            if has_next and items
            else ""
        )
        call.current().ok("Statements retrieved successfully")
        return pb.ListStatementsResponse(
            statements=[_statement(item) for item in items],
            pagination=paging.pagination(page, total, token, has_next),
        )

    def GetStatement(
        self, request: pb.GetStatementRequest, context: grpc.ServicerContext
    ) -> pb.GetStatementResponse:
        record = service.get_statement(call.current().principal, request.statement_id)
        call.current().ok("Statement retrieved successfully")
        return pb.GetStatementResponse(statement=_statement(record))

    def DownloadStatement(
        self, request: pb.DownloadStatementRequest, context: grpc.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        name, document = service.download(call.current().principal, request.statement_id)
        info = call.current()
        info.raw, info.http_status, info.message = True, 200, "OK"
        info.headers["content-disposition"] = f'attachment; filename="{name}"'
        info.headers["cache-control"] = "no-store"
        return httpbody_pb2.HttpBody(content_type="application/pdf", data=document)


def _after(key: list[Any] | None) -> str | None:
    """The period a page token resumes after; a forged one is refused."""
    if key is None:
        return None
    if len(key) != 1 or not isinstance(key[0], str) or not _PERIOD.match(key[0]):
        raise errors.ValidationFailed("page_token is not valid", field="page_token")
    return key[0]


def _statement(record: rules.StatementRecord) -> resource_pb.Statement:
    figures, currency = record.figures, record.currency
    return resource_pb.Statement(
        id=record.id,
        account_id=record.account_id,
        account_number=record.account_number,
        period=record.period,
        period_start=record.period_start.isoformat(),
        period_end=record.period_end.isoformat(),
        currency=currency,
        opening_balance=to_major(figures.opening_balance_minor, currency),
        closing_balance=to_major(figures.closing_balance_minor, currency),
        credit_count=figures.credit_count,
        total_credits=to_major(figures.credit_total_minor, currency),
        debit_count=figures.debit_count,
        total_debits=to_major(figures.debit_total_minor, currency),
        created_at=timestamp(record.created_at),
    )


SERVICES = {"StatementService": StatementServicer}
