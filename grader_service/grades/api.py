"""The grades package's one public face: everything services/ and tasks/ use of it, and nothing else.

Like Open edX's `grades/api.py`: callers outside the package import from here, so the modules behind it
(policy math, persistence, the set-wise batch, the gradebook queries) can be reorganised freely.
tests/grades/test_public_face.py fails when a module of services/ or tasks/ reaches past it.
"""

from __future__ import annotations

from grader_service.grades.gradebook import (
    GradebookFilters,
    decode_cursor,
    encode_cursor,
    fresh_lecture_grades,
    gradebook_learner,
    gradebook_page,
    grading_info,
)
from grader_service.grades.late import late_scaling, validate_late_periods
from grader_service.grades.overrides import (
    OVERRIDE_FIELDS,
    get_or_create_grade,
    override_history,
    set_override,
)
from grader_service.grades.persistence import counted_infos, ensure_snapshots, grader_for, lock_learners
from grader_service.grades.policy import PolicyError, parse_policy, policy_hash
from grader_service.grades.recompute import (
    JOB_KIND as RECOMPUTE_JOB_KIND,
)
from grader_service.grades.recompute import (
    create_recompute_job,
    recompute_learner,
    recompute_learners,
    run_lecture_recompute,
)
from grader_service.grades.reports import ReportContext
from grader_service.grades.reports import chunk as report_csv_chunk
from grader_service.grades.reports import header as report_csv_header
from grader_service.grades.setwise import effective_policy

__all__ = [
    "OVERRIDE_FIELDS",
    "RECOMPUTE_JOB_KIND",
    "GradebookFilters",
    "PolicyError",
    "ReportContext",
    "counted_infos",
    "create_recompute_job",
    "decode_cursor",
    "effective_policy",
    "encode_cursor",
    "ensure_snapshots",
    "fresh_lecture_grades",
    "get_or_create_grade",
    "gradebook_learner",
    "gradebook_page",
    "grader_for",
    "grading_info",
    "late_scaling",
    "lock_learners",
    "override_history",
    "parse_policy",
    "policy_hash",
    "recompute_learner",
    "recompute_learners",
    "report_csv_chunk",
    "report_csv_header",
    "run_lecture_recompute",
    "set_override",
    "validate_late_periods",
]
