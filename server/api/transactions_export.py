"""TransactionService.ExportTransactions: an account's history as a file,
streamed as HttpBody chunks (see server.api.stream_calls for the call's
handling, server.services.exports for the rules)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from google.api import httpbody_pb2

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import call
from server.api.transaction_base import MovementMethods
from server.services import exports


class ExportMethods(MovementMethods):
    """The transaction export."""

    def ExportTransactions(
        self, request: pb.ExportTransactionsRequest, context: grpc.ServicerContext
    ) -> Iterator[httpbody_pb2.HttpBody]:
        info = call.current()
        made = exports.export(
            exports.ExportRequest(
                account_id=request.account_id,
                format=request.format,
                start_date=request.start_date,
                end_date=request.end_date,
            ),
            info.principal,
        )
        info.ok("Export ready")
        info.headers["content-disposition"] = made.content_disposition
        content_type = made.file_format.content_type
        # Every chunk names the content type (the transcoder reads the first's).
        return (
            httpbody_pb2.HttpBody(content_type=content_type, data=chunk) for chunk in made.chunks
        )
