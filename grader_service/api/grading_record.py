"""/api/.../submissions/{sid}/grading and /feedback: the per-cell grading record, feedback jobs, pages and
release, and bulk feedback of an assignment."""

from __future__ import annotations

from grader_service.api.assignments import AID
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.api.submissions import BASE, SID
from grader_service.auth.decorators import requires
from grader_service.schemas.grading_record import BulkFeedbackRequest, GradingUpdate
from grader_service.schemas.responses import grading as out
from grader_service.schemas.responses.jobs import Job
from grader_service.services import feedback as fb
from grader_service.services import manual_grading

#: feedback pages hold students' output: no script, no plugin, no form, no outside request, its own origin.
#: Math is rendered to MathML on the server, so no MathJax (or any other script) is allowed at all.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
PAGE = r"(?P<path>[^?#]{1,512})"


class GradingHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The per-cell grading record. Staff: every cell (kind, max_points, auto_score, "
            "manual_score, extra_credit, comment, needs_manual, who graded it when), totals, the graded "
            "version and commit. Students (own submissions): points, score, pass/fail and the error output "
            "of visible tests, as far as the assignment's score_visibility allows; comments once feedback "
            "is released",
            "response": out.StaffGrading | out.StudentGrading,
        },
        "patch": {
            "summary": "Set manual scores, extra credit and comments cell by cell (partial; all or nothing). "
            "400 naming the cell for an unknown cell, a score above its points or a comment on a cell "
            "that cannot carry one; 409 before autograde has run",
            "body": GradingUpdate,
            "response": out.StaffGrading,
        },
    }

    @requires("submissions:read")
    async def get(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.write_json(
            await self.call(
                manual_grading.grading_view,
                self.actor,
                int(lecture_id),
                int(assignment_id),
                int(submission_id),
            )
        )

    @requires("submissions:grade")
    async def patch(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        body = self.parse_body(GradingUpdate)
        self.write_json(
            await self.call(
                manual_grading.update_grading,
                self.actor,
                int(lecture_id),
                int(assignment_id),
                int(submission_id),
                body,
            )
        )


class FeedbackHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Feedback status and pages. Staff: the newest generated pages, whether they are "
            "outdated, the last job; students: released pages only",
            "response": out.StaffFeedback | out.StudentFeedback,
        },
        "post": {
            "summary": "Generate this submission's feedback (a job; not released)",
            "response": Job,
            "responses": {"202": "queued", "409": "no grading record yet"},
        },
    }

    @requires("submissions:read")
    async def get(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.write_json(
            await self.call(fb.listing, self.actor, int(lecture_id), int(assignment_id), int(submission_id))
        )

    @requires("submissions:grade")
    async def post(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.no_body()
        self.write_json(
            await self.call(
                lambda s, *a: fb.request_feedback(s, *a, release=False),
                self.actor,
                int(lecture_id),
                int(assignment_id),
                int(submission_id),
            ),
            status=202,
        )


class FeedbackReleaseHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Release this submission's feedback to the student (a job: regenerates it first "
            "when it is missing or outdated, then commits it to the student's `feedback` repo)",
            "response": Job,
            "responses": {"202": "queued", "409": "no grading record yet"},
        }
    }

    @requires("submissions:grade")
    async def post(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.no_body()
        self.write_json(
            await self.call(
                lambda s, *a: fb.request_feedback(s, *a, release=True),
                self.actor,
                int(lecture_id),
                int(assignment_id),
                int(submission_id),
            ),
            status=202,
        )


class FeedbackPageHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "One feedback page (text/html, with a Content-Security-Policy that allows no "
            "script). Students: only released feedback of their own submissions",
            "responses": {"200": "the page", "404": "no such page, or not released"},
            "content_type": "text/html",
            "response": str,
        }
    }

    @requires("submissions:read")
    async def get(self, lecture_id: str, assignment_id: str, submission_id: str, path: str) -> None:
        page = await self.call(
            fb.read_page,
            self.actor,
            int(lecture_id),
            int(assignment_id),
            int(submission_id),
            path,
            self.settings["git_store"],
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", PAGE_CSP)
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")
        self.finish(page)


class BulkFeedbackHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Generate or release the feedback of many submissions as one job, with "
            "result.progress {done, total}; an identical request while one runs answers 409 with that job",
            "body": BulkFeedbackRequest,
            "response": Job,
            "responses": {"202": "queued", "409": "the same request is already running (the job)"},
        }
    }

    @requires("submissions:grade")
    async def post(self, lecture_id: str, assignment_id: str) -> None:
        body = self.parse_body(BulkFeedbackRequest)
        self.write_json(
            await self.call(fb.request_bulk, self.actor, int(lecture_id), int(assignment_id), body),
            status=202,
        )


default_handlers = [
    (rf"{BASE}/{SID}/grading", GradingHandler),
    (rf"{BASE}/{SID}/feedback", FeedbackHandler),
    (rf"{BASE}/{SID}/feedback/release", FeedbackReleaseHandler),
    (rf"{BASE}/{SID}/feedback/{PAGE}", FeedbackPageHandler),
    (rf"/api/lectures/{LID}/assignments/{AID}/feedback", BulkFeedbackHandler),
]
