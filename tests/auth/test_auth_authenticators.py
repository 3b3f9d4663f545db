"""Identity providers: password users managed by admins, the dev authenticator's loopback rule, allowed and
admin users, the post-auth hook, role mapping from groups and load_roles, and an upstream OAuth2 provider
(a second real grader service plays the provider)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader_service.app import GraderService
from grader_service.auth.login_sessions import Identity
from grader_service.orm.models import Lecture
from tests.support.oauth_browser import Browser, query
from tests.support.server import ServiceProcess


def _lecture(svc: ServiceProcess, code: str) -> int:
    with svc.db.session() as s:
        lec = Lecture(code=code, name=code)
        s.add(lec)
        s.commit()
        return lec.id


def _start(tmp_path_factory, db_url: str, **traits) -> ServiceProcess:
    svc = ServiceProcess(db_url=db_url, data_dir=tmp_path_factory.mktemp("authn"), **traits)
    svc.start()
    return svc


def add_groups(authenticator, handler, identity: Identity) -> Identity | None:
    if identity.name == "blocked":
        return None
    return Identity(
        identity.name,
        identity.display_name,
        identity.groups + ("pwlec:tutor", "nolec:student"),
        identity.admin,
    )


@pytest.fixture(scope="module")
def password_service(db_url, tmp_path_factory) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(
        db_url=db_url,
        data_dir=tmp_path_factory.mktemp("pw"),
        authenticator_class="grader_service.auth.authenticators.PasswordAuthenticator",
        load_roles=[{"lecture": "pwlec2", "role": "instructor", "users": ["pat"]}],
    )
    svc.app.config.PasswordAuthenticator.post_auth_hook = add_groups
    svc.app.config.PasswordAuthenticator.admin_users = {"root-by-login"}
    svc.start()
    _lecture(svc, "pwlec")
    _lecture(svc, "pwlec2")
    try:
        yield svc
    finally:
        svc.stop()


def _login(svc: ServiceProcess, name: str, password: str) -> Browser:
    b = Browser()
    r = b.login(svc.url, name, password)
    b.last = r  # type: ignore[attr-defined]
    return b


def test_admin_sets_a_password_and_the_user_logs_in_with_mapped_roles(password_service):
    svc = password_service
    admin = svc.make_user("pw-admin", admin=True)
    r = svc.request("PUT", "/api/users/pat/password", token=admin, json={"password": "correct horse"})
    assert r.status_code == 200 and r.json() == {"username": "pat", "created": True}
    assert _login(svc, "pat", "wrong password").last.status_code == 403
    b = _login(svc, "Pat", "correct horse")  # user names are case-insensitive
    assert "signed in as pat" in b.last.text
    with svc.db.session() as s:
        from grader_service.auth.tokens import create_token
        from grader_service.services.users import get_or_create_user

        token = create_token(s, get_or_create_user(s, "pat"))
        s.commit()
    roles = {
        lec["code"]: lec["role"] for lec in svc.request("GET", "/api/user", token=token).json()["lectures"]
    }
    assert roles == {"pwlec": "tutor", "pwlec2": "instructor"}  # from the hook's group and from load_roles


def test_new_password_ends_sessions_and_delete_removes_login(password_service):
    svc = password_service
    admin = svc.make_user("pw-admin2", admin=True)
    svc.request("PUT", "/api/users/quinn/password", token=admin, json={"password": "first-password"})
    b = _login(svc, "quinn", "first-password")
    assert "signed in as quinn" in b.last.text
    r = svc.request("PUT", "/api/users/quinn/password", token=admin, json={"password": "second-password"})
    assert r.json()["created"] is False
    assert "Sign in to the Grader Service" in b.get(svc.url + "/login").text
    assert svc.request("DELETE", "/api/users/quinn/password", token=admin).status_code == 204
    assert _login(svc, "quinn", "second-password").last.status_code == 403
    assert svc.request("DELETE", "/api/users/quinn/password", token=admin).status_code == 404


def test_post_auth_hook_can_refuse_and_admin_users_become_admins(password_service):
    svc = password_service
    admin = svc.make_user("pw-admin3", admin=True)
    for name in ("blocked", "root-by-login"):
        svc.request("PUT", f"/api/users/{name}/password", token=admin, json={"password": "password-123"})
    assert _login(svc, "blocked", "password-123").last.status_code == 403
    assert "signed in as root-by-login" in _login(svc, "root-by-login", "password-123").last.text
    with svc.db.session() as s:
        from sqlalchemy import select

        from grader_service.orm.models import User

        assert s.scalar(select(User.admin).where(User.name == "root-by-login")) is True


def test_password_rules_name_the_field(password_service):
    svc = password_service
    admin = svc.make_user("pw-admin4", admin=True)
    r = svc.request("PUT", "/api/users/rita/password", token=admin, json={"password": "short"})
    assert r.status_code == 400 and r.json()["field"] == "password"
    r = svc.request("PUT", "/api/users/..%2Fx/password", token=admin, json={"password": "long-enough-1"})
    assert r.status_code == 400 and r.json()["field"] == "username"


def test_dev_authenticator_refuses_a_non_loopback_address(tmp_path):
    app = GraderService(
        data_dir=str(tmp_path),
        ip="0.0.0.0",
        authenticator_class="grader_service.auth.authenticators.DevAuthenticator",
    )
    with pytest.raises(ValueError, match="DevAuthenticator lets anyone log in.*allow_non_loopback"):
        app.auth_settings_check()
    app.config.DevAuthenticator.allow_non_loopback = True
    app.auth_settings_check()
    GraderService(
        data_dir=str(tmp_path),
        ip="::1",
        authenticator_class="grader_service.auth.authenticators.DevAuthenticator",
    ).auth_settings_check()


@pytest.mark.parametrize(
    ("clients", "message"),
    [
        (
            [{"client_id": "a", "client_secret": "short", "redirect_uri": "http://x/cb"}],
            r"oauth_clients\[0\].client_secret",
        ),
        ([{"client_id": "a", "client_secret": "s" * 16}], r"oauth_clients\[0\].redirect_uri"),
        (
            [{"client_id": "a", "client_secret": "s" * 16, "redirect_uri": "/relative"}],
            r"redirect_uri: '/relative'",
        ),
        (
            [{"client_id": "a", "client_secret": "s" * 16, "redirect_uri": "http://x/cb", "colour": 1}],
            r"oauth_clients\[0\].colour: unknown field",
        ),
    ],
)
def test_bad_oauth_client_config_names_the_field(tmp_path, clients, message):
    app = GraderService(data_dir=str(tmp_path), oauth_clients=clients)
    with pytest.raises(ValueError, match=message):
        app.auth_settings_check()


def test_bad_load_roles_names_the_field(tmp_path):
    app = GraderService(data_dir=str(tmp_path), load_roles=[{"lecture": "x", "role": "king", "users": ["a"]}])
    with pytest.raises(ValueError, match=r"load_roles\[0\].role"):
        app.auth_settings_check()


def test_generic_oauthenticator_logs_in_at_an_upstream_provider(db_url, make_db_url, tmp_path_factory):
    """Service B logs users in at service A's OAuth2 provider (the same code path as any OIDC provider)."""
    from tests.support.server import free_port

    b_port = free_port()
    secret = "upstream-secret-0123456789"
    a = _start(
        tmp_path_factory,
        db_url,
        authenticator_class="grader_service.auth.authenticators.DevAuthenticator",
        oauth_clients=[
            {
                "client_id": "service-b",
                "client_secret": secret,
                "redirect_uri": f"http://127.0.0.1:{b_port}/oauth2/callback",
                "skip_consent": True,
            }
        ],
    )
    b = ServiceProcess(
        db_url=make_db_url("sqlite" if db_url.startswith("sqlite") else "postgresql"),
        data_dir=tmp_path_factory.mktemp("b"),
        authenticator_class="grader_service.auth.authenticators.GenericOAuthenticator",
    )
    b.port, b.url = b_port, f"http://127.0.0.1:{b_port}"
    b.app.port = b_port
    cfg = b.app.config.GenericOAuthenticator
    cfg.client_id, cfg.client_secret = "service-b", secret
    cfg.authorize_url, cfg.token_url = a.url + "/oauth2/authorize", a.url + "/oauth2/token"
    cfg.userdata_url, cfg.username_claim, cfg.display_name_claim = a.url + "/api/user", "name", "display_name"
    cfg.service_name = "Service A"
    try:
        b.start()
        browser = Browser()
        page = browser.get(b.url + "/login?next=/login")
        assert "Sign in with Service A" in page.text
        r = browser.get(b.url + "/login/start?next=/login")
        assert "Sign in to the Grader Service" in r.text and r.url.startswith(a.url)  # A's login form
        done = browser.submit(r, {"username": "upstream-user"})
        assert done.url.startswith(b.url) and "signed in as upstream-user" in done.text
        # a callback whose state does not match the browser's is refused
        evil = Browser()
        evil.get(b.url + "/login/start")
        bad = evil.request("GET", b.url + "/oauth2/callback?code=x&state=forged")
        assert bad.status_code == 400 and "state does not match" in bad.text
        # an error from the provider is shown, not followed
        err = browser.request("GET", b.url + "/oauth2/callback?" + "error=access_denied&state=x")
        assert err.status_code in (400, 403)
        assert query(browser.steps[-1].url)["error"] == "access_denied"
    finally:
        b.stop()
        a.stop()
