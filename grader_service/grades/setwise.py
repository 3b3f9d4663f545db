"""Lecture grades of many learners at once: exact integer grading math over one chunk of assignment grades.

`grade_lecture` builds a labelled breakdown with Fractions for one learner (~250 µs). The batch only needs
each learner's percent, letter and passed, so it works on whole assignment percents in units of 1/10000
(they are rounded to 4 places anyway) and keeps to integers until the last Fraction. The result is the
same as `grade_lecture`'s for every input; tests/grades/test_recompute_equivalence.py checks that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

from grader_service.grades.calculate import (
    exact_assignment_percent,
    is_passed,
    letter_for,
    round_lecture_percent,
)
from grader_service.grades.policy import DEFAULT_POLICY, GradingPolicy, parse_policy, policy_hash

SCALE = 10_000  # assignment percents are rounded to 4 places: integers in units of 1/10000


class AssignmentInfo(NamedTuple):
    """What grading needs of a counted assignment (plain values, safe to keep across sessions)."""

    id: int
    name: str
    type: str
    points: float
    position: int
    basis: str


class LectureResult(NamedTuple):
    percent: Fraction
    letter: str
    passed: bool


@lru_cache(
    maxsize=1 << 16
)  # exact (Fraction) arithmetic; pages and recomputes meet the same pairs over and over
def percent_units(earned: float, possible: float) -> int:
    """earned / possible as whole units of 1/10000, rounded half to even exactly as grade_lecture does."""
    if possible <= 0:
        return 0
    return int(exact_assignment_percent(earned, possible) * SCALE)


def effective_policy(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The lecture's policy: the stored one, or DEFAULT_POLICY when it never set one."""
    return dict(stored) if stored else DEFAULT_POLICY


class LectureGrader:
    """Grades learners of one lecture under one policy and one list of counted assignments."""

    def __init__(self, policy: Mapping[str, Any], assignments: Sequence[AssignmentInfo]) -> None:
        self.policy = dict(policy)
        self.hash = policy_hash(self.policy)
        self.parsed: GradingPolicy = parse_policy(self.policy)
        self.assignments = list(assignments)
        self._by_rule = [
            (
                rule.min_count,
                rule.drop_count,
                rule.weight,
                [(a.id, a.points) for a in self.assignments if a.type == rule.type],
            )
            for rule in self.parsed.rules
        ]
        nonzero = [cutoff for _, cutoff in self.parsed.cutoffs if cutoff > 0]
        #: the fewest whole percents that pass (is_passed on whole percents), None when nothing passes
        self._pass_percents = math.ceil(min(nonzero) * 100) if nonzero else None

    def grade(self, effective: Mapping[int, tuple[float, float]]) -> LectureResult:
        """`effective` maps assignment id → (earned_graded, possible_graded) with overrides applied; an
        assignment without an entry was not attempted and counts as 0 of its points."""
        raw = Fraction(0)
        for min_count, drop_count, weight, members in self._by_rule:
            values: list[int] = []
            for aid, points in members:
                earned, possible = effective.get(aid, (0.0, points))
                if possible > 0:
                    values.append(percent_units(earned, possible))
            slots = max(len(values), min_count)
            kept = slots - drop_count
            if kept <= 0 or not weight:
                continue
            # Padding zeros are the lowest slots, so they are dropped first; which of equal values is
            # dropped does not change the sum.
            drop_real = drop_count - (slots - len(values))
            total = sum(sorted(values)[drop_real:]) if drop_real > 0 else sum(values)
            if total:
                raw += Fraction(total, kept * SCALE) * weight
        percent = round_lecture_percent(raw)
        return LectureResult(
            percent, letter_for(percent, self.parsed.cutoffs), is_passed(percent, self.parsed.cutoffs)
        )

    def passed(self, percent: float) -> bool:
        """Whether a stored percent (whole percents, as a fraction) passes under this policy: what
        is_passed(Fraction(round(percent × 100), 100), cutoffs) says, in integers."""
        return self._pass_percents is not None and round(percent * 100) >= self._pass_percents
