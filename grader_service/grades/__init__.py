"""Grades subsystem: pure edX-style grading math (policy, assignment, category and lecture grades)."""

from grader_service.grades.calculate import assignment_percent
from grader_service.grades.lecture import grade_lecture
from grader_service.grades.policy import PolicyError, policy_hash, validate_policy

__all__ = ["PolicyError", "assignment_percent", "grade_lecture", "policy_hash", "validate_policy"]
