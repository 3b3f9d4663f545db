"""grade_lecture end to end on hand-worked lectures: categories, rounding, letters, breakdown labels."""

from __future__ import annotations

from typing import Any

import pytest

from grader_service.grades import PolicyError, grade_lecture
from grader_service.grades.policy import parse_policy

POLICY: dict[str, Any] = {
    "GRADER": [
        {"type": "Homework", "min_count": 3, "drop_count": 1, "weight": 0.25, "short_label": "HW"},
        {"type": "Lab", "min_count": 2, "drop_count": 0, "weight": 0.25},
        {"type": "Final Exam", "min_count": 1, "drop_count": 0, "weight": 0.5, "short_label": "Final"},
    ],
    "GRADE_CUTOFFS": {"A": 0.9, "B": 0.8, "C": 0.6},
}


def item(kind: str, earned: Any, possible: Any, graded: Any = True, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "earned": earned, "possible": possible, "graded": graded, **extra}


ASSIGNMENTS = [
    item("Homework", 9, 10, name="hw1", id=1),  # 0.9
    item("Homework", 10, 10, graded=False, name="practice", id=2),  # ungraded: never counts
    item("Homework", 7, 10, name="hw2", id=3),  # 0.7
    item("Homework", 0, 0, name="hw3", id=4),  # nothing possible: not counted
    item("Lab", 17, 20, name="lab1", id=5),  # 0.85
    item("Quiz", 5, 5, name="quiz", id=6),  # type not in the policy: ignored
    item("Final Exam", 41, 50, name="final", id=7),  # 0.82
]


def test_worked_lecture() -> None:
    result = grade_lecture(POLICY, ASSIGNMENTS)
    # Homework: slots 0.9, 0.7, padding 0 (min 3); drop 1 → the padding; (0.9 + 0.7) / 2 = 0.8; × 0.25 = 0.2
    # Lab: 0.85 and padding 0 (min 2); (0.85 + 0) / 2 = 0.425; × 0.25 = 0.10625
    # Final: 41/50 = 0.82; × 0.5 = 0.41
    # raw = 0.2 + 0.10625 + 0.41 = 0.71625; 71.625 + 0.55 = 72.175 → 72 → 0.72 → C (≥ 0.6), passed.
    assert result["categories"] == {
        "Homework": {"percent": 0.8, "weighted": 0.2},
        "Lab": {"percent": 0.425, "weighted": 0.10625},
        "Final Exam": {"percent": 0.82, "weighted": 0.41},
    }
    assert result["percent_raw"] == 0.71625
    assert (result["percent"], result["letter"], result["passed"]) == (0.72, "C", True)


def test_worked_breakdown_labels_and_marks() -> None:
    breakdown = grade_lecture(POLICY, ASSIGNMENTS)["breakdown"]
    summary = [
        (e["label"], e["category"], e["percent"], e.get("dropped"), e.get("padded")) for e in breakdown
    ]
    assert summary == [
        ("HW 01", "Homework", 0.9, False, False),
        ("HW 02", "Homework", 0.7, False, False),
        ("HW 03", "Homework", 0.0, True, True),
        ("HW Avg", "Homework", 0.8, None, None),
        # No short_label: the type is the label.
        ("Lab 01", "Lab", 0.85, False, False),
        ("Lab 02", "Lab", 0.0, False, True),
        ("Lab Avg", "Lab", 0.425, None, None),
        # A category of one slot: one entry under the bare label, no number and no Avg.
        ("Final", "Final Exam", 0.82, False, False),
    ]
    # Extra keys are carried; the ignored assignments (ungraded, 0 possible, unknown type) appear nowhere.
    assert [e.get("name") for e in breakdown] == ["hw1", "hw2", None, None, "lab1", None, None, "final"]
    assert {e.get("id") for e in breakdown} == {1, 3, 5, 7, None}
    assert breakdown[0]["detail"] == "Homework 1 - 90.00% (9/10)"
    assert "dropped" in breakdown[2]["detail"]


def test_all_full_marks_is_an_a() -> None:
    full = [item("Homework", 1, 1)] * 3 + [item("Lab", 2, 2)] * 2 + [item("Final Exam", 3, 3)]
    # 1 × 0.25 + 1 × 0.25 + 1 × 0.5 = 1 → 100.55 → 100 → 1.0
    result = grade_lecture(POLICY, full)
    assert (result["percent_raw"], result["percent"], result["letter"], result["passed"]) == (
        1.0,
        1.0,
        "A",
        True,
    )


def test_nothing_submitted_is_zero_with_padded_slots() -> None:
    result = grade_lecture(POLICY, [])
    assert (result["percent_raw"], result["percent"], result["letter"], result["passed"]) == (
        0.0,
        0.0,
        "",
        False,
    )
    labels = [e["label"] for e in result["breakdown"]]
    assert labels == ["HW 01", "HW 02", "HW 03", "HW Avg", "Lab 01", "Lab 02", "Lab Avg", "Final"]
    # Drop 1 among three padding zeros: the later one, HW 03.
    assert [e.get("dropped") for e in result["breakdown"][:3]] == [False, False, True]


def test_rounding_reaches_the_next_cutoff() -> None:
    policy = {
        "GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 1}],
        "GRADE_CUTOFFS": {"A": 0.9},
    }
    # 8945/10000 = 0.8945 → raw 0.8945 → 89.45 + 0.55 = 90.00 → 0.90 → A although raw < 0.9.
    result = grade_lecture(policy, [item("Exam", 8945, 10000)])
    assert (result["percent_raw"], result["percent"], result["letter"]) == (0.8945, 0.9, "A")
    # 8944/10000 → 89.44 + 0.55 = 89.99 → 0.89 → no letter.
    assert grade_lecture(policy, [item("Exam", 8944, 10000)])["letter"] == ""


def test_rounding_is_exact_where_floats_would_slip() -> None:
    policy = {
        "GRADER": [{"type": "Lab", "min_count": 1, "drop_count": 0, "weight": 0.1}],
        "GRADE_CUTOFFS": {},
    }
    # 149/200 = 0.745; × 0.1 = 0.0745; 7.45 + 0.55 = 8.00 → 0.08. In floats 0.745 * 0.1 * 100 = 7.449999…,
    # which would floor to 7.
    result = grade_lecture(policy, [item("Lab", 149, 200)])
    assert result["percent"] == 0.08


def test_weights_are_not_normalised() -> None:
    policy = {
        "GRADER": [
            {"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 1},
            {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.5},
        ],
        "GRADE_CUTOFFS": {"Pass": 0.5},
    }
    # 1 × 1 + 0.6 × 0.5 = 1.3 → 130.55 → 1.3: above 100 %.
    result = grade_lecture(policy, [item("Homework", 4, 4), item("Exam", 3, 5)])
    assert (result["percent_raw"], result["percent"]) == (1.3, 1.3)
    # Weights below 1 in total cap the grade: Homework alone at 100 % with weight 0.4 → 0.4.
    half = {
        "GRADER": [{"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 0.4}],
        "GRADE_CUTOFFS": {},
    }
    assert grade_lecture(half, [item("Homework", 4, 4)])["percent"] == 0.4


def test_category_and_short_label_override_type() -> None:
    policy = {
        "GRADER": [
            {
                "type": "hw",
                "category": "Homework",
                "short_label": "Ex",
                "min_count": 2,
                "drop_count": 0,
                "weight": 1,
            }
        ],
        "GRADE_CUTOFFS": {},
    }
    result = grade_lecture(policy, [item("hw", 1, 2), item("hw", 1, 4)])
    # (0.5 + 0.25) / 2 = 0.375
    assert result["categories"] == {"Homework": {"percent": 0.375, "weighted": 0.375}}
    assert [e["label"] for e in result["breakdown"]] == ["Ex 01", "Ex 02", "Ex Avg"]
    assert {e["category"] for e in result["breakdown"]} == {"Homework"}


def test_min_count_one_with_two_assignments_is_numbered() -> None:
    policy = {"GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 1}], "GRADE_CUTOFFS": {}}
    result = grade_lecture(policy, [item("Exam", 1, 1), item("Exam", 0, 1)])
    # Two slots → numbered entries and an average: (1 + 0) / 2 = 0.5.
    assert [(e["label"], e["percent"]) for e in result["breakdown"]] == [
        ("Exam 01", 1.0),
        ("Exam 02", 0.0),
        ("Exam Avg", 0.5),
    ]


def test_category_of_one_when_nothing_submitted_or_dropped() -> None:
    policy = {"GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 1, "weight": 1}], "GRADE_CUTOFFS": {}}
    (entry,) = grade_lecture(policy, [item("Exam", 1, 1, id=9)])["breakdown"]
    # The only slot (1.0) is dropped: nothing left → the category (and the single entry) is 0.
    assert (entry["label"], entry["percent"], entry["dropped"], entry["id"]) == ("Exam", 0.0, True, 9)


def test_min_count_zero_and_no_assignment_shows_only_the_average() -> None:
    policy = {
        "GRADER": [{"type": "Bonus", "min_count": 0, "drop_count": 0, "weight": 0.1}],
        "GRADE_CUTOFFS": {},
    }
    result = grade_lecture(policy, [])
    assert [(e["label"], e["percent"]) for e in result["breakdown"]] == [("Bonus Avg", 0.0)]
    assert result["categories"] == {"Bonus": {"percent": 0.0, "weighted": 0.0}}


def test_computed_keys_win_over_carried_ones() -> None:
    policy = {"GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 1}], "GRADE_CUTOFFS": {}}
    (entry,) = grade_lecture(policy, [item("Exam", 1, 2, label="mine", percent=99, category="x")])[
        "breakdown"
    ]
    assert (entry["label"], entry["percent"], entry["category"]) == ("Exam", 0.5, "Exam")


def test_a_parsed_policy_grades_the_same() -> None:
    assert grade_lecture(parse_policy(POLICY), ASSIGNMENTS) == grade_lecture(POLICY, ASSIGNMENTS)


def test_bad_policy_raises_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"GRADER\[0\]\.weight"):
        grade_lecture({"GRADER": [{"type": "x", "min_count": 1, "drop_count": 0}], "GRADE_CUTOFFS": {}}, [])


@pytest.mark.parametrize(
    ("assignments", "error", "message"),
    [
        ("nope", TypeError, r"assignments: must be a list"),
        ([3], TypeError, r"assignments\[0\]: must be an object"),
        ([{"type": "Exam", "earned": 1, "possible": 1}], ValueError, r"assignments\[0\]\.graded: required"),
        (
            [item("Exam", 1, 1), item("Exam", -1, 1)],
            ValueError,
            r"assignments\[1\]\.earned: must be a finite",
        ),
        ([item("Exam", 1, "2")], ValueError, r"assignments\[0\]\.possible: must be a finite"),
        ([item("Exam", 1, float("inf"))], ValueError, r"assignments\[0\]\.possible: must be a finite"),
        ([item("Exam", 1, 1, graded=1)], TypeError, r"assignments\[0\]\.graded: must be true or false"),
        ([{"type": None, "earned": 1, "possible": 1, "graded": True}], TypeError, r"assignments\[0\]\.type"),
    ],
)
def test_bad_assignments_name_the_field(assignments: Any, error: type[Exception], message: str) -> None:
    policy = {"GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 1}], "GRADE_CUTOFFS": {}}
    with pytest.raises(error, match=message):
        grade_lecture(policy, assignments)
