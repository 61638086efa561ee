"""The HTML answers of the authorization endpoint: consent page, error page, redirects.

Every page is written verbatim (google.api.HttpBody, raw) with headers that
keep it out of frames, caches and other origins' forms. Every value shown is
HTML-escaped; the templates hold no script.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from google.api import httpbody_pb2

from server.api import call
from server.domain import authorization as rules

HTML_TYPE = "text/html; charset=utf-8"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SCOPE_LABELS = {
    "banking.read": "See your accounts, balances and transactions",
    "banking.write": "Move money and manage your accounts",
    "backoffice.admin": "Administer the back office (bank staff only)",
}


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _security_headers(redirect_uri: str = "") -> dict[str, str]:
    # form-action also governs where the form's redirect may go (Chromium
    # applies it to redirects), so the client's registered origin is named.
    form_action = "'self'" + (f" {_origin(redirect_uri)}" if redirect_uri else "")
    return {
        "content-security-policy": (
            "default-src 'none'; style-src 'unsafe-inline'; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
        "pragma": "no-cache",
    }


def _answer(status: int, text: str, headers: dict[str, str]) -> httpbody_pb2.HttpBody:
    info = call.current()
    info.raw, info.http_status, info.message = True, status, "OK"
    info.headers.update(headers)
    return httpbody_pb2.HttpBody(content_type=HTML_TYPE, data=text.encode("utf-8"))


def error_page(
    message: str, status: int = 400, headers: dict[str, str] | None = None
) -> httpbody_pb2.HttpBody:
    text = _template("authorize_error.html").substitute(message=html.escape(message))
    return _answer(status, text, {**_security_headers(), **(headers or {})})


def consent_page(page: rules.ShowConsent, csrf_token: str) -> httpbody_pb2.HttpBody:
    params, accepted = page.params, page.accepted
    items = "\n".join(
        f'    <li>{html.escape(SCOPE_LABELS[scope])} <span class="scope">'
        f"({html.escape(scope)})</span></li>"
        for scope in accepted.scopes
    )
    error_block = (
        f'  <p class="error" id="error">{html.escape(page.error)}</p>' if page.error else ""
    )
    values = {
        "title": f"Sign in: {accepted.client.name}",
        "client_name": accepted.client.name,
        "response_type": params.response_type,
        "client_id": params.client_id,
        "redirect_uri": params.redirect_uri,
        "scope": params.scope,
        "state": params.state,
        "code_challenge": params.code_challenge,
        "code_challenge_method": params.code_challenge_method,
        "csrf_token": csrf_token,
        "email": page.email,
    }
    text = _template("authorize.html").substitute(
        {name: html.escape(value, quote=True) for name, value in values.items()},
        scope_items=items,
        error_block=error_block,
    )
    headers = _security_headers(accepted.redirect_uri)
    if page.retry_after:
        headers["retry-after"] = str(page.retry_after)
    return _answer(page.status, text, headers)


def redirect(location: str) -> httpbody_pb2.HttpBody:
    """302 to the client (RFC 6749 section 4.1.2)."""
    headers = _security_headers()
    headers["location"] = location
    return _answer(302, "", headers)
