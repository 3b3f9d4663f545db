"""The outbound HTTP call of identity providers and hub-token mode (token and userinfo endpoints, the Hub
API) as an interface, so auth/ holds no Tornado: the app plugs in web/http_client.tornado_fetch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutboundRequest:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    #: seconds for the whole exchange
    timeout: float = 20.0


class OutboundHTTPError(Exception):
    """The server answered with an error status (or the exchange timed out: code 599)."""

    def __init__(self, code: int, body: bytes | None = None) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code
        self.body = body


#: fetch(request) → the response body; raises OutboundHTTPError for an error answer, OSError when the
#: server cannot be reached
Fetch = Callable[[OutboundRequest], Awaitable[bytes]]
