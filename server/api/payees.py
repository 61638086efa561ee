"""PayeeService: the payees customers pay bills to, and the bank-wide billers."""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import payee_pb2 as resource_pb
from backoffice.v1 import payee_service_pb2 as pb
from backoffice.v1 import payee_service_pb2_grpc as pb_grpc
from backoffice.v1 import user_pb2
from server.api import call, convert, paging
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.domain import payees as rules
from server.domain.user_fields import Address
from server.services import payees as use_cases


class PayeeServicer(pb_grpc.PayeeServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._keyring = LiveKeyring(settings.data_dir / "keys")

    def ListPayees(
        self, request: pb.ListPayeesRequest, context: grpc.ServicerContext
    ) -> pb.ListPayeesResponse:
        query = use_cases.list_query(
            call.current().principal,
            owner_id=request.owner_id,
            type_word=_word(resource_pb.PayeeTypeEnum.PayeeType, request.type),
            category=request.category,
            search=request.search,
        )
        filters = query.token_filters()
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        result = use_cases.list_payees(
            query, use_cases.PageInput(page.limit, page.offset, page.after)
        )
        token = (
            paging.encode_token(result.next_key, filters, page=page.next_page)
            if result.next_key
            else ""
        )
        call.current().ok("Payees retrieved successfully")
        return pb.ListPayeesResponse(
            payees=[_payee(record) for record in result.payees],
            pagination=paging.pagination(page, result.total, token, bool(token)),
        )

    def CreatePayee(
        self, request: pb.CreatePayeeRequest, context: grpc.ServicerContext
    ) -> pb.CreatePayeeResponse:
        form = rules.PayeeForm(
            owner_id=request.owner_id,
            name=request.name,
            type=_word(resource_pb.PayeeTypeEnum.PayeeType, request.type),
            account_number=request.account_number,
            category=request.category,
            nickname=request.nickname,
            address=_address(request.address) if request.HasField("address") else None,
        )
        record = use_cases.create_payee(call.current().principal, form, self._keyring)
        call.current().created("Payee created successfully")
        return pb.CreatePayeeResponse(payee=_payee(record))

    def GetPayee(
        self, request: pb.GetPayeeRequest, context: grpc.ServicerContext
    ) -> pb.GetPayeeResponse:
        record = use_cases.get_payee(call.current().principal, request.payee_id)
        call.current().ok("Payee retrieved successfully")
        return pb.GetPayeeResponse(payee=_payee(record))

    def DeletePayee(
        self, request: pb.DeletePayeeRequest, context: grpc.ServicerContext
    ) -> pb.DeletePayeeResponse:
        use_cases.delete_payee(call.current().principal, request.payee_id)
        call.current().ok("Payee deleted successfully")
        return pb.DeletePayeeResponse()


# --- decoding -------------------------------------------------------------


def _word(enum: Any, value: int) -> str:
    """The documented word of an enum value; "" when unset; the number when unknown."""
    if value == 0:
        return ""
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)  # refused by the domain's validation


def _address(message: user_pb2.PostalAddress) -> Address:
    return Address(
        line1=message.line1,
        line2=message.line2,
        city=message.city,
        state=message.state,
        postal_code=message.postal_code,
        country=message.country,
    )


# --- encoding -------------------------------------------------------------


def _payee(record: rules.PayeeRecord) -> resource_pb.Payee:
    message = resource_pb.Payee(
        id=record.id,
        owner_id=record.owner_id,
        name=record.name,
        type=record.type,  # type: ignore[arg-type]
        account_number=record.masked_account_number,
        category=record.category,
        nickname=record.nickname,
        created_at=convert.timestamp(record.created_at),
    )
    if record.address is not None:
        parts = {name: value for name, value in record.address.to_dict().items() if value}
        message.address.CopyFrom(user_pb2.PostalAddress(**parts))
    return message


SERVICES = {"PayeeService": PayeeServicer}
