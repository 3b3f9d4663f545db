"""Response models: what each route of the REST API answers, one pydantic model per shape.

The serialisers build these models, the OpenAPI document is generated from them (`api/openapi.py`, via each
handler's `docs[method]["response"]`), and with the app's `check_responses` on (the test suite) every answer
is validated against its route's model before it leaves (`api/answers.py`). A field a builder leaves unset
is left out of the answer: such fields have a default and are optional in the document (a student's job
view has no `log`, say); a field set to None is sent as null.

Modules by area: `resources` (users, lectures, members, assignments, submissions), `jobs`, `grading`
(grading records and feedback), `gradebook` (grades, policy, overrides), `service` (health, version,
remote workers).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """Base of the response models: no field beyond the declared ones (so the document lists them all)."""

    model_config = ConfigDict(extra="forbid")
