"""SandboxService: the sandbox clock."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from backoffice.v1 import sandbox_service_pb2 as pb
from backoffice.v1 import sandbox_service_pb2_grpc as pb_grpc
from server.api import call
from server.config import Settings
from server.domain import errors
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
        due_work.run(clock.now(), sandbox=True)
        call.current().ok("Sandbox clock advanced")
        return pb.AdvanceClockResponse(clock=self._clock())


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
