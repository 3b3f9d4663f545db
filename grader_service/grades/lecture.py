"""grade_lecture: a learner's lecture grade, per-category results and labelled breakdown from a policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from grader_service.grades.calculate import (
    CategoryResult,
    category_average,
    exact_assignment_percent,
    is_passed,
    letter_for,
    round_lecture_percent,
)
from grader_service.grades.numbers import describe, is_number
from grader_service.grades.policy import GraderRule, GradingPolicy, parse_policy


def grade_lecture(
    policy: Mapping[str, Any] | GradingPolicy, assignments: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Grade one learner: `assignments` are `{"type", "earned", "possible", "graded", ...}` graded totals.

    Returns `{"percent_raw", "percent", "letter", "passed", "categories", "breakdown"}`. Assignments
    of a type the policy does not name, ungraded ones and ones with nothing possible are ignored.
    Extra keys of an assignment (name, id...) are carried into its breakdown entry. A batch may pass
    `parse_policy(policy)` once instead of the raw policy to skip validating it for every learner.
    Raises PolicyError for a bad policy; for a bad assignment, ValueError (TypeError for a wrong type)
    naming the field, e.g. `assignments[3].earned`.
    """
    parsed = policy if isinstance(policy, GradingPolicy) else parse_policy(policy)
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for index, assignment in enumerate(_check_list(assignments)):
        _check_assignment(index, assignment)
        if assignment["graded"] and assignment["possible"] > 0:
            by_type.setdefault(assignment["type"], []).append(assignment)

    raw = Fraction(0)
    categories: dict[str, dict[str, float]] = {}
    breakdown: list[dict[str, Any]] = []
    for rule in parsed.rules:
        counted = by_type.get(rule.type, [])
        percents = [exact_assignment_percent(a["earned"], a["possible"]) for a in counted]
        result = category_average(percents, rule.min_count, rule.drop_count)
        weighted = result.percent * rule.weight
        raw += weighted
        categories[rule.category] = {"percent": float(result.percent), "weighted": float(weighted)}
        breakdown.extend(_category_entries(rule, counted, result))

    percent = round_lecture_percent(raw)
    return {
        "percent_raw": float(raw),
        "percent": float(percent),
        "letter": letter_for(percent, parsed.cutoffs),
        "passed": is_passed(percent, parsed.cutoffs),
        "categories": categories,
        "breakdown": breakdown,
    }


def _category_entries(
    rule: GraderRule, counted: Sequence[Mapping[str, Any]], result: CategoryResult
) -> list[dict[str, Any]]:
    """One entry per slot plus the average, or a single bare-label entry for a category of one slot."""
    slots = [_slot_entry(rule, counted, result, index) for index in range(len(result.slots))]
    if len(slots) == 1:
        # As edX: a single slot is shown once, under the bare label, with the category's percent.
        only = slots[0]
        only.update(
            label=rule.short_label, percent=float(result.percent), detail=_single_detail(rule, result)
        )
        return [only]
    average = {
        "label": f"{rule.short_label} Avg",
        "category": rule.category,
        "percent": float(result.percent),
        "detail": f"{rule.type} Average = {_percent_text(result.percent)}" + _drop_note(rule),
    }
    return [*slots, average]


def _slot_entry(
    rule: GraderRule, counted: Sequence[Mapping[str, Any]], result: CategoryResult, index: int
) -> dict[str, Any]:
    number = index + 1
    percent = result.slots[index]
    dropped = index in result.dropped
    if index < len(counted):
        assignment = counted[index]
        entry: dict[str, Any] = dict(assignment)
        detail = (
            f"{rule.type} {number} - {_percent_text(percent)} "
            f"({float(assignment['earned']):g}/{float(assignment['possible']):g})"
        )
    else:
        entry = {}
        detail = f"{rule.type} {number} not graded yet - 0% (?/?)"
    if dropped:
        detail += " - dropped" + _drop_note(rule)
    # Computed keys win over carried ones of the same name.
    entry.update(
        label=f"{rule.short_label} {number:02d}",
        category=rule.category,
        percent=float(percent),
        detail=detail,
        dropped=dropped,
        padded=index >= len(counted),
    )
    return entry


def _single_detail(rule: GraderRule, result: CategoryResult) -> str:
    return f"{rule.type} = {_percent_text(result.percent)}" + (_drop_note(rule) if result.dropped else "")


def _drop_note(rule: GraderRule) -> str:
    if rule.drop_count == 0:
        return ""
    return f" (the lowest {rule.drop_count} {rule.type} scores are dropped)"


def _percent_text(value: Fraction) -> str:
    return f"{float(value):.2%}"


def _check_list(assignments: Any) -> Sequence[Any]:
    if isinstance(assignments, str | bytes) or not isinstance(assignments, Sequence):
        raise TypeError(f"assignments: must be a list, got {describe(assignments)}")
    return assignments


def _check_assignment(index: int, assignment: Any) -> None:
    prefix = f"assignments[{index}]"
    if not isinstance(assignment, Mapping):
        raise TypeError(f"{prefix}: must be an object, got {describe(assignment)}")
    for key in ("type", "earned", "possible", "graded"):
        if key not in assignment:
            raise ValueError(f"{prefix}.{key}: required")
    if not isinstance(assignment["type"], str):
        raise TypeError(f"{prefix}.type: must be a string, got {describe(assignment['type'])}")
    if not isinstance(assignment["graded"], bool):
        raise TypeError(f"{prefix}.graded: must be true or false, got {describe(assignment['graded'])}")
    for key in ("earned", "possible"):
        value = assignment[key]
        if not is_number(value) or value < 0:
            raise ValueError(f"{prefix}.{key}: must be a finite number at least 0, got {describe(value)}")
