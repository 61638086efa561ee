"""Python SDK of the banking back office.

    from decimal import Decimal
    from backoffice_sdk import Client

    with Client.from_client_credentials("sandbox-client", "sandbox-secret") as bank:
        account = bank.accounts.get("acc_rs5qjncu5ahllgcq72wr")
        bank.transactions.transfer(account.id, "acc_drx4rrcd73hb334wiwr4", Decimal("10.00"))

`Client` (REST through Envoy; `BACKOFFICE_URL`, default http://127.0.0.1:8080),
the exceptions of every contract code (`errors`), `webhooks.verify` for
deliveries, `grpc_stubs` for internal gRPC callers (extra `grpc`).
"""

from backoffice_sdk import webhooks
from backoffice_sdk.auth import ApiKey, Auth, BearerToken, ClientCredentials, RefreshToken
from backoffice_sdk.client import DEFAULT_BASE_URL, ApiResponse, Client
from backoffice_sdk.errors import (
    AccountNotActive,
    AccountNotFound,
    BankConnectionError,
    BankError,
    CardLocked,
    ChallengeExpired,
    ChallengeFailed,
    Conflict,
    CurrencyMismatch,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAmount,
    InvalidPin,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    OAuthError,
    RateLimited,
    RiskDeclined,
    SandboxOnly,
    ServerError,
    StepUpRequired,
    TransactionAlreadyCompleted,
    TransactionNotCancellable,
    Unauthorized,
    Unavailable,
    ValidationError,
    VerificationCodeInvalid,
)
from backoffice_sdk.models import (
    Account,
    Balance,
    Challenge,
    Report,
    Transaction,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from backoffice_sdk.pagination import Page, PageIterator
from backoffice_sdk.retry import RetryPolicy
from backoffice_sdk.webhooks import WebhookVerificationError

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_BASE_URL", "Account", "AccountNotActive", "AccountNotFound", "ApiKey",
    "ApiResponse", "Auth", "Balance", "BankConnectionError", "BankError", "BearerToken",
    "CardLocked", "Challenge", "ChallengeExpired", "ChallengeFailed", "Client",
    "ClientCredentials", "Conflict", "CurrencyMismatch", "Forbidden", "IdempotencyKeyInUse",
    "IdempotencyKeyReused", "InsufficientFunds", "InvalidAmount", "InvalidPin", "InvalidRequest",
    "LimitExceeded", "NotFound", "OAuthError", "Page", "PageIterator", "RateLimited",
    "RefreshToken", "Report", "RetryPolicy", "RiskDeclined", "SandboxOnly", "ServerError",
    "StepUpRequired", "Transaction", "TransactionAlreadyCompleted", "TransactionNotCancellable",
    "Unauthorized", "Unavailable", "User", "ValidationError", "VerificationCodeInvalid",
    "WebhookDelivery", "WebhookEvent", "WebhookSubscription", "WebhookVerificationError",
    "webhooks",
]  # fmt: skip
