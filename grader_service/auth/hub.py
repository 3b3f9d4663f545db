"""Hub-token mode: accept a user's JupyterHub token, checked against the Hub API, as a grader credential.

A token the Hub vouches for (its owner has `access:services!service=<name>`) is remembered as an ApiToken
row of kind "hub" that expires after `cache_ttl` seconds, so the REST API and git resolve it like any token
and the Hub is asked again only when that short cache runs out. Tokens the Hub refuses are remembered in
memory for a few seconds so a client retrying a bad token does not hammer the Hub. The user's hub groups
map to lecture roles like an identity provider's groups (`<lecture>:<role>`, plus `load_roles`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.auth.http_client import Fetch, OutboundHTTPError, OutboundRequest
from grader_service.auth.login_sessions import Identity
from grader_service.auth.role_mapping import RoleRule
from grader_service.auth.roles import Actor
from grader_service.auth.tokens import hash_token, resolve_actor
from grader_service.errors import GraderError
from grader_service.orm.base import utcnow
from grader_service.orm.models import ApiToken
from grader_service.orm.session import Database

log = logging.getLogger(__name__)
NEGATIVE_TTL = 10.0
#: `remember(session, identity, rules, token_hash, ttl)`: sign the hub user in and keep the token's hash as a
#: short-lived ApiToken row (the app passes services.sign_in.remember_hub_token)
Remember = Callable[[Session, Identity, list[RoleRule], str, float], None]


class HubUnavailable(GraderError):
    """The Hub API could not be asked (down, or answered an error that is not about the token)."""

    status = 503


class HubTokenAuth:
    """Validates JupyterHub tokens against the Hub API with a short cache."""

    def __init__(
        self,
        api_url: str,
        service_name: str,
        remember: Remember,
        fetch: Fetch,
        service_token: str = "",
        cache_ttl: float = 60.0,
        rules: list[RoleRule] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.service_name = service_name
        self.remember = remember
        self.fetch = fetch
        self.service_token = service_token
        self.cache_ttl = cache_ttl
        self.rules = rules or []
        self.timeout = timeout
        self._valid: dict[str, float] = {}  # token hash → monotonic time its row expires
        self._refused: dict[str, float] = {}  # token hash → monotonic time to ask again
        self._inflight: dict[str, asyncio.Future[bool]] = {}

    async def ensure(self, db: Database, session: Session, token: str) -> bool:
        """Make `token` resolvable if the Hub vouches for it; True when it is (or already was)."""
        key = hash_token(token)
        now = time.monotonic()
        if self._valid.get(key, 0) > now:
            return True
        if self._refused.get(key, 0) > now:
            return False
        if await db.run(session, _local_token_valid, key):
            return True
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            ok = await self._check(db, session, token, key)
            future.set_result(ok)
            return ok
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[key]

    async def actor_for(self, handler: Any, token: str) -> Actor | None:
        """The REST API's fallback when a token is not known locally (ApiHandler.prepare calls it)."""
        if not await self.ensure(handler.db, handler.session, token):
            return None
        return await handler.call(resolve_actor, token, handler.settings["admin_users"])

    async def _check(self, db: Database, session: Session, token: str, key: str) -> bool:
        identity = await self.identity(token)
        if identity is None:
            self._refused[key] = time.monotonic() + NEGATIVE_TTL
            if len(self._refused) > 10000:
                self._refused.clear()
            return False
        await db.run(session, self.remember, identity, self.rules, key, self.cache_ttl)
        self._valid[key] = time.monotonic() + self.cache_ttl
        if len(self._valid) > 10000:
            self._valid.clear()
        return True

    async def identity(self, token: str) -> Identity | None:
        """Who the Hub says owns `token` (None: unknown token or not allowed to use this service)."""
        model = await self._get("/user", token)
        if model is None:
            return None
        scopes = set(model.get("scopes") or [])
        if not scopes & {"access:services", f"access:services!service={self.service_name}"}:
            log.info(
                "hub token of %s refused: it lacks access:services!service=%s",
                model.get("name"),
                self.service_name,
            )
            return None
        name = model.get("name")
        if model.get("kind", "user") != "user" or not isinstance(name, str):
            return None
        groups = model.get("groups")
        if groups is None and self.service_token:
            full = await self._get(f"/users/{quote(name, safe='')}", self.service_token)
            groups = (full or {}).get("groups")
        return Identity(name=name, groups=tuple(g for g in groups or [] if isinstance(g, str)))

    async def _get(self, path: str, token: str) -> dict | None:
        request = OutboundRequest(
            self.api_url + path,
            headers={"Authorization": f"token {token}", "Accept": "application/json"},
            timeout=self.timeout,
        )
        try:
            body = await self.fetch(request)
        except OutboundHTTPError as exc:
            if exc.code in (401, 403, 404):
                return None
            log.warning("Hub API %s answered %s", path.split("/")[1], exc.code)
            raise HubUnavailable(f"the Hub API answered {exc.code}") from None
        except OSError as exc:
            log.warning("Hub API unreachable at %s: %s", self.api_url, exc.strerror or type(exc).__name__)
            raise HubUnavailable("the Hub API cannot be reached") from None
        data = json.loads(body)
        return data if isinstance(data, dict) else None


def _local_token_valid(session: Session, key: str) -> bool:
    expires_at = session.execute(select(ApiToken.expires_at).where(ApiToken.hashed == key)).first()
    return expires_at is not None and (expires_at[0] is None or expires_at[0] > utcnow())
