"""Sign-in throttling: the backoff rules (fake clock), the client address behind proxies, and a real
service refusing a password guesser (form and OAuth2 token endpoint) while others still sign in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader_service.auth.client_address import client_address, parse_networks
from grader_service.auth.throttle import LoginThrottle
from tests.support.oauth_browser import Browser, token_request
from tests.support.server import ServiceProcess

from .conftest import CLIENTS, DEV_PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_per_failure_and_success_clears_the_account() -> None:
    clock = Clock()
    t = LoginThrottle(clock=clock, free_failures=3, base_delay=2, max_delay=10, free_failures_per_address=100)
    for _ in range(3):
        assert t.retry_after("ann", "10.0.0.1") == 0
        t.failed("ann", "10.0.0.1")
    assert t.retry_after("ANN ", "10.0.0.9") == 2  # three failures: the account, from anywhere, any case
    clock.now += 2
    t.failed("ann", "10.0.0.1")
    assert t.retry_after("ann", "10.0.0.1") == 4
    clock.now += 4
    for _ in range(5):
        t.failed("ann", "10.0.0.1")
    assert t.retry_after("ann", "10.0.0.1") == 10  # capped
    assert t.retry_after("bob", "10.0.0.1") == 0  # another account from the same address
    clock.now += 10
    t.succeeded("ann", "10.0.0.1")
    assert t.retry_after("ann", "10.0.0.1") == 0


def test_address_limit_and_forgetting() -> None:
    clock = Clock()
    t = LoginThrottle(
        clock=clock, free_failures=100, free_failures_per_address=4, base_delay=1, forget_after=60
    )
    for i in range(4):
        t.failed(f"user{i}", "10.0.0.2")
    assert t.retry_after("someone-else", "10.0.0.2") == 1  # spraying accounts from one address
    assert t.retry_after("someone-else", "10.0.0.3") == 0
    clock.now += 61
    assert t.retry_after("someone-else", "10.0.0.2") == 0
    t.failed("user0", "10.0.0.2")
    assert t.retry_after("user0", "10.0.0.2") == 0  # forgotten: counting starts again


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = parse_networks(["10.0.0.0/8", "::1"])
    assert client_address("203.0.113.5", "1.2.3.4", proxies) == "203.0.113.5"  # not a proxy: ignored
    assert client_address("10.1.1.1", "198.51.100.7", proxies) == "198.51.100.7"
    # the client may prepend anything; the right-most untrusted hop is who reached our proxies
    assert client_address("10.1.1.1", "6.6.6.6, 198.51.100.7, 10.2.2.2", proxies) == "198.51.100.7"
    assert client_address("::1", "garbage", proxies) == "::1"
    assert client_address("10.1.1.1", None, proxies) == "10.1.1.1"
    with pytest.raises(ValueError, match="trusted_proxies: 'nope'"):
        parse_networks(["nope"])


def _service(db_url: str, tmp_path_factory: pytest.TempPathFactory, **traits: object) -> ServiceProcess:
    svc = ServiceProcess(
        db_url=db_url,
        data_dir=tmp_path_factory.mktemp("throttle"),
        authenticator_class="grader_service.auth.authenticators.DevAuthenticator",
        oauth_clients=[
            {"client_id": cid, "client_secret": secret, "redirect_uri": uri, "skip_consent": True}
            for cid, (secret, uri) in CLIENTS.items()
        ],
        **traits,
    )
    svc.app.config.DevAuthenticator.password = DEV_PASSWORD
    svc.app.config.LoginThrottle.free_failures_per_address = 10
    svc.start()
    return svc


@pytest.fixture(scope="module")
def direct(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = _service(db_url, tmp_path_factory)
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def proxied(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = _service(db_url, tmp_path_factory, trusted_proxies=["127.0.0.1"])
    yield svc
    svc.stop()


def _try(svc: ServiceProcess, name: str, password: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    b = Browser()
    if forwarded:
        b.http.headers["X-Forwarded-For"] = forwarded
    return b.login(svc.url, name, password)


def test_sixty_wrong_passwords_are_throttled_and_others_still_sign_in(proxied: ServiceProcess) -> None:
    ip = "198.51.100.60"  # through the trusted proxy: one client, so the address limit is not in play
    statuses = [_try(proxied, "victim", "guess", forwarded=f"198.51.100.{i}").status_code for i in range(60)]
    assert statuses[:5] == [403] * 5
    # from 60 different addresses: the account is locked; when a lock runs out one more guess is checked
    # and the next lock is twice as long, so only a handful of the 60 guesses are ever checked
    assert statuses[5] == 429 and statuses.count(403) <= 8, statuses
    r = _try(proxied, "victim", DEV_PASSWORD, forwarded=ip)
    assert r.status_code == 429 and "Try again in" in r.text and int(r.headers["Retry-After"]) >= 1
    assert "Too many failed sign-in attempts" in r.text
    ok = _try(proxied, "bystander", DEV_PASSWORD, forwarded=ip)
    assert ok.status_code == 200 and "signed in as bystander" in ok.text.lower(), ok.text


def test_forwarded_for_is_ignored_from_an_untrusted_peer(direct: ServiceProcess) -> None:
    statuses = [
        _try(direct, f"sprayed-{i}", "guess", forwarded=f"203.0.113.{i}").status_code for i in range(12)
    ]
    # each spoofed header claimed a new address; the service counted the real peer: locked after 10
    assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429], statuses


def test_forwarded_for_from_a_trusted_proxy_names_the_client(proxied: ServiceProcess) -> None:
    statuses = [_try(proxied, f"nat-{i}", "guess", forwarded=f"192.0.2.{i}").status_code for i in range(12)]
    assert set(statuses) == {403}, statuses  # twelve clients, none over its own limit
    same = [_try(proxied, f"one-{i}", "guess", forwarded="192.0.2.200").status_code for i in range(12)]
    assert same[10:] == [429, 429], same


def test_oauth_token_endpoint_throttles_wrong_client_secrets(proxied: ServiceProcess) -> None:
    direct = proxied  # requests from 127.0.0.1 without a header: the peer is the client
    secret, uri = CLIENTS["hub"]
    answers = [token_request(direct.url, "hub", "wrong-secret", "code", uri, None) for _ in range(7)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert answers[6].status_code == 429 and int(answers[6].headers["Retry-After"]) >= 1
    assert "Too many failed sign-in attempts" in answers[6].json()["error_description"]
    # the right secret is not even checked while the client is locked
    assert token_request(direct.url, "hub", secret, "code", uri, None).status_code == 429
    other_secret, other_uri = CLIENTS["consent-app"]
    other = token_request(direct.url, "consent-app", other_secret, "no-such-code", other_uri, None)
    assert (
        other.status_code == 400 and other.json()["error"] == "invalid_grant"
    )  # authenticated, not throttled
