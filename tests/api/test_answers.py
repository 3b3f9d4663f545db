"""Every answer is what its route documents: the OpenAPI document types every success response, and with
`check_responses` on (as in every test service) a handler cannot answer an undocumented status or a shape
its model refuses."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.web import Application

from grader_service.api.answers import check_answer, success_answers
from grader_service.api.base import ApiHandler
from grader_service.api.health import OPENAPI_PATH
from grader_service.schemas.responses import Answer
from tests.support.document import check_against_document, template_of
from tests.support.server import free_port


def _success_responses() -> list[tuple[str, str, str, dict[str, Any]]]:
    doc = json.loads(OPENAPI_PATH.read_text())
    return [
        (path, method, code, response)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        for code, response in op["responses"].items()
        if 200 <= int(code) < 300
    ]


def test_every_success_response_has_a_typed_body():
    empty = []
    for path, method, code, response in _success_responses():
        if code == "204":
            assert "content" not in response, f"{method.upper()} {path} 204 describes a body"
            continue
        content = response.get("content") or {}
        schemas = [media.get("schema") for media in content.values()]
        if not schemas or any(not s for s in schemas):
            empty.append(f"{method.upper()} {path} {code}")
    assert not empty, "success responses without a schema:\n" + "\n".join(empty)


def test_schemas_name_their_fields():
    """A JSON answer is an object with declared properties, an array of such, or a union of them: no
    bare `{"type": "object"}` a client could not be typed from, except where a field is documented as free."""
    doc = json.loads(OPENAPI_PATH.read_text())
    components = doc["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        return components[ref.rsplit("/", 1)[1]] if ref else schema

    for path, method, code, response in _success_responses():
        for media, entry in (response.get("content") or {}).items():
            if media != "application/json":
                assert entry["schema"] == {"type": "string"}, (path, method, code)
                continue
            schema = resolve(entry["schema"])
            variants = schema.get("anyOf") or schema.get("oneOf") or [schema]
            for variant in variants:
                variant = resolve(variant)
                if variant.get("type") == "array":
                    variant = resolve(variant["items"])
                assert variant.get("properties") or variant.get("description"), (
                    f"{method.upper()} {path} {code}: an object without named fields or a description"
                )


def test_success_codes_come_from_the_docs():
    assert success_answers({}, "get")[200].model is None
    assert list(success_answers({}, "delete")) == [204]
    answers = success_answers({"responses": {"201": "made", "409": "taken"}, "response": int}, "post")
    assert list(answers) == [201] and answers[201].model is int
    split = success_answers(
        {"responses": {"200": "a", "202": "b"}, "response": {"200": int, "202": str}}, "post"
    )
    assert (split[200].model, split[202].model) == (int, str)


class Shape(Answer):
    id: int
    name: str
    note: str | None = None


class Probe(ApiHandler):
    """Answers what the query asks for: `?status=&body=` (JSON)."""

    docs = {
        "get": {"response": Shape},
        "post": {"response": Shape, "responses": {"201": "made"}},
        "delete": {},
    }

    def _answer(self) -> None:
        status = int(self.get_query_argument("status", "200"))
        body = self.get_query_argument("body", None)
        if body is None:
            self.set_status(status)
            self.finish()
        else:
            self.write_json(json.loads(body), status=status)

    async def get(self) -> None:
        self._answer()

    async def post(self) -> None:
        self._answer()

    async def delete(self) -> None:
        self._answer()


def _ask(check: bool, method: str, status: int, body: Any = None) -> tuple[int, dict[str, Any] | None]:
    async def run() -> tuple[int, dict[str, Any] | None]:
        port = free_port()
        app = Application([(r"/probe", Probe)], check_responses=check, admin_users=frozenset())
        server = app.listen(port, "127.0.0.1")
        try:
            query = urlencode({"status": status} | ({} if body is None else {"body": json.dumps(body)}))
            response = await AsyncHTTPClient().fetch(
                f"http://127.0.0.1:{port}/probe?{query}",
                method=method,
                body=b"" if method == "POST" else None,
                raise_error=False,
            )
            return response.code, (json.loads(response.body) if response.body else None)
        finally:
            server.stop()

    return asyncio.run(run())


GOOD = {"id": 1, "name": "a"}


@pytest.mark.parametrize(
    ("method", "status", "body", "complaint"),
    [
        ("GET", 200, {**GOOD, "secret": "x"}, "extra"),  # a field the document does not name
        ("GET", 200, {"id": 1}, "name"),  # a field the document promises is missing
        ("GET", 200, {"id": "1", "name": "a"}, "id"),  # the wrong type (strict: no "1" for 1)
        ("GET", 201, GOOD, "answered 201; its docs name [200]"),
        ("POST", 200, GOOD, "answered 200; its docs name [201]"),
        ("DELETE", 200, GOOD, "answered 200; its docs name [204]"),
    ],
)
def test_the_check_refuses_what_the_document_does_not_say(method, status, body, complaint):
    code, answer = _ask(True, method, status, body)
    assert code == 500 and answer is not None
    assert "Probe." + method.lower() in answer["message"] and complaint in answer["message"]
    # without the check (production's default) the same answer goes out unchanged
    assert _ask(False, method, status, body)[0] == status


@pytest.mark.parametrize(
    ("method", "status", "body"),
    [("GET", 200, GOOD), ("GET", 200, {**GOOD, "note": None}), ("POST", 201, GOOD), ("DELETE", 204, None)],
)
def test_the_check_lets_documented_answers_through(method, status, body):
    code, answer = _ask(True, method, status, body)
    assert code == status
    assert answer == body


def test_unit_check_answer_reports_the_route():
    with pytest.raises(AssertionError, match=r"Probe\.get answered 200 with JSON its model refuses"):
        check_answer(Probe, "get", 200, b'{"id": 1}')
    check_answer(Probe, "get", 200, b'{"id": 1, "name": "x"}')


def _lecture(**changes: Any) -> bytes:
    when = "2026-12-05T16:00:00+00:00"
    lecture = {"id": 3, "code": "c", "name": "n", "status": "active", "created_at": when, "updated_at": when}
    return json.dumps(lecture | changes).encode()


def test_answers_are_also_read_against_the_document_like_a_generated_client():
    """tests/support/document.py validates every JSON success answer of the test services against
    openapi.json with jsonschema (not pydantic): it refuses what the document does not allow."""
    version = "/api/version"
    check_against_document("GET", version, 200, b'{"version": "1.0"}', "application/json")
    refused = [
        (version, b'{"version": 1}', "1 is not of type 'string'"),
        (version, b'{"version": "1", "extra": 1}', "Additional properties"),
        (version, b"{}", "'version' is a required property"),
        ("/api/lectures/3", b'{"id": 3}', "is a required property"),
        ("/api/lectures/3", _lecture(id=None), "None is not of type 'integer'"),
        ("/api/lectures/3", _lecture(status="gone"), "'gone' is not one of ['active', 'archived']"),
    ]
    check_against_document("GET", "/api/lectures/3", 200, _lecture(), "application/json")
    for path, body, complaint in refused:
        with pytest.raises(AssertionError, match=re.escape(complaint)):
            check_against_document("GET", path, 200, body, "application/json")
    with pytest.raises(AssertionError, match="201 is not in the document"):
        check_against_document("GET", version, 201, b'{"version": "1.0"}', "application/json")
    assert template_of("/api/lectures/3/assignments/4/submissions/5/grading") == (
        "/api/lectures/{lecture_id}/assignments/{assignment_id}/submissions/{submission_id}/grading"
    )
