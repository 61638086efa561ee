"""peewee models over the tables the migrations create.

The migrations own the schema; these models only map it (no create_table).
Money columns are integer minor units (`*_minor`).
"""

from __future__ import annotations

import peewee

from server.store.db import database


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    id = peewee.TextField(primary_key=True)
    email = peewee.TextField(unique=True)
    name = peewee.TextField()
    password_hash = peewee.TextField()
    role = peewee.TextField()
    status = peewee.TextField()
    phone = peewee.TextField(null=True)
    date_of_birth = peewee.TextField(null=True)
    tax_id = peewee.TextField(null=True)
    address = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()
    last_login_at = peewee.DateTimeField(null=True)
    deactivated_at = peewee.DateTimeField(null=True)
    # phone, date_of_birth and tax_id hold sealed values (server.store.sealed);
    # the tax id's last four digits stay readable here for masked responses.
    tax_id_last4 = peewee.TextField(null=True)

    class Meta:
        table_name = "users"


class OAuthClient(BaseModel):
    id = peewee.TextField(primary_key=True)
    name = peewee.TextField()
    secret_hash = peewee.TextField()
    scopes = peewee.TextField()
    grant_types = peewee.TextField()
    redirect_uris = peewee.TextField()
    rate_limits = peewee.TextField()
    ip_allowlist = peewee.TextField()
    require_signing = peewee.BooleanField()
    sandbox = peewee.BooleanField()
    active = peewee.BooleanField()
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()
    # m0009: shown by ClientService.
    description = peewee.TextField(default="")
    client_type = peewee.TextField(default="CONFIDENTIAL")
    last_used_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "oauth_clients"


class Account(BaseModel):
    id = peewee.TextField(primary_key=True)
    account_number = peewee.TextField(unique=True)
    kind = peewee.TextField()
    code = peewee.TextField(null=True, unique=True)
    type = peewee.TextField()
    currency = peewee.TextField()
    owner = peewee.ForeignKeyField(User, column_name="owner_id", null=True, lazy_load=False)
    owner_id: str | None  # the raw key, provided by the ForeignKeyField above
    name = peewee.TextField()
    status = peewee.TextField()
    balance_minor = peewee.BigIntegerField()
    held_minor = peewee.BigIntegerField()
    overdraft_limit_minor = peewee.BigIntegerField()
    freeze_reason = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()
    closed_at = peewee.DateTimeField(null=True)
    country = peewee.TextField()
    # JSON object: limit name -> minor units, set by staff over the defaults.
    limit_overrides = peewee.TextField()
    frozen_at = peewee.DateTimeField(null=True)
    close_reason = peewee.TextField(null=True)
    # Money promised away but not yet posted (pending external transfers).
    pending_debits_minor = peewee.BigIntegerField()

    class Meta:
        table_name = "accounts"


class LedgerTransaction(BaseModel):
    id = peewee.TextField(primary_key=True)
    number = peewee.TextField(unique=True)
    type = peewee.TextField()
    status = peewee.TextField()
    currency = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    fee_minor = peewee.BigIntegerField()
    description = peewee.TextField()
    reference = peewee.TextField()
    details = peewee.TextField()
    created_at = peewee.DateTimeField()
    completed_at = peewee.DateTimeField(null=True)
    from_account_id = peewee.TextField(null=True)
    to_account_id = peewee.TextField(null=True)
    client_id = peewee.TextField(null=True)
    original_transaction_id = peewee.TextField(null=True)
    failure_reason = peewee.TextField(null=True)
    cancelled_at = peewee.DateTimeField(null=True)
    scheduled_for = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "ledger_transactions"


class Posting(BaseModel):
    id = peewee.AutoField()
    transaction = peewee.ForeignKeyField(
        LedgerTransaction, column_name="transaction_id", lazy_load=False
    )
    account = peewee.ForeignKeyField(Account, column_name="account_id", lazy_load=False)
    currency = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    balance_after_minor = peewee.BigIntegerField()
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "postings"


class Payee(BaseModel):
    id = peewee.TextField(primary_key=True)
    # NULL: a bank-wide biller that every customer may pay (payee.proto).
    owner = peewee.ForeignKeyField(User, column_name="owner_id", null=True, lazy_load=False)
    owner_id: str | None  # the raw key, provided by the ForeignKeyField above
    name = peewee.TextField()
    type = peewee.TextField()
    # Sealed (server.store.sealed.PAYEE_ACCOUNT_NUMBER); its last four
    # characters stay readable in account_number_last4 for masked responses.
    account_number = peewee.TextField()
    category = peewee.TextField()  # lower case; "" when none
    address = peewee.TextField(null=True)  # JSON of a postal address
    created_at = peewee.DateTimeField()
    deleted_at = peewee.DateTimeField(null=True)
    # m0014.
    nickname = peewee.TextField(null=True)
    account_number_last4 = peewee.TextField(default="")

    class Meta:
        table_name = "payees"


class OutboxEvent(BaseModel):
    id = peewee.AutoField()
    event_id = peewee.TextField(unique=True)
    type = peewee.TextField()
    aggregate_id = peewee.TextField()
    payload = peewee.TextField()
    created_at = peewee.DateTimeField()
    published_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "outbox_events"


class Setting(BaseModel):
    key = peewee.TextField(primary_key=True)
    value = peewee.TextField()

    class Meta:
        table_name = "settings"


class AccountEntry(BaseModel):
    """One customer account's view of one transaction (history, limit usage)."""

    id = peewee.AutoField()
    account_id = peewee.TextField()
    transaction_id = peewee.TextField()
    direction = peewee.TextField()
    type = peewee.TextField()
    status = peewee.TextField()
    limit_class = peewee.TextField()
    currency = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    fee_minor = peewee.BigIntegerField()
    balance_after_minor = peewee.BigIntegerField(null=True)
    counterparty = peewee.TextField()
    search_text = peewee.TextField()
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "account_entries"


class Hold(BaseModel):
    id = peewee.TextField(primary_key=True)
    account_id = peewee.TextField()
    transaction_id = peewee.TextField(null=True)
    amount_minor = peewee.BigIntegerField()
    currency = peewee.TextField()
    reason = peewee.TextField()
    status = peewee.TextField()
    description = peewee.TextField()
    release_at = peewee.DateTimeField()
    created_at = peewee.DateTimeField()
    resolved_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "holds"


class IdempotencyKey(BaseModel):
    client_id = peewee.TextField()
    user_id = peewee.TextField()  # "" for a client acting for itself (m0013)
    key = peewee.TextField()
    method = peewee.TextField()
    request_hash = peewee.TextField()
    response = peewee.BlobField(null=True)
    http_status = peewee.IntegerField()
    message = peewee.TextField()
    error = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "idempotency_keys"
        primary_key = peewee.CompositeKey("client_id", "key", "user_id")


class Card(BaseModel):
    id = peewee.TextField(primary_key=True)
    account_id = peewee.TextField()
    number_hash = peewee.TextField(unique=True)
    last4 = peewee.TextField()
    pin_hash = peewee.TextField()
    failed_pin_attempts = peewee.IntegerField()
    status = peewee.TextField()
    locked_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "cards"


class Atm(BaseModel):
    id = peewee.TextField(primary_key=True)
    network = peewee.TextField()
    country = peewee.TextField()
    city = peewee.TextField()

    class Meta:
        table_name = "atms"


class PasswordResetToken(BaseModel):
    """A password reset token, kept as its SHA-256 only; usable once, until expires_at."""

    id = peewee.AutoField()
    token_hash = peewee.TextField(unique=True)
    user_id = peewee.TextField()
    created_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "password_reset_tokens"


class UserDeactivation(BaseModel):
    """Who deactivated a user, when and why (DeleteUser's reason)."""

    id = peewee.AutoField()
    user_id = peewee.TextField()
    reason = peewee.TextField()
    actor_client_id = peewee.TextField()
    actor_user_id = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "user_deactivations"


class SigningKey(BaseModel):
    kid = peewee.TextField(primary_key=True)
    algorithm = peewee.TextField()
    private_key = peewee.TextField()
    public_jwk = peewee.TextField()
    status = peewee.TextField()
    created_at = peewee.DateTimeField()
    retired_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "signing_keys"


class RefreshToken(BaseModel):
    id = peewee.TextField(primary_key=True)
    token_hash = peewee.TextField(unique=True)
    family_id = peewee.TextField()
    client_id = peewee.TextField()
    user_id = peewee.TextField(null=True)
    scopes = peewee.TextField()
    status = peewee.TextField()
    created_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "refresh_tokens"


class Revocation(BaseModel):
    key = peewee.TextField(primary_key=True)
    revoked_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "revocations"


class AuthorizationCode(BaseModel):
    code_hash = peewee.TextField(primary_key=True)
    client_id = peewee.TextField()
    user_id = peewee.TextField()
    redirect_uri = peewee.TextField()
    scopes = peewee.TextField()
    code_challenge = peewee.TextField()
    created_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)
    # m0009: the refresh family issued from the code (None until redeemed).
    family_id = peewee.TextField(null=True)

    class Meta:
        table_name = "authorization_codes"


class ApiKeyRecord(BaseModel):
    id = peewee.TextField(primary_key=True)
    client_id = peewee.TextField()
    slot = peewee.TextField()
    prefix = peewee.TextField()
    key_hash = peewee.TextField(unique=True)
    last4 = peewee.TextField()
    description = peewee.TextField()
    status = peewee.TextField()
    created_at = peewee.DateTimeField()
    revoked_at = peewee.DateTimeField(null=True)
    last_used_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "api_keys"


class AuditEventRow(BaseModel):
    """One API call in the append-only, hash-chained audit log (m0007)."""

    sequence = peewee.BigIntegerField(primary_key=True)
    id = peewee.TextField(unique=True)
    actor_id = peewee.TextField()
    client_id = peewee.TextField()
    method = peewee.TextField()
    resource_ids = peewee.TextField()  # JSON array, in the order logged
    outcome_code = peewee.TextField()
    request_id = peewee.TextField()
    ip_address = peewee.TextField()
    created_at = peewee.DateTimeField()
    previous_hash = peewee.TextField()
    hash = peewee.TextField()

    class Meta:
        table_name = "audit_events"


class AuditEventResource(BaseModel):
    """(resource id, sequence): finds the events that touched a resource."""

    resource_id = peewee.TextField()
    sequence = peewee.BigIntegerField()

    class Meta:
        table_name = "audit_event_resources"
        primary_key = peewee.CompositeKey("resource_id", "sequence")


class AuditAnchor(BaseModel):
    """The single row naming the last pruned audit event."""

    id = peewee.IntegerField(primary_key=True)
    pruned_sequence = peewee.BigIntegerField()
    pruned_hash = peewee.TextField()
    pruned_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "audit_anchor"


class SignInFailure(BaseModel):
    """A wrong password typed on the sign-in page (m0009)."""

    id = peewee.BigAutoField(primary_key=True)
    user_id = peewee.TextField()
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "sign_in_failures"


class UsedCsrfToken(BaseModel):
    """A sign-in page's anti-forgery token already posted (m0009)."""

    nonce = peewee.TextField(primary_key=True)
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "used_csrf_tokens"


class RateLimitCounter(BaseModel):
    """Units granted to one client in one limit class and fixed window (m0010)."""

    key = peewee.TextField(primary_key=True)  # <client>:<class>:<window start>
    count = peewee.BigIntegerField()
    granted = peewee.BigIntegerField()  # what the last increment granted
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "rate_limit_counters"


class UsedNonce(BaseModel):
    """A request-signature nonce already accepted, kept until it could be replayed no more."""

    client_id = peewee.TextField()
    nonce = peewee.TextField()
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "used_nonces"
        primary_key = peewee.CompositeKey("client_id", "nonce")


class ClientSigningSecret(BaseModel):
    """A client's request-signing (HMAC) key, sealed; `id` is the client id."""

    id = peewee.TextField(primary_key=True)
    secret = peewee.TextField()
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "client_signing_secrets"
