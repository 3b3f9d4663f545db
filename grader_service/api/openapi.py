"""Builds the OpenAPI 3 document from the route table and the request models.

`python -m grader_service.api.openapi --write` regenerates grader_service/api/openapi.json; a test keeps the
checked-in file equal to what this builds, so the document cannot drift from the registered routes.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from pydantic import TypeAdapter

from grader_service import __version__
from grader_service.api import default_handlers
from grader_service.api.answers import JSON, success_answers
from grader_service.api.health import OPENAPI_PATH
from grader_service.auth.decorators import HTTP_METHODS, permission_of
from grader_service.auth.roles import GLOBAL_PERMISSIONS, PERMISSIONS

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "the offending field, when there is one"},
    },
}


def _who(permission: str) -> str:
    if permission in GLOBAL_PERMISSIONS:
        return GLOBAL_PERMISSIONS[permission]
    roles = sorted(r.value for r in PERMISSIONS[permission])
    return f"lecture roles: {', '.join(roles)} (and admins); permission `{permission}`"


def _schema_for(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    title = schema.get("title")
    if title and schema.get("type") == "object":
        components[title] = schema
        return {"$ref": f"#/components/schemas/{title}"}
    return schema


def build_document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for pattern, handler in default_handlers:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        params = [
            {
                "name": n,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if n.endswith("_id") else "string"},
            }
            for n in re.findall(r"\{(\w+)\}", path)
        ]
        item: dict[str, Any] = {}
        docs = getattr(handler, "docs", {})
        for method in HTTP_METHODS:
            if method not in handler.__dict__:
                continue
            doc = docs.get(method, {})
            permission = permission_of(handler, method) or ""
            op: dict[str, Any] = {
                "operationId": f"{handler.__name__}.{method}",
                "summary": doc.get("summary", ""),
                "description": f"Who may call it: {_who(permission)}.",
                "parameters": params
                + [
                    {
                        "name": q,
                        "in": "query",
                        "required": False,
                        "description": d,
                        "schema": {"type": "string"},
                    }
                    for q, d in doc.get("query", {}).items()
                ],
                "responses": {},
            }
            if permission == "public":
                op["security"] = []
            if "body" in doc:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _schema_for(doc["body"], components)}},
                }
            for code, answer in success_answers(doc, method).items():
                entry: dict[str, Any] = {"description": answer.description}
                if code != 204:
                    if answer.content_type == JSON:
                        schema = _schema_for(answer.model, components) if answer.model is not None else {}
                    else:
                        schema = {"type": "string"}
                    entry["content"] = {answer.content_type: {"schema": schema}}
                op["responses"][str(code)] = entry
            errors = {code: text for code, text in doc.get("responses", {}).items() if int(code) >= 400}
            if "body" in doc:
                errors.setdefault("400", "malformed JSON, unknown field, wrong type or out-of-range value")
            if permission != "public":
                errors.setdefault("401", "no token, or an invalid or expired one")
            if permission not in ("public", "authenticated"):
                errors.setdefault("403", "the caller's role does not allow this")
            if "{lecture_id}" in path:
                errors.setdefault("404", "no such resource, or the caller may not see it")
            declared = doc.get("response")
            for code, text in sorted(errors.items()):
                # an error answer has the Error envelope unless the docs name its own model (`response`
                # by code: the health probe's 503, a bulk update's 422 with every item's outcome)
                own = declared.get(code) if isinstance(declared, dict) else None
                schema = (
                    _schema_for(own, components)
                    if own is not None
                    else {"$ref": "#/components/schemas/Error"}
                )
                op["responses"][code] = {"description": text, "content": {JSON: {"schema": schema}}}
            item[method] = op
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Grader Service REST API",
            "version": __version__,
            "description": "Send the API token as `Authorization: token <token>` (or Bearer).",
        },
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <value>` or `Bearer <value>`",
                }
            },
        },
    }


def render() -> str:
    return json.dumps(build_document(), indent=1, sort_keys=False) + "\n"


def main() -> None:
    text = render()
    if "--write" in sys.argv:
        OPENAPI_PATH.write_text(text)
        print(f"wrote {OPENAPI_PATH}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
