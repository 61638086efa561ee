"""The authorization-code rules and the client field rules, without a database."""

from __future__ import annotations

import pytest

from server.domain import authorization as rules
from server.domain import clients, errors
from server.domain.principal import ADMIN, CUSTOMER, Principal

KEY = b"k" * 32
CLIENT = rules.ClientFacts(
    client_id="app",
    name="App",
    client_type=clients.CONFIDENTIAL,
    scopes=("banking.read", "banking.write"),
    grant_types=("authorization_code",),
    redirect_uris=("https://app.example/cb",),
    usable=True,
)
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B


def _params(**changes: str) -> rules.Params:
    values = {"response_type": "code", "client_id": "app", "state": "s1"}
    values.update(changes)
    return rules.Params(**values)


def test_pkce_s256_matches_rfc_7636_example() -> None:
    assert rules.pkce_challenge(VERIFIER) == CHALLENGE
    assert rules.pkce_matches(CHALLENGE, VERIFIER)
    assert not rules.pkce_matches(CHALLENGE, VERIFIER[:-1] + "A")
    assert not rules.pkce_matches(CHALLENGE, "short")
    assert not rules.pkce_matches(CHALLENGE, VERIFIER + " ")


def test_single_redirect_uri_is_the_default() -> None:
    accepted = rules.check_request(_params(), CLIENT)
    assert accepted.redirect_uri == "https://app.example/cb"
    assert accepted.scopes == ("banking.read",)


@pytest.mark.parametrize(
    "params",
    [
        _params(client_id="app", redirect_uri="https://app.example/cb/"),
        _params(redirect_uri="https://APP.example/cb"),
    ],
)
def test_redirect_uri_is_compared_exactly(params: rules.Params) -> None:
    with pytest.raises(rules.PageError):
        rules.check_request(params, CLIENT)


def test_unusable_client_never_redirects() -> None:
    with pytest.raises(rules.PageError):
        rules.check_request(_params(), None)
    disabled = rules.ClientFacts(**{**CLIENT.__dict__, "usable": False})
    with pytest.raises(rules.PageError):
        rules.check_request(_params(), disabled)


def test_public_client_needs_pkce_and_plain_is_refused() -> None:
    public = rules.ClientFacts(**{**CLIENT.__dict__, "client_type": clients.PUBLIC})
    with pytest.raises(rules.RedirectError) as caught:
        rules.check_request(_params(), public)
    assert caught.value.error == "invalid_request"
    assert "state=s1" in caught.value.location()
    with pytest.raises(rules.RedirectError):
        rules.check_request(
            _params(code_challenge=CHALLENGE, code_challenge_method="plain"), public
        )
    accepted = rules.check_request(_params(code_challenge=CHALLENGE), public)
    assert accepted.code_challenge == CHALLENGE


def test_too_long_state_is_not_echoed() -> None:
    with pytest.raises(rules.RedirectError) as caught:
        rules.check_request(_params(state="x" * 501), CLIENT)
    assert "state=" not in caught.value.location()


def test_csrf_token_is_bound_to_params_and_time() -> None:
    params = _params()
    token = rules.csrf_token(KEY, params, 1_000)
    assert rules.check_csrf(KEY, token, params, 1_000) is not None
    assert rules.check_csrf(KEY, token, _params(state="other"), 1_000) is None
    assert rules.check_csrf(b"x" * 32, token, params, 1_000) is None
    assert rules.check_csrf(KEY, token, params, 1_000 + rules.CSRF_TTL_SECONDS + 1) is None
    assert rules.check_csrf(KEY, token + "x", params, 1_000) is None


def test_admin_scope_only_for_staff() -> None:
    asked = ("banking.read", "backoffice.admin")
    assert rules.granted_scopes(asked, is_staff=False) == ("banking.read",)
    assert rules.granted_scopes(asked, is_staff=True) == asked


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/cb",
        "https://app.example/cb#frag",
        "ftp://app.example/cb",
        "https:///cb",
        "https://user:pw@app.example/cb",
        " https://app.example/cb",
    ],
)
def test_bad_redirect_uris(uri: str) -> None:
    with pytest.raises(errors.ValidationFailed):
        clients.validate_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri", ["https://app.example/cb?x=1", "http://localhost:8765/callback", "http://127.0.0.1/cb"]
)
def test_good_redirect_uris(uri: str) -> None:
    assert clients.validate_redirect_uri(uri) == uri


def test_ip_allowlist_normalises_and_refuses() -> None:
    assert clients.validate_ip_allowlist(["10.0.0.0/8", "::1", "10.0.0.0/8"]) == (
        "10.0.0.0/8",
        "::1/128",
    )
    with pytest.raises(errors.ValidationFailed):
        clients.validate_ip_allowlist(["10.0.0.1/8"])


def test_self_change_rules() -> None:
    spec = clients.validate_draft(
        clients.ClientDraft(
            name="Admin app", scopes=("backoffice.admin",), grant_types=("client_credentials",)
        ),
        {},
    )
    me = Principal(client_id="me", role=ADMIN)
    with pytest.raises(clients.ClientConflict):
        clients.check_self_change(me, "me", spec, active=False)
    narrowed = clients.apply_change(spec, clients.ClientChange(scopes=("banking.read",)))
    with pytest.raises(clients.ClientConflict):
        clients.check_self_change(me, "me", narrowed, active=True)
    clients.check_self_change(me, "someone-else", narrowed, active=False)
    assert clients.narrows(spec, narrowed)
    widened = clients.apply_change(
        spec, clients.ClientChange(scopes=("banking.read", "backoffice.admin"))
    )
    assert not clients.narrows(spec, widened)


def test_only_admins_with_the_admin_scope_administer_clients() -> None:
    clients.require_administrator(Principal(client_id="c", role=ADMIN))
    for principal in (
        Principal(client_id="c", role=CUSTOMER),
        Principal(client_id="c", role=ADMIN, scopes=frozenset({"banking.read"})),
    ):
        with pytest.raises(errors.Forbidden):
            clients.require_administrator(principal)
