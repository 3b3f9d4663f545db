"""GraderServiceClient: requests to the grader service with the user's token; the relay's error mapping."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from grader_labextension.errors import RelayError
from grader_labextension.token_source import TokenSource

log = logging.getLogger("grader_labextension")
PASSED_HEADERS = ("Content-Type", "Content-Disposition", "Location")


@dataclass
class ServiceResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class GraderServiceClient:
    def __init__(self, service_url: str, tokens: TokenSource, timeout: float) -> None:
        self.service_url = service_url.rstrip("/")
        self.tokens = tokens
        self.timeout = timeout

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        query: str = "",
        content_type: str = "application/json",
    ) -> ServiceResponse:
        """Any answer of the service (2xx to 5xx) comes back as is; a service that cannot be reached or does
        not answer in time raises RelayError 502/504. On a 401 with a token from the Hub auth state the token
        is fetched again once (the Hub may have refreshed it)."""
        response = await self._send(method, path, body, query, content_type, await self.tokens.token())
        if response.status == 401 and self.tokens.describe() != "env":
            response = await self._send(
                method, path, body, query, content_type, await self.tokens.token(refresh=True)
            )
        return response

    async def _send(
        self, method: str, path: str, body: bytes | None, query: str, content_type: str, token: str
    ) -> ServiceResponse:
        url = self.service_url + path + (f"?{query}" if query else "")
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = b""
        request = HTTPRequest(
            url,
            method=method,
            body=body,
            allow_nonstandard_methods=True,
            headers={
                "Authorization": f"token {token}",
                "Content-Type": content_type,
                "Accept": "application/json",
            },
            request_timeout=self.timeout,
            connect_timeout=min(self.timeout, 10.0),
            follow_redirects=False,
        )
        try:
            raw = await AsyncHTTPClient().fetch(request, raise_error=False)
        except HTTPClientError as exc:  # raised for timeouts (599) even with raise_error=False
            raise self._unreachable(exc) from None
        except OSError as exc:
            raise self._unreachable(exc) from None
        if raw.code == 599:
            raise self._unreachable(raw.error)
        headers = {k: raw.headers[k] for k in PASSED_HEADERS if k in raw.headers}
        log.info("grader relay: %s %s -> %s", method, path, raw.code)
        return ServiceResponse(raw.code, raw.body or b"", headers)

    def _unreachable(self, exc: BaseException | None) -> RelayError:
        text = str(exc or "")
        if "Timeout" in text or "timed out" in text.lower():
            log.warning("grader relay: %s did not answer within %ss", self.service_url, self.timeout)
            return RelayError(504, f"the grader service did not answer within {self.timeout:g} s")
        log.warning("grader relay: %s cannot be reached (%s)", self.service_url, type(exc).__name__)
        return RelayError(502, f"the grader service at {self.service_url} cannot be reached")

    async def json(self, method: str, path: str, payload: Any = None) -> Any:
        """A request whose non-2xx answer becomes a RelayError carrying the service's status and message."""
        body = json.dumps(payload).encode() if payload is not None else None
        response = await self.request(method, path, body)
        if response.status >= 400:
            raise RelayError(response.status, service_message(response))
        return response.json()


def service_message(response: ServiceResponse) -> str:
    try:
        data = json.loads(response.body)
        return str(data.get("message") or data)
    except (ValueError, AttributeError):
        return f"the grader service answered {response.status}"
