"""auth.http_client's Fetch on Tornado's AsyncHTTPClient (the app hands it to authenticators and hub-token
mode)."""

from __future__ import annotations

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from grader_service.auth.http_client import OutboundHTTPError, OutboundRequest


async def tornado_fetch(request: OutboundRequest) -> bytes:
    """The response body of `request`; OutboundHTTPError on an error answer (599 on timeout), OSError when
    the server cannot be reached."""
    try:
        response = await AsyncHTTPClient().fetch(
            HTTPRequest(
                request.url,
                method=request.method,
                headers=request.headers,
                body=request.body,
                request_timeout=request.timeout,
            )
        )
    except HTTPClientError as exc:
        body = exc.response.body if exc.response is not None else None
        raise OutboundHTTPError(exc.code, body) from None
    return response.body
