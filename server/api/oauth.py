"""OAuthService: authorization (sign-in and consent page), token, refresh and
revocation endpoints, JWKS and metadata.

RFC 6749 / 7009 / 8414 answers are written as raw JSON (google.api.HttpBody),
the authorization endpoint's as raw HTML or redirects (server/api/pages.py),
with the HTTP status passed to the edge as response metadata; see the
service comment in auth_service.proto.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs, unquote

import grpc
from google.api import httpbody_pb2

from backoffice.v1 import auth_service_pb2 as pb
from backoffice.v1 import auth_service_pb2_grpc as pb_grpc
from server.api import call, pages, public_limits
from server.config import Settings
from server.domain import authorization as authorization_rules
from server.domain import errors
from server.domain import public_limits as limit_rules
from server.keys import key_file
from server.store import authorization, client_auth, oauth

FORM_TYPE = "application/x-www-form-urlencoded"
# `none`: PUBLIC clients, which send their client_id alone.
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
FORM_BYTES_MAX = 8 * 1024
GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")
AUTHORIZATION_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def json_answer(body: dict[str, Any], status: int = 200) -> httpbody_pb2.HttpBody:
    """An RFC JSON answer; never cached (RFC 6749 section 5.1)."""
    info = call.current()
    info.raw, info.http_status, info.message = True, status, "OK"
    info.headers.update({"cache-control": "no-store", "pragma": "no-cache"})
    return httpbody_pb2.HttpBody(
        content_type="application/json", data=json.dumps(body, separators=(",", ":")).encode()
    )


def error_answer(error: oauth.OAuthError) -> httpbody_pb2.HttpBody:
    if error.error == "invalid_client":
        call.current().headers["www-authenticate"] = 'Basic realm="backoffice"'
    return json_answer(
        {"error": error.error, "error_description": error.message}, error.http_status
    )


def refusal_answer(refusal: errors.BankError) -> httpbody_pb2.HttpBody:
    """429 (a limit of server.domain.public_limits) or 503 (hashing pool full,
    counter store down) as an RFC error body, with Retry-After when known."""
    call.current().headers.update(limit_rules.retry_headers(refusal))
    return json_answer(
        {"error": limit_rules.OAUTH_ERROR, "error_description": refusal.message},
        refusal.http_status,
    )


def forwarded_scheme(context: grpc.ServicerContext) -> str:
    """`https` when Envoy (a trusted proxy) says the client came over TLS, else `http`.

    Envoy's Lua filter (envelope.lua) replaces x-forwarded-proto with the
    scheme of the client's connection, whatever the client sent; from a peer
    that is not a trusted proxy the header is ignored.
    """
    if not call.current().via_trusted_proxy:
        return "http"
    for key, value in context.invocation_metadata() or ():
        if key == "x-forwarded-proto" and value == "https":
            return "https"
    return "http"


def parse_form(body: httpbody_pb2.HttpBody) -> dict[str, str]:
    """The form's fields; each at most once (RFC 6749 section 3.2)."""
    content_type = body.content_type.split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise oauth.OAuthError("invalid_request", f"Send the form as {FORM_TYPE}")
    if len(body.data) > FORM_BYTES_MAX:
        raise oauth.OAuthError("invalid_request", "The form is too large")
    try:
        fields = parse_qs(body.data.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise oauth.OAuthError("invalid_request", "The form is not UTF-8") from None
    repeated = [name for name, values in fields.items() if len(values) > 1]
    if repeated:
        raise oauth.OAuthError("invalid_request", f"Parameter given twice: {repeated[0]}")
    return {name: values[0] for name, values in fields.items()}


def client_credentials(form: dict[str, str], context: grpc.ServicerContext) -> tuple[str, str]:
    """(client_id, secret) from HTTP Basic or the form, not both (RFC 6749 2.3.1)."""
    header = ""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            header = value
    in_form = "client_id" in form or "client_secret" in form
    if header.lower().startswith("basic "):
        if "client_secret" in form:
            raise oauth.OAuthError("invalid_request", "Use one client authentication method")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise oauth.OAuthError("invalid_client", "Malformed Basic credentials", 401) from None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    if in_form:
        return form.get("client_id", ""), form.get("client_secret", "")
    raise oauth.OAuthError("invalid_client", "Client authentication is required", 401)


class OAuthServicer(pb_grpc.OAuthServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Keys the sign-in page's anti-forgery tokens; shared by every
        # server process through the data directory, like the other keys.
        self._csrf_key = key_file(settings.data_dir / "keys" / "oauth-csrf.key")

    @property
    def _authority(self) -> oauth.TokenAuthority:
        return oauth.authority(self._settings)

    def Token(self, request: pb.TokenRequest, context: grpc.ServicerContext) -> Any:
        try:
            public_limits.spend_address(self._settings)
            form = parse_form(request.http_body)
            return json_answer(self._token(form, context))
        except oauth.OAuthError as error:
            return error_answer(error)
        except (errors.RateLimited, errors.Unavailable) as refusal:
            return refusal_answer(refusal)

    def Refresh(self, request: pb.RefreshRequest, context: grpc.ServicerContext) -> Any:
        try:
            public_limits.spend_address(self._settings)
            form = parse_form(request.http_body)
            form.setdefault("grant_type", "refresh_token")
            if form["grant_type"] != "refresh_token":
                raise oauth.OAuthError("unsupported_grant_type", "This endpoint refreshes tokens")
            return json_answer(self._token(form, context))
        except oauth.OAuthError as error:
            return error_answer(error)
        except (errors.RateLimited, errors.Unavailable) as refusal:
            return refusal_answer(refusal)

    def _authenticate(self, form: dict[str, str], context: grpc.ServicerContext) -> Any:
        """The client; an Argon2 check first spends the client id's budget."""
        client_id, secret = client_credentials(form, context)
        return client_auth.authenticate(
            self._settings,
            client_id,
            secret,
            lambda: public_limits.spend_client_check(self._settings, client_id),
        )

    def _token(self, form: dict[str, str], context: grpc.ServicerContext) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type not in GRANT_TYPES:
            raise oauth.OAuthError("unsupported_grant_type", "Unsupported grant_type")
        client = self._authenticate(form, context)
        authorization.check_grant_allowed(client, grant_type)
        if grant_type == "client_credentials":
            scope = self._authority.granted_scopes(client, form.get("scope", ""))
            return self._authority.issue_for_client(client, scope).body()
        if grant_type == "refresh_token":
            token = form.get("refresh_token", "")
            if not token:
                raise oauth.OAuthError("invalid_request", "refresh_token is required")
            return self._authority.refresh(client, token, form.get("scope", "").strip()).body()
        return authorization.redeem_code(
            self._authority,
            client,
            form.get("code", ""),
            form.get("redirect_uri", ""),
            form.get("code_verifier", ""),
        ).body()

    def Authorize(self, request: pb.AuthorizeRequest, context: grpc.ServicerContext) -> Any:
        params = authorization_rules.Params(
            response_type=request.response_type,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            state=request.state,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
        )
        return self._page(authorization.start(params, self._settings.sandbox))

    def SubmitAuthorization(
        self, request: pb.SubmitAuthorizationRequest, context: grpc.ServicerContext
    ) -> Any:
        try:
            public_limits.spend_address(self._settings)
        except errors.RateLimited as refusal:
            return pages.error_page(refusal.message, 429, limit_rules.retry_headers(refusal))
        try:
            form = parse_form(request.http_body)
        except oauth.OAuthError:
            return pages.error_page("The form could not be read.")
        params = authorization_rules.Params(
            **{name: form.get(name, "") for name in AUTHORIZATION_PARAMS}
        )
        return self._page(
            authorization.submit(
                params, form, self._csrf_key, self._settings, public_limits.address()
            )
        )

    def _page(self, outcome: authorization_rules.Outcome) -> Any:
        if isinstance(outcome, authorization_rules.Redirect):
            return pages.redirect(outcome.location)
        if isinstance(outcome, authorization_rules.ShowError):
            return pages.error_page(outcome.message)
        token = authorization_rules.csrf_token(
            self._csrf_key, outcome.params, int(oauth.wall_now().timestamp())
        )
        return pages.consent_page(outcome, token)

    def Revoke(self, request: pb.RevokeRequest, context: grpc.ServicerContext) -> Any:
        try:
            public_limits.spend_address(self._settings)
            form = parse_form(request.http_body)
            client = self._authenticate(form, context)
            token = form.get("token", "")
            if not token:
                raise oauth.OAuthError("invalid_request", "token is required")
            self._authority.revoke(client, token)
            # RFC 7009 section 2.2: 200 also for unknown or invalid tokens.
            return json_answer({})
        except oauth.OAuthError as error:
            return error_answer(error)
        except (errors.RateLimited, errors.Unavailable) as refusal:
            return refusal_answer(refusal)

    def GetJwks(self, request: pb.GetJwksRequest, context: grpc.ServicerContext) -> Any:
        answer = json_answer(self._authority.jwks())
        call.current().headers["cache-control"] = "public, max-age=300"
        return answer

    def GetAuthorizationServerMetadata(
        self, request: pb.GetAuthorizationServerMetadataRequest, context: grpc.ServicerContext
    ) -> Any:
        # The issuer stays the configured identifier (BANK_PUBLIC_URL, the
        # tokens' `iss`); the endpoints are where this client can reach them.
        base = self._settings.endpoints_url(forwarded_scheme(context))
        answer = json_answer(
            {
                "issuer": self._authority.issuer,
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "scopes_supported": list(oauth.SCOPES),
                "response_types_supported": ["code"],
                "grant_types_supported": list(GRANT_TYPES),
                "token_endpoint_auth_methods_supported": AUTH_METHODS,
                "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
                "code_challenge_methods_supported": ["S256"],
            }
        )
        call.current().headers["cache-control"] = "public, max-age=300"
        return answer


SERVICES = {"OAuthService": OAuthServicer}
