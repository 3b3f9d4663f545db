"""A fresh lecture with one user per role (and outsiders), assignments and a submission, for API tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from grader_service.git.names import RepoRef
from grader_service.orm.models import (
    Assignment,
    AssignmentStatus,
    Job,
    JobState,
    Lecture,
    LectureMember,
    Role,
    Submission,
)
from grader_service.services.users import get_or_create_user
from tests.support.server import ServiceProcess


@dataclass
class LectureWorld:
    service: ServiceProcess
    lecture_id: int
    other_lecture_id: int
    released_id: int
    unreleased_id: int
    submission_id: int
    job_id: int
    lecture_code: str
    tokens: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def req(self, who: str | None, method: str, path: str, **kw):  # type: ignore[no-untyped-def]
        token = self.tokens.get(who) if who else None
        return self.service.request(method, path, token=token, **kw)

    @property
    def lecture_path(self) -> str:
        return f"/api/lectures/{self.lecture_id}"

    @property
    def released_path(self) -> str:
        return f"{self.lecture_path}/assignments/{self.released_id}"


def build_world(service: ServiceProcess) -> LectureWorld:
    tag = uuid.uuid4().hex[:8]
    names = {
        role: f"{role}-{tag}"
        for role in ("instructor", "tutor", "student", "student2", "outsider", "admin", "expired")
    }
    tokens = {
        role: service.make_user(name, admin=(role == "admin"))
        for role, name in names.items()
        if role != "expired"
    }
    tokens["expired"] = service.make_user(names["expired"], admin=True, expires_in=-60)
    with service.db.session() as s:
        lecture = Lecture(code=f"lec-{tag}", name=f"Lecture {tag}")
        other = Lecture(code=f"other-{tag}", name=f"Other {tag}")
        s.add_all([lecture, other])
        s.flush()
        roles = {
            "instructor": Role.instructor,
            "tutor": Role.tutor,
            "student": Role.student,
            "student2": Role.student,
        }
        for key, role in roles.items():
            user = get_or_create_user(s, names[key])
            s.add(LectureMember(lecture_id=lecture.id, user_id=user.id, role=role))
        outsider = get_or_create_user(s, names["outsider"])
        s.add(LectureMember(lecture_id=other.id, user_id=outsider.id, role=Role.instructor))
        released = Assignment(
            lecture_id=lecture.id,
            name="HW 1",
            points=10,
            cell_timeout=30,
            late_periods=[],
            allowed_files=[],
            status=AssignmentStatus.released,
        )
        unreleased = Assignment(
            lecture_id=lecture.id,
            name="HW 2",
            points=5,
            cell_timeout=30,
            late_periods=[],
            allowed_files=[],
            status=AssignmentStatus.created,
        )
        s.add_all([released, unreleased])
        s.flush()
        released.release_commit = service.store.commit_tree(
            RepoRef(lecture.code, str(released.id), "release"), {"README.md": b"# HW 1\n"}, "Release HW 1"
        )
        student = get_or_create_user(s, names["student"])
        sub = Submission(assignment_id=released.id, user_id=student.id, commit_hash="a" * 40)
        s.add(sub)
        s.flush()
        job = Job(
            kind="autograde",
            lecture_id=lecture.id,
            assignment_id=released.id,
            submission_id=sub.id,
            state=JobState.succeeded,
            attempts=1,
            log="graded",
        )
        s.add(job)
        s.commit()
        return LectureWorld(
            service=service,
            lecture_id=lecture.id,
            other_lecture_id=other.id,
            released_id=released.id,
            unreleased_id=unreleased.id,
            submission_id=sub.id,
            lecture_code=lecture.code,
            job_id=job.id,
            tokens=tokens,
            names=names,
        )
