"""The OpenAPI document in the repo matches the registered routes, is valid, and is served."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from grader_service.api.health import OPENAPI_PATH
from grader_service.api.openapi import render
from tests.api.routes import registered_routes


def test_checked_in_document_is_current():
    assert OPENAPI_PATH.read_text() == render(), (
        "grader_service/api/openapi.json is stale: run `python -m grader_service.api.openapi --write`"
    )


def test_document_covers_every_route_and_method_and_is_valid():
    doc = json.loads(OPENAPI_PATH.read_text())
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    assert documented == set(registered_routes())
    validate(doc)


def test_served_document(service):
    r = service.request("GET", "/api/openapi.json")
    assert r.status_code == 200
    assert r.json() == json.loads(OPENAPI_PATH.read_text())
