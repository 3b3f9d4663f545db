"""The batch engine equals grade_lecture: the integer math on random lectures, and the whole SQL pipeline
(best/latest submission, late scaling, overrides, unattempted assignments) on both backends."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from grader_service.grades import grade_lecture
from grader_service.grades.recompute import create_recompute_job, run_lecture_recompute
from grader_service.grades.setwise import AssignmentInfo, LectureGrader
from grader_service.orm.grades import AssignmentGrade, AssignmentGradeOverride, LectureGrade
from grader_service.orm.models import Job, JobState, Submission
from tests.grades.seed import seed_lecture

TYPES = ["Homework", "Lab", "Exam"]
scores = st.one_of(
    st.integers(0, 40).map(float),
    st.integers(0, 4000).map(lambda n: n / 100),
    st.floats(0, 40, allow_nan=False, allow_infinity=False),
)


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True))
    weight = st.one_of(st.integers(0, 100).map(lambda n: n / 100), st.sampled_from([1 / 3, 0.125, 0.3333]))
    grader = [
        {
            "type": k,
            "min_count": draw(st.integers(0, 5)),
            "drop_count": draw(st.integers(0, 4)),
            "weight": draw(weight),
            "short_label": k[:2],
        }
        for k in kinds
    ]
    cutoffs = dict(
        zip(
            "ABCD",
            draw(st.lists(st.integers(0, 100).map(lambda n: n / 100), max_size=4, unique=True)),
            strict=False,
        )
    )
    return {"GRADER": grader, "GRADE_CUTOFFS": cutoffs}


@st.composite
def lectures(draw: st.DrawFn) -> tuple[list[AssignmentInfo], dict[int, tuple[float, float]]]:
    infos, effective = [], {}
    for i in range(draw(st.integers(0, 9))):
        points = draw(st.sampled_from([0.0, 1.0, 3.0, 7.5, 10.0, 33.0]))
        infos.append(
            AssignmentInfo(i + 1, f"a{i}", draw(st.sampled_from([*TYPES, "Quiz"])), points, i, "best")
        )
        if draw(st.booleans()):
            possible = draw(st.sampled_from([points, points, 0.0, 12.0]))
            effective[i + 1] = (min(draw(scores), possible * 1.5), possible)
    return infos, effective


def reference(
    policy: dict[str, Any], infos: list[AssignmentInfo], effective: dict[int, tuple[float, float]]
) -> dict[str, Any]:
    items = [
        {
            "type": a.type,
            "earned": effective.get(a.id, (0.0, a.points))[0],
            "possible": effective.get(a.id, (0.0, a.points))[1],
            "graded": True,
        }
        for a in infos
    ]
    return grade_lecture(policy, items)


@settings(max_examples=400, deadline=None)
@given(policies(), lectures())
def test_integer_engine_equals_grade_lecture(policy, lecture):
    infos, effective = lecture
    want = reference(policy, infos, effective)
    got = LectureGrader(policy, infos).grade(effective)
    assert (float(got.percent), got.letter, got.passed) == (want["percent"], want["letter"], want["passed"])


def test_batch_pipeline_equals_grade_lecture_on_random_data(grades_db):
    rng = random.Random(42)
    policy = {
        "GRADER": [
            {"type": "Homework", "min_count": 4, "drop_count": 2, "weight": 0.45, "short_label": "HW"},
            {"type": "Lab", "min_count": 1, "drop_count": 0, "weight": 0.2},
            {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.35},
        ],
        "GRADE_CUTOFFS": {"A": 0.85, "B": 0.7, "C": 0.5},
    }
    specs = [
        {"type": "Homework", "points": 10, "basis": "best"},
        {"type": "Homework", "points": 7, "basis": "latest"},
        {"type": "Homework", "points": 12.5},
        {"type": "Lab", "points": 20, "basis": "latest"},
        {"type": "Exam", "points": 50},
        {"type": "Quiz", "points": 5},
        {"type": "Homework", "points": 10, "status": "created"},
    ]
    with grades_db.session() as s:
        seeded = seed_lecture(
            s,
            learners=120,
            assignments=specs,
            policy=policy,
            rng=rng,
            submissions_per=(0, 3),
            scores=[0, 0.3, 0.45, 0.5, 0.675, 0.8, 0.9, 1.0, 0.333],
        )
    # overrides on some grades (created by a first pass), field by field
    with grades_db.session() as s:
        job = create_recompute_job(s, seeded.lecture_id, reason="test", assignment_ids=seeded.assignment_ids)
        s.commit()
    run_lecture_recompute(grades_db.session_factory, job.id, chunk_size=37)
    with grades_db.session() as s:
        grades = s.scalars(
            select(AssignmentGrade).where(AssignmentGrade.lecture_id == seeded.lecture_id)
        ).all()
        for g in rng.sample(grades, 25):
            s.add(
                AssignmentGradeOverride(
                    grade_id=g.id,
                    system="api",
                    earned_graded_override=rng.choice([None, 0.0, 3.5, 9.0]),
                    possible_graded_override=rng.choice([None, 10.0, 0.0]),
                )
            )
        job2 = create_recompute_job(s, seeded.lecture_id, reason="policy")
        s.commit()
    run_lecture_recompute(grades_db.session_factory, job2.id, chunk_size=50)

    with grades_db.session() as s:
        assert s.get(Job, job2.id).state == JobState.succeeded
        subs = s.scalars(select(Submission).where(Submission.assignment_id.in_(seeded.assignment_ids))).all()
        overrides = {
            (g.user_id, g.assignment_id): o
            for g, o in s.execute(
                select(AssignmentGrade, AssignmentGradeOverride).join(
                    AssignmentGradeOverride, AssignmentGradeOverride.grade_id == AssignmentGrade.id
                )
            )
        }
        stored = {
            lg.user_id: lg
            for lg in s.scalars(select(LectureGrade).where(LectureGrade.lecture_id == seeded.lecture_id))
        }
    counted = specs[:6]
    points = {aid: float(spec["points"]) for aid, spec in zip(seeded.assignment_ids, specs, strict=False)}
    basis = {aid: spec.get("basis", "best") for aid, spec in zip(seeded.assignment_ids, specs, strict=False)}
    by_key: dict[tuple[int, int], list[Submission]] = {}
    for sub in subs:
        by_key.setdefault((sub.user_id, sub.assignment_id), []).append(sub)
    assert len(stored) == len(seeded.user_ids)
    for uid in seeded.user_ids:
        items = []
        for aid, spec in zip(seeded.assignment_ids[:6], counted, strict=True):
            mine = by_key.get((uid, aid), [])
            if mine:
                pick = (
                    max(mine, key=lambda x: (x.final_score, x.submitted_at, x.id))
                    if basis[aid] == "best"
                    else max(mine, key=lambda x: (x.submitted_at, x.id))
                )
                earned, possible = pick.final_score, points[aid]
            else:
                earned, possible = 0.0, points[aid]
            o = overrides.get((uid, aid))
            if o is not None:
                earned = o.earned_graded_override if o.earned_graded_override is not None else earned
                possible = o.possible_graded_override if o.possible_graded_override is not None else possible
            items.append({"type": spec["type"], "earned": earned, "possible": possible, "graded": True})
        want = grade_lecture(policy, items)
        got = stored[uid]
        assert (got.percent_grade, got.letter_grade) == (want["percent"], want["letter"]), uid
        if want["passed"]:  # a learner who passed once keeps the timestamp even after an override lowers them
            assert got.passed_timestamp is not None
