"""Grades subsystem: edX-style grading math, persistent grades and overrides, the gradebook, reports.

Callers outside the package (services/, tasks/) use it only through `grader_service.grades.api`.

The defining math is `grade_lecture` (grades/lecture.py, on the arithmetic of grades/calculate.py and the
policy of grades/policy.py): exact Fractions, one learner, with a labelled breakdown. Two fast copies must
give the same percent, letter and passed for every input:
- set-wise: `LectureGrader` (grades/setwise.py), integer math over whole chunks of learners, which the
  batch recompute, stale reads, the gradebook and the report use;
- SQL: the assignment grades and their override-aware percents computed in the database
  (`upsert_assignment_grades`, `percent_of` / `effective_percent_of` in grades/persistence.py), which feed
  it.
tests/grades/test_recompute_equivalence.py keeps them equal: the integer engine against `grade_lecture` on
random policies and lectures, and the whole SQL pipeline against `grade_lecture` on both backends.
"""

from grader_service.grades.calculate import assignment_percent
from grader_service.grades.lecture import grade_lecture
from grader_service.grades.policy import PolicyError, policy_hash, validate_policy

__all__ = ["PolicyError", "assignment_percent", "grade_lecture", "policy_hash", "validate_policy"]
