"""Where the relay gets the user's grader token: GRADER_API_TOKEN, the Hub's auth state, or the hub token."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from grader_labextension.errors import RelayError

log = logging.getLogger("grader_labextension")
AUTH_STATE_TTL = 300.0


class TokenSource:
    """`auto`: GRADER_API_TOKEN if set, else the `access_token` in the user's Hub auth state (the spawned
    server's token needs the `admin:auth_state!user` scope), else the user's JupyterHub token itself (for
    the service's hub-token mode). `env`, `auth_state` and `hub_token` force one of them."""

    def __init__(
        self,
        mode: str = "auto",
        environ: Mapping[str, str] | None = None,
        auth_state_key: str = "access_token",
        timeout: float = 10.0,
    ) -> None:
        self.mode = mode
        self.environ = environ if environ is not None else os.environ
        self.auth_state_key = auth_state_key
        self.timeout = timeout
        self._cached: tuple[str, float] | None = None

    def describe(self) -> str:
        """Which source is in use (never the token)."""
        if self.mode != "auto":
            return self.mode
        if self.environ.get("GRADER_API_TOKEN"):
            return "env"
        if self.environ.get("JUPYTERHUB_API_TOKEN"):
            return "auth_state or hub_token"
        return "none"

    async def token(self, refresh: bool = False) -> str:
        mode = self.mode
        env_token = self.environ.get("GRADER_API_TOKEN", "")
        if mode in ("auto", "env") and env_token:
            return env_token
        if mode == "env":
            raise RelayError(503, "no grader token: GRADER_API_TOKEN is not set in this server's environment")
        hub_token = self.environ.get("JUPYTERHUB_API_TOKEN", "")
        if not hub_token:
            raise RelayError(503, "no grader token: set GRADER_API_TOKEN, or run this server from JupyterHub")
        if mode == "hub_token":
            return hub_token
        if self._cached and not refresh and self._cached[1] > time.monotonic():
            return self._cached[0]
        token = await self._from_auth_state(hub_token)
        if token:
            self._cached = (token, time.monotonic() + AUTH_STATE_TTL)
            return token
        if mode == "auth_state":
            raise RelayError(
                503,
                f"no grader token: the Hub auth state has no {self.auth_state_key!r} (enable "
                "auth state and give the server the admin:auth_state!user scope)",
            )
        return hub_token

    async def _from_auth_state(self, hub_token: str) -> str | None:
        api = self.environ.get("JUPYTERHUB_API_URL", "").rstrip("/")
        if not api:
            return None
        request = HTTPRequest(
            api + "/user", headers={"Authorization": f"token {hub_token}"}, request_timeout=self.timeout
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as exc:
            log.warning("grader relay: the Hub API answered %s when asked for the auth state", exc.code)
            return None
        except OSError:
            log.warning("grader relay: the Hub API cannot be reached for the auth state")
            return None
        state = json.loads(response.body).get("auth_state") or {}
        value = state.get(self.auth_state_key) if isinstance(state, dict) else None
        return value if isinstance(value, str) and value else None
