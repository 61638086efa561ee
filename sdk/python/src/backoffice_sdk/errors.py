"""Every error code of the API contract as an exception class.

`BankError` carries what the REST error envelope says (`code`, `message`,
`details`, `field`), the HTTP status and the request id (`meta.requestId`,
also the `X-Request-ID` header) to quote to the bank's support. Subclasses
follow the contract's families, so `except ValidationError` catches every
422 and `except InsufficientFunds` only TXN001. An unknown code falls back
to the class of its HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BankError(Exception):
    """An error answered by the back office (or met on the way to it)."""

    code: str = "INTERNAL"
    http_status: int = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        field: str | None = None,
        details: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.field = field
        self.details = details
        self.request_id = request_id
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        rid = f" [request {self.request_id}]" if self.request_id else ""
        return f"{self.code} {self.http_status}: {self.message}{where}{rid}"


# 400 and the edge's own refusals of malformed HTTP ---------------------------
class InvalidRequest(BankError):
    code, http_status = "INVALID_REQUEST", 400


class MethodNotAllowed(InvalidRequest):
    code, http_status = "METHOD_NOT_ALLOWED", 405


class PayloadTooLarge(InvalidRequest):
    code, http_status = "PAYLOAD_TOO_LARGE", 413


class UriTooLong(InvalidRequest):
    code, http_status = "URI_TOO_LONG", 414


class UnsupportedMediaType(InvalidRequest):
    code, http_status = "UNSUPPORTED_MEDIA_TYPE", 415


class RequestHeadersTooLarge(InvalidRequest):
    code, http_status = "REQUEST_HEADERS_TOO_LARGE", 431


# 401 / 403 -------------------------------------------------------------------
class Unauthorized(BankError):
    code, http_status = "UNAUTHORIZED", 401


class OAuthError(Unauthorized):
    """An RFC 6749 error of `/oauth/*` (`code` is its `error`, e.g. `invalid_client`)."""


class Forbidden(BankError):
    code, http_status = "FORBIDDEN", 403


# 404 -------------------------------------------------------------------------
class NotFound(BankError):
    code, http_status = "NOT_FOUND", 404


class AccountNotFound(NotFound):
    code = "TXN002"


# 409 -------------------------------------------------------------------------
class Conflict(BankError):
    code, http_status = "CONFLICT", 409


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(Conflict):
    code = "IDEMPOTENCY_KEY_IN_USE"


class TransactionNotCancellable(Conflict):
    code = "TXN007"


class TransactionAlreadyCompleted(Conflict):
    code = "TXN008"


class ChallengeFailed(Conflict):
    code = "CHALLENGE_FAILED"


class ChallengeExpired(Conflict):
    code = "CHALLENGE_EXPIRED"


# 422 -------------------------------------------------------------------------
class ValidationError(BankError):
    code, http_status = "VALIDATION_ERROR", 422


class InsufficientFunds(ValidationError):
    code = "TXN001"


class AccountNotActive(ValidationError):
    code = "TXN003"


class LimitExceeded(ValidationError):
    code = "TXN004"


class InvalidAmount(ValidationError):
    code = "TXN005"


class CurrencyMismatch(ValidationError):
    code = "TXN006"


class InvalidPin(ValidationError):
    code = "INVALID_PIN"


class CardLocked(ValidationError):
    code = "CARD_LOCKED"


class RiskDeclined(ValidationError):
    code = "RISK_DECLINED"


class StepUpRequired(ValidationError):
    code = "STEP_UP_REQUIRED"


class VerificationCodeInvalid(ValidationError):
    code = "VERIFICATION_CODE_INVALID"


class SandboxOnly(ValidationError):
    code = "SANDBOX_ONLY"


# 429 -------------------------------------------------------------------------
class RateLimited(BankError):
    """Over a rate limit; `retry_after` is the server's wait in seconds (None if unsaid)."""

    code, http_status = "RATE_LIMITED", 429

    @property
    def retry_after(self) -> float | None:
        from backoffice_sdk.retry import retry_after_seconds  # noqa: PLC0415 (no cycle at import)

        return retry_after_seconds(self.headers)


# 5xx and the network ---------------------------------------------------------
class ServerError(BankError):
    code, http_status = "INTERNAL", 500


class NotImplementedByServer(ServerError):
    code, http_status = "NOT_IMPLEMENTED", 501


class Unavailable(ServerError):
    code, http_status = "UNAVAILABLE", 503


class Timeout(ServerError):
    code, http_status = "TIMEOUT", 504


class BankConnectionError(BankError):
    """No answer: the connection failed or timed out (after the retries allowed)."""

    code, http_status = "CONNECTION_ERROR", 0


_LEAVES: tuple[type[BankError], ...] = (
    InvalidRequest, MethodNotAllowed, PayloadTooLarge, UriTooLong, UnsupportedMediaType,
    RequestHeadersTooLarge, Unauthorized, Forbidden, NotFound, AccountNotFound, Conflict,
    IdempotencyKeyReused, IdempotencyKeyInUse, TransactionNotCancellable,
    TransactionAlreadyCompleted, ChallengeFailed, ChallengeExpired, ValidationError,
    InsufficientFunds, AccountNotActive, LimitExceeded, InvalidAmount, CurrencyMismatch,
    InvalidPin, CardLocked, RiskDeclined, StepUpRequired, VerificationCodeInvalid, SandboxOnly,
    RateLimited, ServerError, NotImplementedByServer, Unavailable, Timeout,
)  # fmt: skip
BY_CODE: dict[str, type[BankError]] = {cls.code: cls for cls in _LEAVES}
_BY_STATUS: dict[int, type[BankError]] = {
    400: InvalidRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    409: Conflict, 413: PayloadTooLarge, 414: UriTooLong, 415: UnsupportedMediaType,
    422: ValidationError, 429: RateLimited, 431: RequestHeadersTooLarge,
    501: NotImplementedByServer, 503: Unavailable, 504: Timeout,
}  # fmt: skip


def error_class(code: str | None, http_status: int) -> type[BankError]:
    if code and code in BY_CODE:
        return BY_CODE[code]
    if http_status in _BY_STATUS:
        return _BY_STATUS[http_status]
    return ServerError if http_status >= 500 else BankError


def from_answer(
    http_status: int, body: Any, headers: Mapping[str, str], request_id: str | None
) -> BankError:
    """The exception for an error answer: the contract's envelope, an RFC 6749
    body (`/oauth/*`), or anything else (a proxy's page)."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        error = body["error"]
        meta = body.get("meta") if isinstance(body.get("meta"), Mapping) else {}
        code = str(error.get("code") or "") or None
        cls = error_class(code, http_status)
        return cls(
            str(error.get("message") or body.get("message") or f"HTTP {http_status}"),
            code=code,
            http_status=http_status,
            field=error.get("field") or None,
            details=error.get("details") or None,
            request_id=str((meta or {}).get("requestId") or request_id or "") or None,
            body=body,
            headers=headers,
        )
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        return OAuthError(
            str(body.get("error_description") or body["error"]),
            code=body["error"],
            http_status=http_status,
            request_id=request_id,
            body=body,
            headers=headers,
        )
    cls = error_class(None, http_status)
    return cls(f"HTTP {http_status}", http_status=http_status, request_id=request_id, body=body,
               headers=headers)  # fmt: skip
