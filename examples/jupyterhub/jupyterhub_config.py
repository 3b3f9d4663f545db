"""JupyterHub in front of the Grader Service: users log in at the grader's OAuth2 provider, and each user's
Jupyter server gets the grader token from the Hub's auth state (GRADER_API_TOKEN) for the relay.

The grader service must register the Hub as an OAuth client, e.g. in grader_service_config.py:

    c.GraderService.oauth_clients = [{
        "client_id": "jupyterhub",
        "client_secret": "<the same value as GRADER_OAUTH_CLIENT_SECRET below>",
        "redirect_uri": "http://127.0.0.1:8000/hub/oauth_callback",
        "name": "JupyterHub",
        "skip_consent": True,
    }]

Everything site-specific comes from the environment, so this file works unchanged for the local stack
(scripts/local-stack.sh) and the tests:

    GRADER_URL                 the grader as browsers reach it (authorize URL)   http://127.0.0.1:4010
    GRADER_INTERNAL_URL        the grader as the Hub and user servers reach it   = GRADER_URL
    GRADER_OAUTH_CLIENT_ID     the Hub's client id at the grader                 jupyterhub
    GRADER_OAUTH_CLIENT_SECRET the Hub's client secret at the grader             (required)
    HUB_IP / HUB_PORT          where the proxy listens                           127.0.0.1 / 8000
    HUB_API_PORT, PROXY_API_PORT  the Hub's and the proxy's own ports            8081 / 8001
    HUB_DATA_DIR               database, cookie secret, proxy pid, users' homes  ./hub_data
    JUPYTERHUB_CRYPT_KEY       encrypts the auth state (holds the grader token): `openssl rand -hex 32`
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

BIN = Path(sys.executable).parent
env = os.environ.get
grader_url = env("GRADER_URL", "http://127.0.0.1:4010").rstrip("/")
grader_internal = env("GRADER_INTERNAL_URL", grader_url).rstrip("/")
hub_ip, hub_port = env("HUB_IP", "127.0.0.1"), int(env("HUB_PORT", "8000"))
data = Path(env("HUB_DATA_DIR", "hub_data")).resolve()
data.mkdir(parents=True, exist_ok=True)

# -- the Hub, its database and the proxy (the Python configurable-http-proxy: no Node needed) --
c.JupyterHub.ip, c.JupyterHub.port = hub_ip, hub_port
c.JupyterHub.hub_ip, c.JupyterHub.hub_port = "127.0.0.1", int(env("HUB_API_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.pid_file = str(data / "jupyterhub-proxy.pid")
if (BIN / "configurable-http-proxy").exists():
    c.ConfigurableHTTPProxy.command = [str(BIN / "configurable-http-proxy")]

# -- log in at the grader service (OAuth2 authorization code + PKCE) --
c.JupyterHub.authenticator_class = "generic-oauth"  # oauthenticator.generic.GenericOAuthenticator
c.GenericOAuthenticator.login_service = "Grader Service"
c.GenericOAuthenticator.client_id = env("GRADER_OAUTH_CLIENT_ID", "jupyterhub")
c.GenericOAuthenticator.client_secret = env("GRADER_OAUTH_CLIENT_SECRET", "")
c.GenericOAuthenticator.oauth_callback_url = f"http://{hub_ip}:{hub_port}/hub/oauth_callback"
c.GenericOAuthenticator.authorize_url = f"{grader_url}/oauth2/authorize"
c.GenericOAuthenticator.token_url = f"{grader_internal}/oauth2/token"
c.GenericOAuthenticator.userdata_url = f"{grader_internal}/api/user"
c.GenericOAuthenticator.username_claim = "name"
c.GenericOAuthenticator.scope = ["api"]
c.GenericOAuthenticator.enable_pkce = True
c.GenericOAuthenticator.basic_auth = True
c.GenericOAuthenticator.allow_all = True  # the grader decides who may log in
c.GenericOAuthenticator.admin_users = set(filter(None, env("HUB_ADMIN_USERS", "").split(",")))
c.Authenticator.auto_login = True  # /hub/login goes straight to the grader's login
c.Authenticator.enable_auth_state = True  # keeps the access token (needs JUPYTERHUB_CRYPT_KEY)
c.Authenticator.refresh_pre_spawn = True  # a stale token means a fresh login before spawning
c.Authenticator.auth_refresh_age = 3600


def hand_token_to_server(spawner, auth_state):
    """Give the user's server the grader access token the Hub received at login (for the relay)."""
    if auth_state and auth_state.get("access_token"):
        spawner.environment["GRADER_API_TOKEN"] = auth_state["access_token"]


c.Spawner.auth_state_hook = hand_token_to_server

# -- users' servers: local processes with the relay (grader_labextension) --
c.JupyterHub.spawner_class = "simple"  # jupyterhub.spawner.SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = str(data / "homes" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"  # JupyterLab with the grader extension (Launcher → Assignments)
c.Spawner.environment = {"GRADER_SERVICE_URL": grader_internal}
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []  # only when the Hub itself runs as root
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 60
