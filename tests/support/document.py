"""Answers checked the way a generated client reads them: against the checked-in OpenAPI document with a
JSON Schema validator (jsonschema, Draft 2020-12, as OpenAPI 3.1 specifies), not with the pydantic models the
document was generated from. The service's own `check_responses` proves the answers match the models; this
proves the document says what the models mean (nullable fields, optional fields, formats, unions)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from grader_service.api.health import OPENAPI_PATH

DOC_URI = "urn:grader-service:openapi"


@cache
def _document() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text())


@cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    """Each path template of the document as a regex over request paths, most specific first."""
    out = []
    for template in _document()["paths"]:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"[^/]+", re.escape(template))
        out.append((re.compile(f"^{pattern}$"), template))
    return sorted(out, key=lambda p: (p[1].count("{"), -len(p[1])))


@cache
def _validator(template: str, method: str, status: str) -> Draft202012Validator | None:
    responses = _document()["paths"][template][method]["responses"]
    schema = (responses.get(status, {}).get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    registry = Registry().with_resource(DOC_URI, Resource(contents=_document(), specification=DRAFT202012))
    rebased = json.loads(json.dumps(schema).replace('"#/components/', f'"{DOC_URI}#/components/'))
    return Draft202012Validator(rebased, registry=registry, format_checker=FormatChecker())


def template_of(path: str) -> str | None:
    for pattern, template in _routes():
        if pattern.match(path):
            return template
    return None


def check_against_document(method: str, url: str, status: int, body: bytes, content_type: str) -> None:
    """Raise AssertionError when a JSON success answer does not validate against the document."""
    if not 200 <= status < 300 or not content_type.startswith("application/json") or not body:
        return
    path = urlsplit(url).path
    template = template_of(path)
    if template is None or not path.startswith("/api/"):
        return
    operation = _document()["paths"][template].get(method.lower())
    assert operation is not None, (
        f"{method} {template} answered {status} but the document has no such operation"
    )
    assert str(status) in operation["responses"], f"{method} {template}: {status} is not in the document"
    validator = _validator(template, method.lower(), str(status))
    assert validator is not None, f"{method} {template} {status}: the document gives no JSON schema"
    errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(the answer)"
        message = f"{method} {template} {status}: the answer does not match the document at {where}"
        raise AssertionError(f"{message}: {first.message}")
