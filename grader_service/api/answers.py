"""What a route answers on success, read from its handler's `docs`: one place for the OpenAPI document and
for the check that every answer matches it.

A handler's `docs[method]` may hold:

- `"response"`: the model of the JSON answer (a pydantic model or any type pydantic can validate, such as
  `list[Model]` or a union), or a mapping `{"200": Model, "202": Other}` when the success codes differ;
- `"responses"`: descriptions by status code; its 2xx codes are the route's success codes (without any, the
  method's default: 200, or 204 for DELETE);
- `"content_type"`: the media type of a non-JSON answer (the CSV report, feedback pages), whose model is
  `str`.

With the app's `check_responses` setting on (the test suite turns it on), `ApiHandler` refuses an answer
whose status is not a documented success code or whose JSON does not validate against the model: a route
cannot drift from its document without a test failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

JSON = "application/json"
DEFAULT_SUCCESS = {"get": 200, "post": 200, "patch": 200, "put": 200, "delete": 204}


@dataclass(frozen=True)
class Answer:
    """One success answer of a route: status code, description, model (None only for 204) and media type."""

    status: int
    description: str
    model: Any
    content_type: str = JSON


def success_answers(doc: Mapping[str, Any], method: str) -> dict[int, Answer]:
    """The success answers `docs[method]` documents, by status code."""
    described = {int(code): text for code, text in doc.get("responses", {}).items() if int(code) < 300}
    if not described:
        code = DEFAULT_SUCCESS[method]
        described = {code: "no content" if code == 204 else "success"}
    declared = doc.get("response")
    content_type = doc.get("content_type", JSON)
    out: dict[int, Answer] = {}
    for code, text in sorted(described.items()):
        model = declared.get(str(code)) if isinstance(declared, Mapping) else declared
        out[code] = Answer(code, text, None if code == 204 else model, content_type)
    return out


@lru_cache(maxsize=512)
def adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


class UndocumentedAnswer(AssertionError):
    """An answer the route's docs do not describe (raised only with `check_responses` on)."""


def check_answer(handler: type, method: str, status: int, body: bytes | None) -> None:
    """Raise UndocumentedAnswer unless `status` is a documented success code of `handler.method` and `body`
    (JSON; None when not checked here) validates strictly against its model."""
    docs = getattr(handler, "docs", {})
    answers = success_answers(docs.get(method, {}), method)
    answer = answers.get(status)
    where = f"{handler.__name__}.{method}"
    if answer is None:
        raise UndocumentedAnswer(f"{where} answered {status}; its docs name {sorted(answers)}")
    if body is None or answer.content_type != JSON:
        return
    if answer.model is None:
        raise UndocumentedAnswer(f"{where} answered {status} with a body its docs give no model for")
    try:
        adapter(answer.model).validate_json(body, strict=True)
    except ValueError as exc:
        raise UndocumentedAnswer(f"{where} answered {status} with JSON its model refuses: {exc}") from None
