"""The one exception hierarchy of the back office.

Every error a client can see is a `BankError` subclass that names its
contract code (`reason`), its gRPC status (by name, so this module stays free
of grpc) and its HTTP status. The transport layer turns it into a
`google.rpc.Status` with `ErrorInfo` (and `BadRequest` when a field is named);
Envoy turns that into the REST error envelope. Anything that is not a
`BankError` is a bug and becomes INTERNAL with no internals in the message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

ERROR_DOMAIN = "backoffice.bank"


class BankError(Exception):
    """Base class: an error with a contract code, meant for the client."""

    reason: str = "INTERNAL"
    grpc_status: str = "INTERNAL"
    http_status: int = 500
    default_message: str = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        details: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.details = details
        # Every dynamic value of the message is also here, so that clients
        # never parse messages (AIP-193).
        self.metadata: dict[str, str] = {k: str(v) for k, v in (metadata or {}).items()}
        if field:
            self.metadata.setdefault("field", field)
        super().__init__(self.message)


# 400 ---------------------------------------------------------------------
class InvalidRequest(BankError):
    reason, grpc_status, http_status = "INVALID_REQUEST", "INVALID_ARGUMENT", 400
    default_message = "The request is invalid"


# 401 / 403 ---------------------------------------------------------------
class Unauthenticated(BankError):
    reason, grpc_status, http_status = "UNAUTHORIZED", "UNAUTHENTICATED", 401
    default_message = "Authentication required"


class Forbidden(BankError):
    reason, grpc_status, http_status = "FORBIDDEN", "PERMISSION_DENIED", 403
    default_message = "Not allowed"


# 404 ---------------------------------------------------------------------
class NotFound(BankError):
    reason, grpc_status, http_status = "NOT_FOUND", "NOT_FOUND", 404
    default_message = "Resource not found"


class AccountNotFound(NotFound):
    reason = "TXN002"
    default_message = "Account not found"


# 409 ---------------------------------------------------------------------
class Conflict(BankError):
    reason, grpc_status, http_status = "CONFLICT", "ABORTED", 409
    default_message = "The resource is in a conflicting state"


class AlreadyExists(Conflict):
    grpc_status = "ALREADY_EXISTS"
    default_message = "The resource already exists"


class IdempotencyKeyReused(Conflict):
    reason, grpc_status = "IDEMPOTENCY_KEY_REUSED", "ALREADY_EXISTS"
    default_message = "This Idempotency-Key was already used with a different request"


class IdempotencyRequestInProgress(Conflict):
    reason = "IDEMPOTENCY_KEY_IN_USE"
    default_message = "A request with this Idempotency-Key is still being processed"


class TransactionNotCancellable(Conflict):
    reason = "TXN007"
    default_message = "Transaction cannot be cancelled"


class TransactionAlreadyCompleted(Conflict):
    reason = "TXN008"
    default_message = "Transaction already completed"


class ChallengeFailed(Conflict):
    """Step-up verification: 5 wrong codes were given (challenge_service.proto)."""

    reason = "CHALLENGE_FAILED"
    default_message = "The challenge failed"


class ChallengeExpired(Conflict):
    """Step-up verification: the challenge's 5 minutes are over."""

    reason = "CHALLENGE_EXPIRED"
    default_message = "The challenge expired"


# 422 ---------------------------------------------------------------------
class ValidationFailed(BankError):
    reason, grpc_status, http_status = "VALIDATION_ERROR", "INVALID_ARGUMENT", 422
    default_message = "Validation failed"


class BusinessRuleViolation(BankError):
    reason, grpc_status, http_status = "VALIDATION_ERROR", "FAILED_PRECONDITION", 422
    default_message = "The request breaks a business rule"


class InsufficientFunds(BusinessRuleViolation):
    reason = "TXN001"
    default_message = "Insufficient funds"


class AccountNotActive(BusinessRuleViolation):
    reason = "TXN003"
    default_message = "Account frozen or inactive"


class LimitExceeded(BusinessRuleViolation):
    reason = "TXN004"
    default_message = "Daily limit exceeded"


class RiskDeclined(BusinessRuleViolation):
    """Fraud screening declined the movement (risk.proto); nothing moved."""

    reason = "RISK_DECLINED"
    default_message = "Declined by fraud screening"


class InvalidPin(ValidationFailed):
    reason = "INVALID_PIN"
    default_message = "Incorrect PIN"


class VerificationCodeInvalid(ValidationFailed):
    """Step-up verification or TOTP enrolment: a wrong code (counts a try)."""

    reason = "VERIFICATION_CODE_INVALID"
    default_message = "The code is not correct"


class StepUpRequired(BusinessRuleViolation):
    """A person's batch holds a transfer that needs step-up verification."""

    reason = "STEP_UP_REQUIRED"
    default_message = "This transfer needs step-up verification"


class CardLocked(BusinessRuleViolation):
    reason = "CARD_LOCKED"
    default_message = "The card is locked"


class InvalidAmount(ValidationFailed):
    reason = "TXN005"
    default_message = "Invalid amount"


class CurrencyMismatch(ValidationFailed):
    reason = "TXN006"
    default_message = "Currency mismatch"


class SandboxOnly(BusinessRuleViolation):
    reason = "SANDBOX_ONLY"
    default_message = "This operation exists only in sandbox mode"


# 429 / 5xx ---------------------------------------------------------------
class RateLimited(BankError):
    reason, grpc_status, http_status = "RATE_LIMITED", "RESOURCE_EXHAUSTED", 429
    default_message = "Rate limit exceeded"


class NotImplementedYet(BankError):
    reason, grpc_status, http_status = "NOT_IMPLEMENTED", "UNIMPLEMENTED", 501
    default_message = "This operation is not implemented yet"


class Unavailable(BankError):
    reason, grpc_status, http_status = "UNAVAILABLE", "UNAVAILABLE", 503
    default_message = "The service is temporarily unavailable"


class InternalError(BankError):
    """A bug. The message given to clients never carries internals."""


def dumps(error: BankError) -> str:
    """The refusal as JSON, to be answered again later (idempotency keys,
    challenges): `loads` gives back an error with the same code, status and text."""
    return json.dumps(
        {
            "reason": error.reason,
            "grpc_status": error.grpc_status,
            "http_status": error.http_status,
            "message": error.message,
            "field": error.field,
            "details": error.details,
            "metadata": error.metadata,
        }
    )


def loads(text: str) -> BankError:
    """The refusal `dumps` wrote."""
    data = json.loads(text)
    error = BankError(
        data["message"], field=data["field"], details=data["details"], metadata=data["metadata"]
    )
    error.reason = data["reason"]
    error.grpc_status = data["grpc_status"]
    error.http_status = data["http_status"]
    return error
