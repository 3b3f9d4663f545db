"""Grading policy validation (field-named errors) and the policy hash."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest

from grader_service.grades import PolicyError, policy_hash, validate_policy
from grader_service.grades.policy import parse_policy


def make_policy() -> dict[str, Any]:
    return {
        "GRADER": [
            {"type": "Homework", "min_count": 3, "drop_count": 1, "weight": 0.4, "short_label": "HW"},
            {"type": "Final Exam", "min_count": 1, "drop_count": 0, "weight": 0.6, "short_label": "Final"},
        ],
        "GRADE_CUTOFFS": {"A": 0.9, "B": 0.8, "C": 0.5},
    }


def errors_of(policy: Any) -> list[dict[str, str]]:
    with pytest.raises(PolicyError) as info:
        validate_policy(policy)
    return info.value.errors


def test_valid_policy_passes_and_is_parsed_exactly() -> None:
    validate_policy(make_policy())
    parsed = parse_policy(make_policy())
    assert [r.short_label for r in parsed.rules] == ["HW", "Final"]
    # Cutoffs are ordered highest first whatever the key order.
    assert [letter for letter, _ in parsed.cutoffs] == ["A", "B", "C"]


def test_defaults_for_short_label_and_category_are_the_type() -> None:
    policy = {"GRADER": [{"type": "Lab", "min_count": 1, "drop_count": 0, "weight": 1}], "GRADE_CUTOFFS": {}}
    (rule,) = parse_policy(policy).rules
    assert (rule.short_label, rule.category) == ("Lab", "Lab")


def test_drop_count_above_min_count_is_allowed_as_in_edx() -> None:
    policy = make_policy()
    policy["GRADER"][0].update(min_count=1, drop_count=3)
    validate_policy(policy)


def test_weights_above_one_and_cutoffs_at_the_bounds_are_allowed() -> None:
    policy = make_policy()
    policy["GRADER"][0]["weight"] = 2
    policy["GRADE_CUTOFFS"] = {"A+": 1, "F": 0}
    validate_policy(policy)


def test_empty_grader_and_cutoffs_are_valid() -> None:
    validate_policy({"GRADER": [], "GRADE_CUTOFFS": {}})


def _mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    policy = make_policy()
    target: Any = policy
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return policy


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("GRADER", 1, "min_count"), _DELETE, "GRADER[1].min_count", "required"),
        (("GRADER", 0, "drop_count"), _DELETE, "GRADER[0].drop_count", "required"),
        (("GRADER", 0, "type"), _DELETE, "GRADER[0].type", "required"),
        (("GRADER", 0, "weight"), _DELETE, "GRADER[0].weight", "required"),
        (("GRADER", 0, "min_count"), -1, "GRADER[0].min_count", "at least 0"),
        (("GRADER", 0, "drop_count"), -2, "GRADER[0].drop_count", "at least 0"),
        (("GRADER", 0, "min_count"), 2.0, "GRADER[0].min_count", "whole number"),
        (("GRADER", 0, "min_count"), True, "GRADER[0].min_count", "whole number"),
        (("GRADER", 0, "min_count"), 1001, "GRADER[0].min_count", "at most 1000"),
        (("GRADER", 0, "weight"), "0.4 points", "GRADER[0].weight", "number"),
        (("GRADER", 0, "weight"), "-0.4", "GRADER[0].weight", "at least 0"),
        (("GRADER", 0, "min_count"), "2.5", "GRADER[0].min_count", "whole number"),
        (("GRADER", 0, "drop_count"), "-1", "GRADER[0].drop_count", "at least 0"),
        (("GRADER", 0, "weight"), True, "GRADER[0].weight", "number"),
        (("GRADER", 0, "weight"), float("nan"), "GRADER[0].weight", "finite"),
        (("GRADER", 0, "weight"), float("inf"), "GRADER[0].weight", "finite"),
        (("GRADER", 0, "weight"), -0.1, "GRADER[0].weight", "at least 0"),
        (("GRADER", 0, "type"), "", "GRADER[0].type", "non-empty string"),
        (("GRADER", 0, "type"), 3, "GRADER[0].type", "non-empty string"),
        (("GRADER", 0, "short_label"), 3, "GRADER[0].short_label", "must be a string"),
        (("GRADER", 0, "category"), None, "GRADER[0].category", "non-empty string"),
        (("GRADER", 0, "passing_grade"), "high", "GRADER[0].passing_grade", "number"),
        (("GRADER", 0, "hide_average"), "yes", "GRADER[0].hide_average", "true or false"),
        (("GRADER", 0, "starting_index"), -1, "GRADER[0].starting_index", "whole number"),
        (("GRADER", 0, "name"), "", "GRADER[0].name", "non-empty string"),
        (("GRADER", 0, "bonus"), 1, "GRADER[0].bonus", "unknown key"),
        (("GRADER", 1, "type"), "Homework", "GRADER[1].type", "already used by GRADER[0]"),
        (("GRADER", 1, "category"), "Homework", "GRADER[1].category", "already used by GRADER[0]"),
        (("GRADER", 1), "exam", "GRADER[1]", "must be an object"),
        (("GRADER",), {"type": "HW"}, "GRADER", "must be a list"),
        (("GRADER",), _DELETE, "GRADER", "required"),
        (("GRADE_CUTOFFS",), _DELETE, "GRADE_CUTOFFS", "required"),
        (("GRADE_CUTOFFS",), [0.9], "GRADE_CUTOFFS", "must be an object"),
        (("GRADE_CUTOFFS", "A"), 1.01, "GRADE_CUTOFFS.A", "within 0..1"),
        (("GRADE_CUTOFFS", "C"), -0.5, "GRADE_CUTOFFS.C", "within 0..1"),
        (("GRADE_CUTOFFS", "A"), "90%", "GRADE_CUTOFFS.A", "number"),
        (("GRADE_CUTOFFS", "A"), False, "GRADE_CUTOFFS.A", "number"),
        (("GRADE_CUTOFFS", ""), 0.3, "GRADE_CUTOFFS", "non-empty strings"),
        # Equal cutoffs: the later letter in sorted order is reported, so key order does not matter.
        (("GRADE_CUTOFFS", "B"), 0.9, "GRADE_CUTOFFS.B", "same cutoff as 'A'"),
        (("GRADE_CUTOFFS", "A"), 0.8, "GRADE_CUTOFFS.B", "same cutoff as 'A'"),
        (("PASSING",), 0.5, "PASSING", "unknown key"),
    ],
)
def test_each_bad_field_is_named_with_the_reason(
    path: tuple[Any, ...], value: Any, field: str, message: str
) -> None:
    errors = errors_of(_mutated(path, value))
    assert [e["field"] for e in errors] == [field]
    assert message in errors[0]["message"]


def test_not_an_object() -> None:
    assert errors_of(["GRADER"])[0]["field"] == "policy"


def test_every_problem_is_reported_at_once_and_the_message_lists_them() -> None:
    policy = make_policy()
    del policy["GRADER"][1]["min_count"]
    policy["GRADER"][0]["weight"] = "heavy"
    policy["GRADE_CUTOFFS"]["A"] = 2
    with pytest.raises(PolicyError) as info:
        validate_policy(policy)
    assert [e["field"] for e in info.value.errors] == [
        "GRADER[0].weight",
        "GRADER[1].min_count",
        "GRADE_CUTOFFS.A",
    ]
    assert "GRADER[1].min_count: required" in str(info.value)
    assert isinstance(info.value, ValueError)
    copied = pickle.loads(pickle.dumps(info.value))
    assert (copied.errors, str(copied)) == (info.value.errors, str(info.value))


def test_validation_does_not_change_the_policy() -> None:
    policy = make_policy()
    before = copy.deepcopy(policy)
    validate_policy(policy)
    assert policy == before


# Derived outside Python: printf '%s' '<json below>' | openssl sha1 -binary | base64
HASH_JSON = (
    '{"GRADER":[{"drop_count":1,"min_count":3,"short_label":"HW","type":"Homework","weight":0.4}],'
    '"GRADE_CUTOFFS":{"A":0.9,"B":0.8}}'
)
HASH_VALUE = "iN41PO+cGUNIyJGkB7n62iz5wcU="


def test_hash_is_base64_sha1_of_compact_sorted_json() -> None:
    # Keys deliberately unsorted: the hash sorts them, at every level.
    policy = {
        "GRADE_CUTOFFS": {"B": 0.8, "A": 0.9},
        "GRADER": [{"weight": 0.4, "type": "Homework", "short_label": "HW", "min_count": 3, "drop_count": 1}],
    }
    assert json.dumps(policy, sort_keys=True, separators=(",", ":")) == HASH_JSON
    assert policy_hash(policy) == HASH_VALUE
    assert len(HASH_VALUE) == 28


def test_hash_changes_with_any_value_and_with_grader_order() -> None:
    policy = make_policy()
    changed = make_policy()
    changed["GRADER"][0]["weight"] = 0.41
    reordered = make_policy()
    reordered["GRADER"].reverse()
    assert len({policy_hash(policy), policy_hash(changed), policy_hash(reordered)}) == 3
