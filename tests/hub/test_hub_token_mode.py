"""Hub-token mode against a real JupyterHub: the grader accepts users' hub tokens (checked at the Hub API,
cached for hub_token_cache_ttl), maps hub groups to lecture roles, refuses tokens without access to the
service, works for git, and a spawned server's relay uses the user's hub token when it has no other."""

from __future__ import annotations

import time

import pytest
import requests

from grader_service.orm.models import Lecture
from tests.support.gitcli import authed, git
from tests.support.jupyter import Hub
from tests.support.server import ServiceProcess

pytestmark = pytest.mark.slow
SVC_TOKEN = "grader-service-hub-token-0123456789"
ADMIN_TOKEN = "ci-admin-hub-token-0123456789"
TTL = 3.0

HUB_CONFIG = """
import os, sys
from pathlib import Path
c = get_config()  # noqa
env = os.environ.get
BIN = Path(sys.executable).parent
data = Path(env("HUB_DATA_DIR"))
c.JupyterHub.ip, c.JupyterHub.port = "127.0.0.1", int(env("HUB_PORT"))
c.JupyterHub.hub_ip, c.JupyterHub.hub_port = "127.0.0.1", int(env("HUB_API_PORT"))
c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(data / "cookie_secret")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('PROXY_API_PORT')}"
c.ConfigurableHTTPProxy.pid_file = str(data / "proxy.pid")
c.ConfigurableHTTPProxy.command = [str(BIN / "configurable-http-proxy")]
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [
    {"name": "grader", "api_token": env("SVC_TOKEN")},       # the grader runs elsewhere (the test)
    {"name": "ci-admin", "api_token": env("ADMIN_TOKEN")},
]
c.JupyterHub.load_roles = [
    {"name": "grader-role", "services": ["grader"], "scopes": ["read:users", "read:users:groups"]},
    {"name": "ci-admin-role", "services": ["ci-admin"],
     "scopes": ["admin:users", "admin:groups", "tokens", "admin:servers"]},
    {"name": "user", "scopes": ["self", "access:services!service=grader"]},
    # the servers' own token may reach the grader too (hub-token mode for the relay)
    {"name": "server",
     "scopes": ["users:activity!user", "access:servers!server", "access:services!service=grader"]},
]
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(data / "homes" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
c.Spawner.environment = {"GRADER_SERVICE_URL": env("GRADER_URL")}
"""


@pytest.fixture(scope="module")
def hub_and_grader(tmp_path_factory, make_db_url):
    data = tmp_path_factory.mktemp("tokhub")
    config = data / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG)
    hub = Hub(config, data, {"SVC_TOKEN": SVC_TOKEN, "ADMIN_TOKEN": ADMIN_TOKEN})
    svc = ServiceProcess(
        db_url=make_db_url("sqlite"),
        data_dir=tmp_path_factory.mktemp("tokgrader"),
        hub_token_auth=True,
        hub_api_url=f"{hub.url}/hub/api",
        hub_api_token=SVC_TOKEN,
        hub_service_name="grader",
        hub_token_cache_ttl=TTL,
        load_roles=[{"lecture": "hubtok2", "role": "tutor", "groups": ["hub-tutors"]}],
    )
    hub.env["GRADER_URL"] = svc.url
    svc.start()
    with svc.db.session() as s:
        s.add_all([Lecture(code="hubtok", name="Hub tokens"), Lecture(code="hubtok2", name="Hub tokens 2")])
        s.commit()
    hub.start()
    try:
        yield hub, svc
    finally:
        hub.stop()
        svc.stop()


def _user_with_token(hub: Hub, name: str, groups: list[str], **token_body) -> str:
    assert hub.api("POST", f"users/{name}", ADMIN_TOKEN).status_code == 201
    for group in groups:
        hub.api("POST", f"groups/{group}", ADMIN_TOKEN)
        r = hub.api("POST", f"groups/{group}/users", ADMIN_TOKEN, json={"users": [name]})
        assert r.status_code == 200, r.text
    r = hub.api("POST", f"users/{name}/tokens", ADMIN_TOKEN, json={"note": "test", **token_body})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def test_hub_token_is_accepted_cached_and_mapped_to_roles(hub_and_grader, tmp_path):
    hub, svc = hub_and_grader
    token = _user_with_token(hub, "alice", ["hubtok:student", "hub-tutors"])
    me = svc.request("GET", "/api/user", token=token)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["name"] == "alice"
    assert {lec["code"]: lec["role"] for lec in body["lectures"]} == {"hubtok": "student", "hubtok2": "tutor"}
    calls = _whoami_calls(hub, "alice")
    assert calls >= 1
    for _ in range(5):
        assert svc.request("GET", "/api/lectures", token=token).status_code == 200
    assert _whoami_calls(hub, "alice") == calls, "the Hub was asked again within the cache TTL"
    # the same token works for git (the release repo of a released assignment)
    admin = svc.make_user("tok-admin", admin=True)
    lid = next(lec["id"] for lec in body["lectures"] if lec["code"] == "hubtok")
    aid = svc.request("POST", f"/api/lectures/{lid}/assignments", token=admin, json={"name": "A"}).json()[
        "id"
    ]
    work = tmp_path / "w"
    work.mkdir()
    out = git("ls-remote", authed(f"{svc.url}/git/hubtok/{aid}/user/alice", token), cwd=work, check=False)
    assert out.returncode == 0 or "not found" in out.stderr, out.stderr
    assert token not in out.stderr


def test_tokens_without_access_to_the_service_or_revoked_are_refused(hub_and_grader):
    hub, svc = hub_and_grader
    narrow = _user_with_token(hub, "bob", [], scopes=["read:users:name!user"])
    r = svc.request("GET", "/api/user", token=narrow)
    assert r.status_code == 401 and r.json()["message"] == "the token is invalid or has expired"
    assert svc.request("GET", "/api/user", token="not-a-hub-token-at-all").status_code == 401
    # a token the Hub revokes stops working once the short cache has run out
    token = _user_with_token(hub, "carol", [])
    assert svc.request("GET", "/api/user", token=token).status_code == 200
    tokens = hub.api("GET", "users/carol/tokens", ADMIN_TOKEN).json()["api_tokens"]
    for t in tokens:
        assert hub.api("DELETE", f"users/carol/tokens/{t['id']}", ADMIN_TOKEN).status_code == 204
    time.sleep(TTL + 0.5)
    assert svc.request("GET", "/api/user", token=token).status_code == 401


def test_relay_of_a_spawned_server_uses_the_hub_token(hub_and_grader):
    hub, svc = hub_and_grader
    token = _user_with_token(hub, "dave", ["hubtok:student"])
    r = hub.api("POST", "users/dave/server", ADMIN_TOKEN)
    assert r.status_code in (201, 202), r.text
    deadline = time.monotonic() + 60
    while True:
        status = requests.get(
            f"{hub.url}/user/dave/grader/status",
            headers={"Authorization": f"token {token}"},
            timeout=30,
            allow_redirects=False,
        )
        if status.status_code == 200:
            break
        assert time.monotonic() < deadline, (status.status_code, status.text[:200])
        time.sleep(0.3)
    assert status.json()["authenticated"] is True and status.json()["user"] == "dave", status.json()
    lectures = requests.get(
        f"{hub.url}/user/dave/grader/api/lectures", headers={"Authorization": f"token {token}"}, timeout=30
    ).json()
    assert [lec["code"] for lec in lectures] == ["hubtok"]
    hub.api("DELETE", "users/dave/server", ADMIN_TOKEN)


def _whoami_calls(hub: Hub, user: str) -> int:
    """How often the Hub answered GET /hub/api/user for `user` (from the Hub's own request log)."""
    return sum(1 for line in hub.log.read_text().splitlines() if f"GET /hub/api/user ({user}@" in line)
