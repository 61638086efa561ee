"""The authorization-code flow's state: sign-in, codes, used anti-forgery tokens.

- Codes are 256 random bits, stored as SHA-256, single use, valid
  CODE_TTL, bound to the client, redirect URI, user, scopes and PKCE
  challenge. Redeeming claims the code in one conditional UPDATE, so of two
  concurrent redemptions exactly one wins; a second use revokes the tokens
  the first one issued (RFC 6749 section 4.1.2).
- A failed redemption (wrong redirect URI or PKCE verifier) spends the code
  as well: a code gets one try.
- Sign-in checks the password with Argon2 on the hashing pool
  (`server.hashing`); unknown emails cost the same time as known ones.
  Failed sign-ins never lock the account or end its sessions (a stranger's
  failures would lock the owner out): they make the failing address wait
  (`server.domain.public_limits`, `server.store.sign_in_throttle`), checked
  before the password is hashed, and alert staff when an account comes
  under attack.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import peewee

from server import hashing
from server.config import Settings
from server.domain import authorization as rules
from server.domain import clients as client_rules
from server.domain.ids import new_id
from server.domain.passwords import hash_secret
from server.domain.principal import STAFF_ROLES
from server.store import clock, sign_in_throttle, tx
from server.store.models import (
    AuthorizationCode,
    OAuthClient,
    UsedCsrfToken,
    User,
)
from server.store.oauth import (
    Grant,
    OAuthError,
    TokenAuthority,
    revoke_family,
    wall_now,
)

# The contract (TokenRequestForm.code): valid 5 minutes.
CODE_TTL = timedelta(minutes=5)
ACTIVE = "ACTIVE"
# Verified against when the email is unknown, so that both cost one Argon2 run.
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def client_facts(client_id: str, sandbox_mode: bool) -> rules.ClientFacts | None:
    client = OAuthClient.get_or_none(OAuthClient.id == client_id) if client_id else None
    if client is None:
        return None
    return rules.ClientFacts(
        client_id=client.id,
        name=client.name,
        client_type=client.client_type,
        scopes=tuple(client.scopes.split()),
        grant_types=tuple(json.loads(client.grant_types or "[]")),
        redirect_uris=tuple(json.loads(client.redirect_uris or "[]")),
        usable=bool(client.active) and (sandbox_mode or not client.sandbox),
    )


def spend_csrf(claim: rules.CsrfClaim) -> bool:
    """True the first time a token's nonce is posted."""
    now = wall_now()
    expires = datetime.fromtimestamp(claim.expires, UTC).replace(tzinfo=None)

    def work() -> bool:
        # Expired nonces can never be posted again (the token says when).
        UsedCsrfToken.delete().where(UsedCsrfToken.expires_at < now).execute()
        if UsedCsrfToken.get_or_none(UsedCsrfToken.nonce == claim.nonce) is not None:
            return False
        UsedCsrfToken.create(nonce=claim.nonce, expires_at=expires)
        return True

    try:
        return tx.write(work)
    except peewee.IntegrityError:  # the same token posted twice at once
        return False


# -- Sign-in ---------------------------------------------------------------------------
class SignInRefused(Exception):
    """The page is shown again with `message` (and `status`, `retry_after`)."""

    def __init__(self, message: str, status: int = 200, retry_after: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


WRONG_CREDENTIALS = "The email or password is incorrect."
CANNOT_SIGN_IN = "This account cannot sign in. Contact your bank."
BUSY = "Too many sign-ins are being checked right now. Try again in a moment."


def _throttled(seconds: int) -> SignInRefused:
    return SignInRefused(
        f"Too many failed sign-ins from your network. Try again in {seconds} seconds.",
        status=429,
        retry_after=seconds,
    )


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    is_staff: bool


def sign_in(email: str, password: str, settings: Settings, address: str | None) -> SignedIn:
    """The user, when the password is right and the user ACTIVE; else SignInRefused.

    An address over its failure budget is refused before anything is hashed
    (429); a full hashing pool refuses too (503), counting no failure.
    """
    normalized = email.strip().lower()
    if not normalized or len(normalized) > rules.EMAIL_LENGTH_MAX:
        raise SignInRefused(WRONG_CREDENTIALS)
    if len(password) > rules.PASSWORD_LENGTH_MAX:
        raise SignInRefused(WRONG_CREDENTIALS)
    attempt = sign_in_throttle.throttle(settings, address, normalized)
    now = time.time()
    wait = sign_in_throttle.wait_seconds(settings, attempt, now)
    if wait:
        raise _throttled(wait)
    user = User.get_or_none(User.email == normalized)
    try:
        right = hashing.verify(settings, user.password_hash if user else _DUMMY_HASH, password)
    except hashing.HashingBusy:
        raise SignInRefused(BUSY, 503, hashing.RETRY_AFTER_SECONDS) from None
    if user is None or not right:
        sign_in_throttle.record_failure(settings, attempt, user.id if user else None, now)
        raise SignInRefused(WRONG_CREDENTIALS)
    # Only someone who knows the password learns that the account is blocked.
    if user.status != ACTIVE:
        raise SignInRefused(CANNOT_SIGN_IN)
    tx.write(lambda: User.update(last_login_at=clock.now()).where(User.id == user.id).execute())
    return SignedIn(user.id, user.role in STAFF_ROLES)


# -- The page's two steps --------------------------------------------------------------
def start(params: rules.Params, sandbox_mode: bool) -> rules.Outcome:
    """GET /oauth/authorize: the consent page, or the refusal."""
    try:
        accepted = rules.check_request(params, client_facts(params.client_id, sandbox_mode))
    except rules.PageError as refusal:
        return rules.ShowError(refusal.message)
    except rules.RedirectError as refusal:
        return rules.Redirect(refusal.location())
    return rules.ShowConsent(accepted, params)


def submit(
    params: rules.Params,
    fields: Mapping[str, str],
    csrf_key: bytes,
    settings: Settings,
    address: str | None,
) -> rules.Outcome:
    """POST /oauth/authorize: the code (approval), access_denied, or the page again."""
    try:
        # First the anti-forgery token: it is only ever issued for a request
        # that was accepted, so a forged post never gets as far as a redirect.
        claim = rules.check_csrf(
            csrf_key, fields.get("csrf_token", ""), params, int(wall_now().timestamp())
        )
        if claim is None or not spend_csrf(claim):
            raise rules.PageError(rules.FORGED_FORM)
        accepted = rules.check_request(params, client_facts(params.client_id, settings.sandbox))
        decision = fields.get("decision", "")
        if decision == "deny":
            raise rules.RedirectError(
                "access_denied", "The user denied access", accepted.redirect_uri, accepted.state
            )
        if decision != "approve":
            raise rules.PageError("The form must say approve or deny.")
        email = fields.get("email", "")
        try:
            user = sign_in(email, fields.get("password", ""), settings, address)
        except SignInRefused as refusal:
            return rules.ShowConsent(
                accepted, params, refusal.message, email[:254], refusal.status, refusal.retry_after
            )
        scopes = rules.granted_scopes(accepted.scopes, user.is_staff)
        if not scopes:
            raise rules.RedirectError(
                "invalid_scope",
                "backoffice.admin is granted to bank staff only",
                accepted.redirect_uri,
                accepted.state,
            )
        code = issue_code(accepted, user.user_id, scopes)
    except rules.PageError as refusal:
        return rules.ShowError(refusal.message)
    except rules.RedirectError as refusal:
        return rules.Redirect(refusal.location())
    return rules.Redirect(
        rules.redirect_location(accepted.redirect_uri, {"code": code, "state": accepted.state})
    )


# -- Codes -----------------------------------------------------------------------------
def issue_code(accepted: rules.Accepted, user_id: str, scopes: tuple[str, ...]) -> str:
    code = secrets.token_urlsafe(32)
    now = wall_now()
    tx.write(
        lambda: AuthorizationCode.create(
            code_hash=_sha256(code),
            client_id=accepted.client.client_id,
            user_id=user_id,
            redirect_uri=accepted.redirect_uri,
            scopes=" ".join(scopes),
            code_challenge=accepted.code_challenge,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    return code


INVALID_CODE = "The authorization code is invalid, expired or already used"


def redeem_code(
    authority: TokenAuthority, client: OAuthClient, code: str, redirect_uri: str, verifier: str
) -> Grant:
    """Tokens for the code's user, once (RFC 6749 section 4.1.3, RFC 7636 section 4.6)."""
    if not code:
        raise OAuthError("invalid_request", "code is required")
    if not redirect_uri:
        raise OAuthError("invalid_request", "redirect_uri is required")
    now = wall_now()

    # Refusals are returned, not raised, so that spending the code (and a
    # revocation on reuse) commits before the error is answered.
    def work() -> Grant | str:  # noqa: PLR0911
        row = AuthorizationCode.get_or_none(AuthorizationCode.code_hash == _sha256(code))
        if row is None or row.client_id != client.id:
            return INVALID_CODE
        claimed = (
            AuthorizationCode.update(used_at=now)
            .where(
                (AuthorizationCode.code_hash == row.code_hash) & AuthorizationCode.used_at.is_null()
            )
            .execute()
        )
        if not claimed:
            if row.family_id:
                revoke_family(row.family_id, now)
            return INVALID_CODE
        if row.expires_at <= now:
            return INVALID_CODE
        if redirect_uri != row.redirect_uri:
            return "redirect_uri does not match the authorization request"
        if row.code_challenge:
            if not verifier or not rules.pkce_matches(row.code_challenge, verifier):
                return "The PKCE code_verifier does not match the code_challenge"
        elif verifier:
            return "code_verifier given, but the authorization request had no code_challenge"
        user = User.get_or_none(User.id == row.user_id)
        if user is None or user.status != ACTIVE:
            return INVALID_CODE
        scopes = rules.granted_scopes(tuple(row.scopes.split()), user.role in STAFF_ROLES)
        if not scopes:  # the user stopped being staff since approving
            return INVALID_CODE
        family = new_id("key")
        AuthorizationCode.update(family_id=family).where(
            AuthorizationCode.code_hash == row.code_hash
        ).execute()
        return authority.issue(client, " ".join(scopes), user, family)

    outcome = tx.write(work)
    if isinstance(outcome, str):
        raise OAuthError("invalid_grant", outcome)
    return outcome


def client_allows(client: OAuthClient, grant_type: str) -> bool:
    return grant_type in json.loads(client.grant_types or "[]")


def check_grant_allowed(client: OAuthClient, grant_type: str) -> None:
    """unauthorized_client when the client may not use `grant_type`."""
    if not client_allows(client, grant_type):
        raise OAuthError("unauthorized_client", f"{grant_type} is not allowed for this client")
    if client.client_type == client_rules.PUBLIC and grant_type == client_rules.CLIENT_CREDENTIALS:
        raise OAuthError("unauthorized_client", "A public client cannot use client_credentials")


__all__ = [
    "CODE_TTL",
    "SignInRefused",
    "SignedIn",
    "check_grant_allowed",
    "client_facts",
    "issue_code",
    "redeem_code",
    "sign_in",
    "spend_csrf",
    "start",
    "submit",
]
