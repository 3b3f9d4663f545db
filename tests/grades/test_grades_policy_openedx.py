"""Grading policies as Open edX writes them (course export `grading_policy.json`, Studio's stored form)
are accepted unchanged and grade exactly as their plain-number equivalents; over HTTP too."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from typing import Any

from grader_service.grades.lecture import grade_lecture
from grader_service.grades.policy import parse_policy, policy_hash
from tests.support.world import build_world

# The shape of an export with a single-section grader: `name` and no counts (Open edX's older
# SingleSectionGrader, which it now reads as one assignment of the type).
EXPORT_SINGLE_SECTION = {
    "GRADER": [
        {"type": "Homework", "min_count": 4, "drop_count": 1, "short_label": "HW", "weight": 0.6},
        {"type": "Final Exam", "name": "Final Exam", "short_label": "Final", "weight": 0.4},
    ],
    "GRADE_CUTOFFS": {"A": 0.85, "B": 0.7, "C": 0.55},
}
# What Studio's grading form sends and stores: counts and weights as numeric strings, an empty short
# label, the grader's `id`, a `passing_grade` and the display switches of the assignment-format grader.
STUDIO_STRINGS = {
    "GRADER": [
        {
            "id": 0,
            "type": "Homework",
            "min_count": "4",
            "drop_count": "1",
            "short_label": "HW",
            "weight": "0.6",
            "passing_grade": "50",
        },
        {
            "id": 1,
            "type": "Final Exam",
            "min_count": " 1 ",
            "drop_count": "0",
            "short_label": "",
            "weight": "0.40",
            "section_type": "Final",
            "show_only_average": False,
            "hide_average": True,
            "starting_index": "1",
        },
    ],
    "GRADE_CUTOFFS": {"A": 0.85, "B": 0.7, "C": 0.55},
}
PLAIN = {
    "GRADER": [
        {"type": "Homework", "min_count": 4, "drop_count": 1, "short_label": "HW", "weight": 0.6},
        {"type": "Final Exam", "min_count": 1, "drop_count": 0, "short_label": "Final Exam", "weight": 0.4},
    ],
    "GRADE_CUTOFFS": {"A": 0.85, "B": 0.7, "C": 0.55},
}

LEARNER = [
    {"type": "Homework", "earned": 8, "possible": 10, "graded": True},
    {"type": "Homework", "earned": 3, "possible": 10, "graded": True},
    {"type": "Homework", "earned": 10, "possible": 10, "graded": True},
    {"type": "Final Exam", "earned": 31, "possible": 40, "graded": True},
]


def test_both_open_edx_forms_parse_to_the_plain_rules():
    plain = parse_policy(PLAIN)
    for doc in (EXPORT_SINGLE_SECTION, STUDIO_STRINGS):
        before = copy.deepcopy(doc)
        parsed = parse_policy(doc)
        assert doc == before  # accepted unchanged: nothing is rewritten in place
        assert [(r.type, r.min_count, r.drop_count, r.weight) for r in parsed.rules] == [
            (r.type, r.min_count, r.drop_count, r.weight) for r in plain.rules
        ]
        assert parsed.cutoffs == plain.cutoffs
    assert parse_policy(STUDIO_STRINGS).rules[1].short_label == "Final Exam"  # "" shows the type
    assert parse_policy(EXPORT_SINGLE_SECTION).rules[1].short_label == "Final"
    assert parse_policy(STUDIO_STRINGS).rules[0].weight == Fraction(3, 5)  # exact, not float("0.6")


def test_they_grade_exactly_as_the_plain_policy():
    expected = grade_lecture(PLAIN, LEARNER)
    for doc in (EXPORT_SINGLE_SECTION, STUDIO_STRINGS):
        got = grade_lecture(doc, LEARNER)
        assert (got["percent"], got["letter"], got["passed"]) == (
            expected["percent"],
            expected["letter"],
            expected["passed"],
        )
        assert got["categories"] == expected["categories"]
    # homework 0.8, 0.3, 1.0 and a padded 0 (dropped): 0.7 * 0.6 + final 0.775 * 0.4 = 0.73 -> B
    assert (expected["percent"], expected["letter"]) == (0.73, "B")


def test_a_counted_name_grader_keeps_its_counts():
    """`name` next to explicit counts is just a label (Open edX drops it for the assignment grader)."""
    doc: dict[str, Any] = json.loads(json.dumps(PLAIN))
    doc["GRADER"][0]["name"] = "Problem sets"
    assert parse_policy(doc).rules[0].min_count == 4


def test_the_api_takes_an_export_unchanged_and_serves_it_back(service, inline):
    world = build_world(service)
    path = world.lecture_path + "/grading-policy"
    r = world.req("instructor", "PUT", path, json=STUDIO_STRINGS)
    assert r.status_code == 202, r.text
    inline.drain()
    got = world.req("tutor", "GET", path).json()
    assert got["policy"] == STUDIO_STRINGS and got["policy_hash"] == policy_hash(STUDIO_STRINGS)
    assert got["recompute_job"]["state"] == "succeeded"
    info = world.req("tutor", "GET", world.lecture_path + "/gradebook/grading-info").json()
    assert [(c["type"], c["min_count"], c["drop_count"], c["weight"]) for c in info["categories"]] == [
        ("Homework", 4, 1, 0.6),
        ("Final Exam", 1, 0, 0.4),
    ]
    # a bad extra is still named, and nothing is stored
    bad = copy.deepcopy(EXPORT_SINGLE_SECTION)
    bad["GRADER"][1]["weight"] = "forty percent"
    r = world.req("instructor", "PUT", path, json=bad)
    assert r.status_code == 400 and r.json()["field"] == "GRADER[1].weight", r.text
    assert world.req("tutor", "GET", path).json()["policy"] == STUDIO_STRINGS


def test_the_openapi_document_says_which_override_fields_enter_the_grade():
    from grader_service.api.health import OPENAPI_PATH

    schema = json.loads(OPENAPI_PATH.read_text())["components"]["schemas"]["GradeOverrideFields"]
    fields = schema["properties"]
    for name in ("earned_graded_override", "possible_graded_override"):
        assert fields[name]["description"].startswith("Enters the grade")
    for name in ("earned_all_override", "possible_all_override", "comment"):
        assert "Enters the grade" not in fields[name]["description"]
        assert "record" in fields[name]["description"].lower()
