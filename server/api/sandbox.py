"""SandboxService: the sandbox clock and the sandbox inbox."""

from __future__ import annotations

import functools
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from backoffice.v1 import sandbox_service_pb2 as pb
from backoffice.v1 import sandbox_service_pb2_grpc as pb_grpc
from server.api import call, notification_views, paging
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.domain import errors
from server.domain.requests import refuse_enum_number
from server.services import notifications
from server.store import clock
from server.workers import due_work

_DAY_SECONDS = 24 * 3600


class SandboxServicer(pb_grpc.SandboxServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _clock(self) -> pb.Clock:
        if not self._settings.sandbox:
            raise errors.SandboxOnly()
        stamp = Timestamp()
        stamp.FromDatetime(clock.now())
        return pb.Clock(now=stamp, offset_seconds=clock.offset_seconds())

    def GetClock(
        self, request: pb.GetClockRequest, context: grpc.ServicerContext
    ) -> pb.GetClockResponse:
        clock_state = self._clock()
        call.current().ok("Sandbox clock read")
        return pb.GetClockResponse(clock=clock_state)

    def AdvanceClock(
        self, request: pb.AdvanceClockRequest, context: grpc.ServicerContext
    ) -> pb.AdvanceClockResponse:
        if not self._settings.sandbox:
            raise errors.SandboxOnly()
        seconds = _advance_seconds(request)
        clock.advance(seconds)
        # Work that became due is done now, not at the next sweep.
        due_work.run(clock.now(), sandbox=True, sealer=self._keyring)
        call.current().ok("Sandbox clock advanced")
        return pb.AdvanceClockResponse(clock=self._clock())

    @functools.cached_property
    def _keyring(self) -> LiveKeyring:
        # Opens the messages' sealed destination, body and code.
        return LiveKeyring(self._settings.data_dir / "keys")

    def ListSandboxNotifications(
        self, request: pb.ListSandboxNotificationsRequest, context: grpc.ServicerContext
    ) -> pb.ListSandboxNotificationsResponse:
        if not self._settings.sandbox:
            raise errors.SandboxOnly()
        channel = _enum_word(notification_views.CHANNEL, "channel", request.channel)
        kind = _enum_word(notification_views.KIND, "kind", request.kind)
        user_id = request.user_id or None
        filters = {"user": user_id, "channel": channel, "kind": kind}
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        query = notifications.InboxQuery(
            user_id, channel, kind, page.limit, page.offset, page.after
        )
        result = notifications.list_inbox(call.current().principal, query, self._keyring)
        token = (
            paging.encode_token(result.next_key, filters, page=page.next_page)
            if result.next_key
            else ""
        )
        pagination = paging.pagination(page, result.total, token, bool(token))
        call.current().ok("Notifications retrieved successfully")
        return pb.ListSandboxNotificationsResponse(
            notifications=[notification_views.notification(item) for item in result.items],
            pagination=pagination,
        )


def _enum_word(enum: Any, field: str, value: int) -> str | None:
    """The word of an enum filter; None when unset."""
    if value == 0:
        return None
    try:
        return str(enum.Name(value))
    except ValueError:
        raise refuse_enum_number(field, value) from None


def _advance_seconds(request: pb.AdvanceClockRequest) -> int:
    if (request.seconds != 0) == (request.days != 0):
        raise errors.ValidationFailed("Give exactly one of seconds or days", field="seconds")
    if request.days:
        if not 1 <= request.days <= 366:
            raise errors.ValidationFailed("days must be between 1 and 366", field="days")
        return request.days * _DAY_SECONDS
    if not 1 <= request.seconds <= clock.ADVANCE_SECONDS_MAX:
        raise errors.ValidationFailed(
            f"seconds must be between 1 and {clock.ADVANCE_SECONDS_MAX}", field="seconds"
        )
    return request.seconds


SERVICES = {"SandboxService": SandboxServicer}
