"""Property-based tests of the grading math, the policy hash and late penalties (hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from grader_service.grades import PolicyError, assignment_percent, grade_lecture, policy_hash, validate_policy
from grader_service.grades.calculate import category_average
from grader_service.grades.late import late_scaling, parse_iso_duration

PROPERTY = settings(max_examples=150)
TYPES = ["Homework", "Lab", "Exam"]

hundredths = st.integers(0, 100).map(lambda n: n / 100)


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True))
    grader = [
        {
            "type": kind,
            "min_count": draw(st.integers(0, 4)),
            "drop_count": draw(st.integers(0, 5)),
            "weight": draw(hundredths),
            "short_label": kind[:2].upper(),
        }
        for kind in kinds
    ]
    values = draw(st.lists(hundredths, max_size=4, unique=True))
    cutoffs = {letter: value for letter, value in zip("ABCD", values, strict=False)}
    return {"GRADER": grader, "GRADE_CUTOFFS": cutoffs}


@st.composite
def assignment_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    result = []
    for _ in range(draw(st.integers(0, 10))):
        possible = draw(st.integers(0, 50))
        result.append(
            {
                "type": draw(st.sampled_from([*TYPES, "Quiz"])),
                "earned": draw(st.integers(0, possible)),
                "possible": possible,
                "graded": draw(st.booleans()),
            }
        )
    return result


def exact(value: float) -> Fraction:
    return Fraction(repr(value))


@PROPERTY
@given(policies(), assignment_lists())
def test_percent_stays_within_zero_and_the_weight_sum(
    policy: dict[str, Any], assignments: list[dict[str, Any]]
) -> None:
    result = grade_lecture(policy, assignments)
    total_weight = sum((exact(rule["weight"]) for rule in policy["GRADER"]), Fraction(0))
    # Weights are whole percents here, so rounding can never push the percent past their sum.
    assert 0 <= exact(result["percent"]) <= total_weight
    # floor(r·100 + 0.55)/100 lies within (raw − 0.0045, raw + 0.0055]; 1e-12 absorbs float(raw).
    assert -0.0045 - 1e-12 < result["percent"] - result["percent_raw"] <= 0.0055 + 1e-12
    assert all(0 <= category["percent"] <= 1 for category in result["categories"].values())


@PROPERTY
@given(policies(), assignment_lists(), st.data())
def test_more_earned_never_lowers_the_grade(
    policy: dict[str, Any], assignments: list[dict[str, Any]], data: st.DataObject
) -> None:
    if not assignments:
        return
    index = data.draw(st.integers(0, len(assignments) - 1))
    better = [dict(a) for a in assignments]
    better[index]["earned"] += data.draw(st.integers(0, better[index]["possible"] - better[index]["earned"]))
    before, after = grade_lecture(policy, assignments), grade_lecture(policy, better)
    assert after["percent_raw"] >= before["percent_raw"]
    assert after["percent"] >= before["percent"]
    assert after["passed"] >= before["passed"]


@PROPERTY
@given(st.lists(st.integers(0, 10000), max_size=8), st.integers(0, 8), st.integers(0, 8))
def test_dropping_one_more_never_lowers_the_average(
    scores: list[int], min_count: int, drop_count: int
) -> None:
    percents = [Fraction(s, 10000) for s in scores]
    fewer = category_average(percents, min_count, drop_count)
    more = category_average(percents, min_count, drop_count + 1)
    # Holds while one slot is left; dropping the last one gives 0 by definition.
    if drop_count + 1 < len(fewer.slots):
        assert more.percent >= fewer.percent
    assert len(more.dropped) == min(drop_count + 1, len(more.slots))


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


@PROPERTY
@given(policies())
def test_hash_and_grade_ignore_key_order(policy: dict[str, Any]) -> None:
    reordered = _reversed_keys(policy)
    assert policy_hash(reordered) == policy_hash(policy)
    assert policy_hash(json.loads(json.dumps(policy))) == policy_hash(policy)
    full = [{"type": kind, "earned": 1, "possible": 1, "graded": True} for kind in TYPES]
    assert grade_lecture(reordered, full) == grade_lecture(policy, full)


@PROPERTY
@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_assignment_percent_matches_decimal_half_even(earned: int, possible: int) -> None:
    with localcontext() as context:
        context.prec = 60  # exact for every terminating quotient, so ties are seen as ties
        oracle = (Decimal(earned) / Decimal(possible)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    assert assignment_percent(earned, possible) == float(oracle)


@PROPERTY
@given(policies(), assignment_lists())
def test_letter_is_the_highest_cutoff_reached_and_passed_the_lowest_nonzero(
    policy: dict[str, Any], assignments: list[dict[str, Any]]
) -> None:
    result = grade_lecture(policy, assignments)
    percent = exact(result["percent"])
    reached = {letter: exact(c) for letter, c in policy["GRADE_CUTOFFS"].items() if exact(c) <= percent}
    expected = max(reached, key=lambda letter: reached[letter]) if reached else ""
    assert result["letter"] == expected
    nonzero = [exact(c) for c in policy["GRADE_CUTOFFS"].values() if c > 0]
    assert result["passed"] == (bool(nonzero) and percent >= min(nonzero))


@PROPERTY
@given(
    st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 100)), max_size=5),
    st.integers(-(10**6), 3 * 10**6),
    st.integers(0, 10**6),
)
def test_later_submissions_never_scale_higher(steps: list[tuple[int, int]], late: int, extra: int) -> None:
    # Build valid periods: strictly increasing lengths, strictly decreasing scalings.
    periods, length, scaling = [], 0, 101
    for step, drop in steps:
        length, scaling = length + step, scaling - 1 - drop
        if scaling < 0:
            break
        periods.append({"period": timedelta(seconds=length), "scaling": scaling / 100})
    deadline = datetime(2024, 1, 1, tzinfo=UTC)
    earlier = late_scaling(deadline, deadline + timedelta(seconds=late), periods)
    later = late_scaling(deadline, deadline + timedelta(seconds=late + extra), periods)
    rank = -1.0 if later is None else later
    assert rank <= (-1.0 if earlier is None else earlier)


@PROPERTY
@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_duration_round_trip(days: int, hours: int, minutes: int, seconds: int) -> None:
    text = f"P{days}DT{hours}H{minutes}M{seconds}S"
    assert parse_iso_duration(text) == timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


grader_keys = st.sampled_from(["type", "min_count", "drop_count", "weight", "x"])
policy_like = st.fixed_dictionaries(
    {
        "GRADER": st.lists(st.dictionaries(grader_keys, json_values, max_size=5), max_size=3),
        "GRADE_CUTOFFS": st.dictionaries(st.text(max_size=2), json_values, max_size=3),
    }
)


@PROPERTY
@given(st.one_of(json_values, policy_like))
def test_any_input_is_either_valid_or_a_policy_error(policy: Any) -> None:
    try:
        validate_policy(policy)
    except PolicyError as error:
        assert error.errors and all(set(e) == {"field", "message"} for e in error.errors)
    else:
        grade_lecture(policy, [])


@PROPERTY
@given(
    policies(),
    st.lists(st.floats(0, 1.5, allow_nan=False), min_size=1, max_size=20),
    st.lists(st.decimals(0, 1, places=4).map(float), max_size=3, unique=True),
)
def test_stored_percent_passes_as_the_exact_cutoff_comparison_says(policy, percents, odd_cutoffs):  # type: ignore[no-untyped-def]
    """LectureGrader.passed compares whole percents with the lowest non-zero cutoff in integers; it must agree
    with the exact comparison, for cutoffs on whole percents and between them (0.855)."""
    from grader_service.grades.calculate import is_passed
    from grader_service.grades.policy import parse_policy
    from grader_service.grades.setwise import LectureGrader

    cutoffs = dict(policy["GRADE_CUTOFFS"])
    taken = set(cutoffs.values())
    cutoffs.update({f"X{i}": value for i, value in enumerate(odd_cutoffs) if value not in taken})
    policy = {**policy, "GRADE_CUTOFFS": cutoffs}
    grader = LectureGrader(policy, [])
    parsed = parse_policy(policy).cutoffs
    for percent in [*percents, *(c for c in cutoffs.values()), *(c - 0.01 for c in cutoffs.values())]:
        assert grader.passed(percent) == is_passed(Fraction(round(percent * 100), 100), parsed), (
            percent,
            cutoffs,
        )
