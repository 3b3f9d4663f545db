"""The OAuth2 provider end to end, real HTTP: login, consent, code, PKCE, token, API and git use, revoke."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from tests.auth.conftest import CLIENTS, DEV_PASSWORD
from tests.support.gitcli import authed, git
from tests.support.oauth_browser import Browser, authorize_url, forms, pkce_pair, query, token_request


def _code_for(svc, browser: Browser, client_id: str, user: str, state: str = "st-123") -> tuple[str, str]:
    """Log `user` in and run the authorization request to the redirect; returns (code, verifier)."""
    secret, redirect = CLIENTS[client_id]
    verifier, challenge = pkce_pair()
    r = browser.get(
        authorize_url(svc.url, client_id, redirect, challenge, state=state),
        stop=lambda loc: loc.startswith(redirect),
    )
    if r.status_code == 200 and "<form" in r.text and 'name="username"' in r.text:
        r = browser.submit(
            r, {"username": user, "password": DEV_PASSWORD}, stop=lambda loc: loc.startswith(redirect)
        )
    if r.status_code == 200 and 'value="allow"' in r.text:
        r = browser.submit(r, {"decision": "allow"}, stop=lambda loc: loc.startswith(redirect))
    assert r.status_code == 302, r.text[:300]
    back = query(r.headers["Location"])
    assert back["state"] == state
    return back["code"], verifier


def test_consent_flow_gives_a_token_that_works_for_the_api(oauth_service, caplog):
    caplog.set_level(logging.DEBUG)
    svc = oauth_service
    browser = Browser()
    secret, redirect = CLIENTS["consent-app"]
    verifier, challenge = pkce_pair()
    # not signed in: the authorize endpoint sends the browser to the login page and back
    r = browser.request("GET", authorize_url(svc.url, "consent-app", redirect, challenge))
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    login = browser.follow(r)
    assert 'lang="en"' in login.text and '<label for="username">' in login.text
    consent = browser.submit(login, {"username": "ada", "password": DEV_PASSWORD})
    assert consent.status_code == 200 and "Allow Consent App" in consent.text
    back = browser.submit(consent, {"decision": "allow"}, follow=False)
    assert back.status_code == 302 and back.headers["Location"].startswith(redirect)
    params = query(back.headers["Location"])
    assert params["state"] == "st-123"
    r = token_request(svc.url, "consent-app", secret, params["code"], redirect, verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert r.headers["Cache-Control"] == "no-store"
    me = svc.http.get(svc.url + "/api/user", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["name"] == "ada"
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert body["access_token"] not in logged and params["code"] not in logged
    assert verifier not in logged


def test_skip_consent_client_goes_straight_back(oauth_service):
    browser = Browser()
    browser.login(oauth_service.url, "bea", DEV_PASSWORD)
    secret, redirect = CLIENTS["hub"]
    verifier, challenge = pkce_pair()
    r = browser.request("GET", authorize_url(oauth_service.url, "hub", redirect, challenge))
    assert r.status_code == 302 and r.headers["Location"].startswith(redirect + "?")
    code = query(r.headers["Location"])["code"]
    tok = token_request(oauth_service.url, "hub", secret, code, redirect, verifier, basic=False)
    assert tok.status_code == 200, tok.text


def test_deny_on_the_consent_page_returns_access_denied(oauth_service):
    browser = Browser()
    browser.login(oauth_service.url, "cid", DEV_PASSWORD)
    _, redirect = CLIENTS["consent-app"]
    _, challenge = pkce_pair()
    consent = browser.get(authorize_url(oauth_service.url, "consent-app", redirect, challenge, state="s-9"))
    back = browser.submit(consent, {"decision": "deny"}, follow=False)
    assert query(back.headers["Location"]) == {
        "error": "access_denied",
        "error_description": "the user denied the request",
        "state": "s-9",
    }


def test_access_token_works_for_git_and_revocation_ends_it(oauth_service, tmp_path):
    svc = oauth_service
    browser = Browser()
    code, verifier = _code_for(svc, browser, "hub", "gus")
    secret, redirect = CLIENTS["hub"]
    token = token_request(svc.url, "hub", secret, code, redirect, verifier).json()["access_token"]
    # a lecture where gus is instructor, with a source repo he may push to
    admin = svc.make_user("oauth-admin", admin=True)
    lec = svc.request("POST", "/api/lectures", token=admin, json={"code": "oauthgit", "name": "OAuth git"})
    lid = lec.json()["id"]
    svc.request(
        "POST", f"/api/lectures/{lid}/members", token=admin, json=[{"username": "gus", "role": "instructor"}]
    )
    aid = svc.request("POST", f"/api/lectures/{lid}/assignments", token=token, json={"name": "A1"}).json()[
        "id"
    ]
    work = tmp_path / "src"
    work.mkdir()
    git("init", cwd=work)
    (work / "nb.py").write_text("print('hi')\n")
    git("add", ".", cwd=work)
    git("commit", "-m", "first", cwd=work)
    url = f"{svc.url}/git/oauthgit/{aid}/source"
    git("push", authed(url, token), "HEAD:main", cwd=work)
    # revoke (RFC 7009): the token stops working for the API and for git
    r = svc.http.post(svc.url + "/oauth2/revoke", data={"token": token}, auth=("hub", secret))
    assert r.status_code == 200
    assert svc.request("GET", "/api/user", token=token).status_code == 401
    out = git("ls-remote", authed(url, token), cwd=work, check=False)
    assert out.returncode != 0 and token not in out.stderr


def test_expired_access_token_is_refused(oauth_service):
    from sqlalchemy import update

    from grader_service.auth.tokens import hash_token
    from grader_service.orm.base import utcnow
    from grader_service.orm.models import ApiToken

    svc = oauth_service
    code, verifier = _code_for(svc, Browser(), "hub", "hal")
    secret, redirect = CLIENTS["hub"]
    token = token_request(svc.url, "hub", secret, code, redirect, verifier).json()["access_token"]
    assert svc.request("GET", "/api/user", token=token).status_code == 200
    with svc.db.session() as s:
        s.execute(update(ApiToken).where(ApiToken.hashed == hash_token(token)).values(expires_at=utcnow()))
        s.commit()
    assert svc.request("GET", "/api/user", token=token).status_code == 401


def test_login_page_ignores_offsite_next_urls(oauth_service):
    browser = Browser()
    for evil in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        page = browser.get(oauth_service.url + "/login?" + f"next={evil}")
        action = forms(page.text)[0]["action"]
        assert "evil" not in action and "javascript" not in action
    page = browser.get(oauth_service.url + "/login?next=https://evil.example/x")
    r = browser.submit(page, {"username": "ivy", "password": DEV_PASSWORD}, follow=False)
    assert r.status_code == 302 and r.headers["Location"] == "/login"


def test_wrong_dev_password_is_refused_without_a_session(oauth_service):
    browser = Browser()
    page = browser.get(oauth_service.url + "/login")
    r = browser.submit(page, {"username": "jo", "password": "wrong"})
    assert r.status_code == 403 and "Invalid user name or password" in r.text and 'role="alert"' in r.text
    assert "grader-session" not in browser.http.cookies


def test_logout_is_a_csrf_protected_post(oauth_service):
    browser = Browser()
    browser.login(oauth_service.url, "kim", DEV_PASSWORD)
    session_cookie = browser.http.cookies["grader-session"]
    attacker = browser.request("POST", oauth_service.url + "/logout", data={})
    assert attacker.status_code == 403
    page = browser.get(oauth_service.url + "/logout")
    assert "signed in as kim" in page.text
    out = browser.submit(page, {})
    assert "signed out" in out.text
    # the old session value no longer works, even if replayed
    again = Browser()
    again.http.cookies.set("grader-session", session_cookie)
    assert "Sign in to the Grader Service" in again.get(oauth_service.url + "/login").text
