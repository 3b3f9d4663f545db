"""A scripted browser for the login pages and the OAuth2 provider: requests with cookies, no JavaScript."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Step:
    method: str
    url: str
    status: int
    location: str | None


class Browser:
    """Follows redirects by hand so that every hop is visible (and recorded in `steps`)."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.steps: list[Step] = []

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        r = self.http.request(method, url, allow_redirects=False, timeout=30, **kw)
        self.steps.append(Step(method, url, r.status_code, r.headers.get("Location")))
        return r

    def follow(self, r: requests.Response, *, stop: Any = None, limit: int = 20) -> requests.Response:
        """Follow redirects until a non-redirect, or until `stop(location)` is true (returns that
        response)."""
        for _ in range(limit):
            if r.status_code not in (301, 302, 303, 307) or (stop and stop(r.headers["Location"])):
                return r
            r = self.request("GET", urljoin(r.url, r.headers["Location"]))
        raise AssertionError("too many redirects")

    def get(self, url: str, stop: Any = None, **kw: Any) -> requests.Response:
        return self.follow(self.request("GET", url, **kw), stop=stop)

    def submit(
        self,
        r: requests.Response,
        values: dict[str, str],
        *,
        index: int = 0,
        follow: bool = True,
        stop: Any = None,
    ) -> requests.Response:
        form = forms(r.text)[index]
        data = {**form["fields"], **values}
        post = self.request("POST", urljoin(r.url, form["action"]), data=data)
        return self.follow(post, stop=stop) if follow else post

    def login(self, service_url: str, username: str, password: str = "") -> requests.Response:
        page = self.get(service_url + "/login")
        return self.submit(page, {"username": username, "password": password})


def authorize_url(
    service_url: str,
    client_id: str,
    redirect_uri: str,
    challenge: str | None,
    state: str = "st-123",
    **extra: str,
) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return f"{service_url}/oauth2/authorize?{urlencode(params)}"


def token_request(
    service_url: str,
    client_id: str,
    secret: str,
    code: str,
    redirect_uri: str,
    verifier: str | None,
    *,
    basic: bool = True,
) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    auth = None
    if basic:
        auth = (client_id, secret)
    else:
        data.update(client_id=client_id, client_secret=secret)
    return requests.post(f"{service_url}/oauth2/token", data=data, auth=auth, timeout=30)


def csrf_value(html: str) -> str:
    m = re.search(r'name="_xsrf" value="([^"]+)"', html)
    assert m, "no _xsrf field in the page"
    return m.group(1)
