"""The OAuth2 provider against malformed and malicious requests (RFC 6749 / RFC 7636 error behaviour)."""

from __future__ import annotations

import requests
from sqlalchemy import select, update

from grader_service.auth.tokens import hash_token
from grader_service.orm.auth import OAuthCode
from grader_service.orm.base import utcnow
from tests.auth.conftest import CLIENTS, DEV_PASSWORD
from tests.auth.test_auth_oauth_flow import _code_for
from tests.support.oauth_browser import Browser, authorize_url, csrf_value, pkce_pair, query, token_request

SECRET, REDIRECT = CLIENTS["hub"]


def _error(r: requests.Response, status: int, error: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert r.headers["Cache-Control"] == "no-store"
    return body["error_description"]


def _signed_in(svc, name: str) -> Browser:
    browser = Browser()
    browser.login(svc.url, name, DEV_PASSWORD)
    return browser


# -- the authorization endpoint --
def test_wrong_redirect_uri_is_shown_not_followed(oauth_service):
    browser = _signed_in(oauth_service, "mal1")
    _, challenge = pkce_pair()
    for uri in ("https://evil.example/cb", REDIRECT + "/../evil", REDIRECT + "?x=1", REDIRECT.upper()):
        r = browser.request("GET", authorize_url(oauth_service.url, "hub", uri, challenge))
        assert r.status_code == 400 and "Location" not in r.headers
        assert "redirect_uri: not registered for this client" in r.text


def test_unknown_or_missing_client_is_shown_not_followed(oauth_service):
    browser = _signed_in(oauth_service, "mal2")
    r = browser.request("GET", authorize_url(oauth_service.url, "nobody", REDIRECT, pkce_pair()[1]))
    assert r.status_code == 400 and "Location" not in r.headers and "unknown client" in r.text
    r = browser.request("GET", oauth_service.url + "/oauth2/authorize?response_type=code")
    assert r.status_code == 400 and "client_id is missing" in r.text


def test_missing_pkce_challenge_or_plain_method_goes_back_as_invalid_request(oauth_service):
    browser = _signed_in(oauth_service, "mal3")
    r = browser.request("GET", authorize_url(oauth_service.url, "hub", REDIRECT, None, state="s1"))
    assert r.status_code == 302
    assert query(r.headers["Location"]) == {
        "error": "invalid_request",
        "state": "s1",
        "error_description": "code_challenge is required (PKCE with S256)",
    }
    verifier, _ = pkce_pair()
    r = browser.request(
        "GET",
        authorize_url(
            oauth_service.url,
            "hub",
            REDIRECT,
            None,
            state="s2",
            code_challenge=verifier,
            code_challenge_method="plain",
        ),
    )
    assert query(r.headers["Location"])["error_description"] == "code_challenge_method must be S256"


def test_missing_state_and_wrong_response_type_go_back_as_errors(oauth_service):
    browser = _signed_in(oauth_service, "mal4")
    _, challenge = pkce_pair()
    r = browser.request("GET", authorize_url(oauth_service.url, "hub", REDIRECT, challenge, state=""))
    assert query(r.headers["Location"])["error"] == "invalid_request"
    r = browser.request(
        "GET", authorize_url(oauth_service.url, "hub", REDIRECT, challenge, response_type="token")
    )
    assert query(r.headers["Location"]) == {
        "error": "unsupported_response_type",
        "state": "st-123",
        "error_description": "response_type must be code",
    }


def test_consent_form_without_or_with_a_forged_csrf_token_is_refused(oauth_service):
    """A page elsewhere that auto-posts the consent form with the victim's cookies gets no code."""
    svc = oauth_service
    browser = _signed_in(svc, "victim")
    _, redirect = CLIENTS["consent-app"]
    _, challenge = pkce_pair()
    consent = browser.get(authorize_url(svc.url, "consent-app", redirect, challenge))
    fields = {
        "response_type": "code",
        "client_id": "consent-app",
        "redirect_uri": redirect,
        "state": "x",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "decision": "allow",
    }
    for forged in ({}, {"_xsrf": "A" * 32}, {"_xsrf": ""}):
        r = browser.request("POST", svc.url + "/oauth2/authorize", data={**fields, **forged})
        assert r.status_code == 403 and "Location" not in r.headers, forged
    # an attacker's own CSRF cookie+field pair does not help without the victim's session
    attacker = Browser()
    page = attacker.get(svc.url + "/login")
    r = attacker.request(
        "POST", svc.url + "/oauth2/authorize", data={**fields, "_xsrf": csrf_value(page.text)}
    )
    assert r.status_code == 403 and "Location" not in r.headers
    # the real form still works
    ok = browser.request(
        "POST", svc.url + "/oauth2/authorize", data={**fields, "_xsrf": csrf_value(consent.text)}
    )
    assert ok.status_code == 302 and "code=" in ok.headers["Location"]


def test_consent_page_cannot_be_framed(oauth_service):
    browser = _signed_in(oauth_service, "mal5")
    _, redirect = CLIENTS["consent-app"]
    page = browser.get(authorize_url(oauth_service.url, "consent-app", redirect, pkce_pair()[1]))
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


# -- the token endpoint --
def test_reused_code_is_refused_and_revokes_the_first_token(oauth_service):
    svc = oauth_service
    code, verifier = _code_for(svc, Browser(), "hub", "mal6")
    first = token_request(svc.url, "hub", SECRET, code, REDIRECT, verifier)
    token = first.json()["access_token"]
    assert svc.request("GET", "/api/user", token=token).status_code == 200
    again = token_request(svc.url, "hub", SECRET, code, REDIRECT, verifier)
    assert _error(again, 400, "invalid_grant") == "the authorization code was already used"
    assert svc.request("GET", "/api/user", token=token).status_code == 401


def test_expired_code_is_refused(oauth_service):
    svc = oauth_service
    code, verifier = _code_for(svc, Browser(), "hub", "mal7")
    with svc.db.session() as s:
        s.execute(update(OAuthCode).where(OAuthCode.hashed == hash_token(code)).values(expires_at=utcnow()))
        s.commit()
    r = token_request(svc.url, "hub", SECRET, code, REDIRECT, verifier)
    assert _error(r, 400, "invalid_grant") == "the authorization code has expired"


def test_wrong_client_secret_is_invalid_client(oauth_service):
    svc = oauth_service
    code, verifier = _code_for(svc, Browser(), "hub", "mal8")
    r = token_request(svc.url, "hub", "not-the-secret-0123456789", code, REDIRECT, verifier)
    _error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = token_request(svc.url, "hub", "not-the-secret-0123456789", code, REDIRECT, verifier, basic=False)
    _error(r, 401, "invalid_client")
    # another registered client cannot redeem hub's code either
    other_secret, _ = CLIENTS["consent-app"]
    r = token_request(svc.url, "consent-app", other_secret, code, REDIRECT, verifier)
    assert _error(r, 400, "invalid_grant") == "the authorization code is invalid"
    # the failed attempts did not burn the code for its real client
    assert token_request(svc.url, "hub", SECRET, code, REDIRECT, verifier).status_code == 200


def test_missing_or_wrong_pkce_verifier_is_invalid_grant_and_burns_the_code(oauth_service):
    svc = oauth_service
    code, verifier = _code_for(svc, Browser(), "hub", "mal9")
    r = token_request(svc.url, "hub", SECRET, code, REDIRECT, None)
    assert "code_verifier is required" in _error(r, 400, "invalid_grant")
    # a code that was tried without the verifier is not redeemable any more (someone else had it)
    r = token_request(svc.url, "hub", SECRET, code, REDIRECT, verifier)
    _error(r, 400, "invalid_grant")
    code, verifier = _code_for(svc, Browser(), "hub", "mal9b")
    r = token_request(svc.url, "hub", SECRET, code, REDIRECT, pkce_pair()[0])
    assert _error(r, 400, "invalid_grant") == "code_verifier does not match the code_challenge"


def test_redirect_uri_must_match_the_authorization_request(oauth_service):
    svc = oauth_service
    code, verifier = _code_for(svc, Browser(), "hub", "mal10")
    r = token_request(svc.url, "hub", SECRET, code, "https://evil.example/cb", verifier)
    assert "redirect_uri does not match" in _error(r, 400, "invalid_grant")


def test_malformed_token_requests(oauth_service):
    url = oauth_service.url + "/oauth2/token"
    _error(
        requests.post(url, json={"grant_type": "authorization_code"}, auth=("hub", SECRET)),
        400,
        "invalid_request",
    )
    _error(requests.post(url, data={"code": "x"}, auth=("hub", SECRET)), 400, "invalid_request")
    _error(
        requests.post(
            url, data={"grant_type": "password", "username": "a", "password": "b"}, auth=("hub", SECRET)
        ),
        400,
        "unsupported_grant_type",
    )
    _error(requests.post(url, data={"grant_type": "authorization_code", "code": "x"}), 401, "invalid_client")
    _error(
        requests.post(
            url,
            data={"grant_type": "authorization_code", "code": "x", "client_secret": SECRET},
            auth=("hub", SECRET),
        ),
        400,
        "invalid_request",
    )
    _error(
        requests.post(
            url,
            data="grant_type=authorization_code&code=a&code=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=("hub", SECRET),
        ),
        400,
        "invalid_request",
    )
    _error(
        requests.post(
            url,
            data={"grant_type": "authorization_code", "code": "no-such-code", "redirect_uri": REDIRECT},
            auth=("hub", SECRET),
        ),
        400,
        "invalid_grant",
    )
    _error(
        requests.post(url, data={"grant_type": "authorization_code"}, headers={"Authorization": "Basic !!!"}),
        401,
        "invalid_client",
    )
    assert requests.get(url).status_code == 405


def test_codes_are_stored_hashed(oauth_service):
    svc = oauth_service
    code, _ = _code_for(svc, Browser(), "hub", "mal11")
    with svc.db.session() as s:
        stored = s.scalars(select(OAuthCode.hashed)).all()
    assert hash_token(code) in stored and code not in stored
