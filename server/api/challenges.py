"""ChallengeService: answering a step-up challenge, enrolling an authenticator app.

VerifyChallenge runs the kept request through the same paths as the RPC
that was called (server.api.transactions_*), inside the verification's
write transaction (server.services.challenges.verify), and answers what
that RPC would have: 201, its message and the Transaction. A repeated or
concurrent verification answers the stored outcome again with
`Idempotent-Replayed: true`.
"""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import challenge_pb2 as cpb
from backoffice.v1 import challenge_service_pb2 as pb
from backoffice.v1 import challenge_service_pb2_grpc as pb_grpc
from backoffice.v1 import transaction_pb2
from backoffice.v1 import transaction_service_pb2 as tpb
from backoffice.v1 import user_service_pb2 as upb
from server.api import (
    call,
    idempotency,
    step_up,
    transactions_generic,
    transactions_recurring,
    transactions_transfer,
    users,
)
from server.api.transaction_base import request_context
from server.api.transactions import TransactionServicer
from server.config import ConfigError, Settings
from server.domain import challenges as rules
from server.domain import errors
from server.domain.challenges import is_person
from server.services import challenges, contact_changes, totp_apps
from server.services.context import RequestContext
from server.store.challenge_rows import Challenge

METHOD = cpb.ChallengeMethodEnum.ChallengeMethod
_PACKAGE = "/backoffice.v1.TransactionService/"
_REQUESTS: dict[str, type[Any]] = {
    "CreateTransfer": tpb.CreateTransferRequest,
    "CreatePayment": tpb.CreatePaymentRequest,
    "CreateExternalTransfer": tpb.CreateExternalTransferRequest,
    "CreateTransaction": tpb.CreateTransactionRequest,
    "CreateRecurringTransaction": tpb.CreateRecurringTransactionRequest,
}
# A movement that, once verified, waits for a staff review answers 202 (the
# contract's "held work"); -1 while the status does not exist.
_REVIEW = transaction_pb2.TransactionStatusEnum.TransactionStatus.DESCRIPTOR.values_by_name.get(
    "PENDING_REVIEW"
)
_PENDING_REVIEW = _REVIEW.number if _REVIEW is not None else -1
# The generic request's held types -> the specific RPC whose path runs it.
_GENERIC = {
    "TRANSFER": "CreateTransfer",
    "PAYMENT": "CreatePayment",
    "EXTERNAL_TRANSFER": "CreateExternalTransfer",
}


class ChallengeServicer(pb_grpc.ChallengeServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        try:
            step_up.of(settings)  # BANK_STEP_UP_THRESHOLDS must read before serving
        except rules.ConfigError as exc:
            raise ConfigError(str(exc)) from None
        # The movement paths (and their keyrings) a verified request runs through.
        self._transactions = TransactionServicer(settings)

    def VerifyChallenge(
        self, request: pb.VerifyChallengeRequest, context: grpc.ServicerContext
    ) -> Any:
        principal = _person()
        facts = step_up.of(self._settings)
        movement_context = request_context(context, sandbox=self._settings.sandbox)
        answer = challenges.verify(
            principal,
            request.challenge_id,
            request.code,
            METHOD.Name(request.method) if request.method else "",
            execute=lambda found: self._execute(found, movement_context),
            sealer=facts.sealer,
            code_key=facts.code_key,
        )
        info = call.current()
        info.http_status, info.message = answer.http_status, answer.message
        if answer.replayed:
            info.headers["idempotent-replayed"] = "true"
            # The stored bytes, as a message: an Idempotency-Key around this
            # call stores what it answers through the response serializer.
            return pb.VerifyChallengeResponse.FromString(answer.response)
        return answer.response

    def _execute(self, found: Challenge, context: RequestContext) -> challenges.Answer:
        """Runs a claimed challenge's request (inside the verification's transaction)."""
        if found.method == totp_apps.ENROL_METHOD:
            return self._enrol(pb.EnrollTotpRequest.FromString(found.request))
        if found.method == contact_changes.UPDATE_METHOD:
            request = upb.UpdateUserRequest.FromString(found.request)
            user = users.verified_update(request, step_up.of(self._settings).sealer)
            return challenges.Answer(
                pb.VerifyChallengeResponse(user=user), 200, "User updated successfully"
            )
        name = found.method.removeprefix(_PACKAGE)
        message_type = _REQUESTS.get(name)
        if not found.method.startswith(_PACKAGE) or message_type is None:
            raise errors.InternalError("A challenge holds a request of an unknown kind")
        request = message_type.FromString(found.request)
        if name == "CreateRecurringTransaction":
            schedule = self._transactions._create_recurring(request, context)
            return challenges.Answer(
                pb.VerifyChallengeResponse(recurring_transaction=schedule),
                201,
                transactions_recurring.RECURRING_CREATED,
            )
        if name == "CreateTransaction":
            name = _GENERIC[transactions_generic.kind_of(request)]
        if name == "CreateTransfer":
            transaction, message = transactions_transfer.verified(request, context)
        elif name == "CreatePayment":
            message, transaction = self._transactions._pay(request, context)
        else:
            transaction, message = self._transactions._send_external(request, context)
        status = 202 if transaction.status == _PENDING_REVIEW else 201
        info = call.current()
        info.http_status, info.message = status, message
        return challenges.Answer(
            pb.VerifyChallengeResponse(transaction=transaction), status, message
        )

    def EnrollTotp(
        self, request: pb.EnrollTotpRequest, context: grpc.ServicerContext
    ) -> pb.EnrollTotpResponse:
        """Held: the enrolment starts once a code sent to the contacts on file
        answers its challenge (server.services.totp_apps)."""
        facts = step_up.of(self._settings)
        made = totp_apps.hold_enrolment(
            call.current().principal,
            request.user_id,
            request.SerializeToString(deterministic=True),
            idempotency_key=idempotency.key_from(context),
            sealer=facts.sealer,
            code_key=facts.code_key,
        )
        call.current().accepted(step_up.ACCEPTED_MESSAGE)
        return pb.EnrollTotpResponse(challenge=step_up.challenge_message(made))

    def _enrol(self, request: pb.EnrollTotpRequest) -> challenges.Answer:
        """A verified EnrollTotp: the secret shown in this answer only (a
        replay answers the enrolment without it)."""
        made = totp_apps.enroll_totp(
            call.current().principal, request.user_id, step_up.of(self._settings).sealer
        )
        message = "Authenticator app enrolment started: confirm it with a code"
        call.current().created(message)
        shown = cpb.TotpEnrollment(
            secret=made.secret, otpauth_uri=made.otpauth_uri, confirmed=False
        )
        return challenges.Answer(
            pb.VerifyChallengeResponse(enrollment=shown),
            201,
            message,
            stored=pb.VerifyChallengeResponse(enrollment=cpb.TotpEnrollment(confirmed=False)),
        )

    def ConfirmTotp(
        self, request: pb.ConfirmTotpRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmTotpResponse:
        totp_apps.confirm_totp(
            call.current().principal,
            request.user_id,
            request.code,
            step_up.of(self._settings).sealer,
        )
        call.current().ok("Authenticator app confirmed")
        return pb.ConfirmTotpResponse(enrollment=cpb.TotpEnrollment(confirmed=True))


def _person() -> Any:
    principal = call.current().principal
    if not is_person(principal):
        raise errors.Forbidden(
            "A challenge is answered with the token of the person who made it",
            metadata={"client_id": principal.client_id},
        )
    return principal


SERVICES = {"ChallengeService": ChallengeServicer}
