"""/api/lectures/{lid}/gradebook, grades, grading policy, overrides and the CSV grade report."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from pydantic import TypeAdapter
from tornado.iostream import StreamClosedError

from grader_service.api.assignments import AID
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.auth.decorators import requires
from grader_service.schemas.requests import GradebookSettings, GradebookUpdateItem, RegradeRequest
from grader_service.schemas.responses import gradebook as out
from grader_service.services import gradebook as svc

UNAME = r"(?P<username>[A-Za-z0-9][A-Za-z0-9._@+-]{0,63})"
GB = rf"/api/lectures/{LID}/gradebook"
#: the largest page_size a client may ask for, unless the app's settings say otherwise
MAX_PAGE_SIZE = 1000
ITEMS = TypeAdapter(list[Any])
POLICY = TypeAdapter(dict[str, Any])


class GradebookBase(ApiHandler):
    @property
    def max_page_size(self) -> int:
        return int(self.settings.get("gradebook_max_page_size", MAX_PAGE_SIZE))


class GradebookHandler(GradebookBase):
    docs = {
        "get": {
            "summary": "The gradebook: one learner (?username=) or a cursor page of learners with their "
            "lecture grade and a breakdown per assignment; {next, previous, results, total_users_count, "
            "filtered_users_count}",
            "query": {
                "username": "only this learner (404 if not a member)",
                "cursor": "from a next/previous link",
                "page_size": "learners per page (default 50, at most the configured maximum)",
                "username_contains": "case-insensitive part of the username",
                "assignment": "assignment id for assignment_grade_min/max",
                "assignment_grade_min": "0-100, overrides applied",
                "assignment_grade_max": "0-100",
                "course_grade_min": "0-100",
                "course_grade_max": "0-100",
                "excluded_roles": (
                    "comma-separated roles to leave out (default tutor,instructor; empty: none)"
                ),
            },
            "response": out.GradebookPage | out.GradebookEntry,
        }
    }

    @requires("gradebook:read")
    async def get(self, lecture_id: str) -> None:
        args = {name: self.get_query_argument(name, None) for name in svc.GRADEBOOK_QUERY}
        request = svc.parse_gradebook_query(args, self.max_page_size)
        data = await self.call(svc.read_gradebook, self.actor, int(lecture_id), request)
        if request.username is None:  # a page: its cursors become links
            page = cast(out.GradebookPage, data)
            page["next"] = self._link(args, page["next"])
            page["previous"] = self._link(args, page["previous"])
        self.write_json(data)

    def _link(self, args: dict[str, str | None], cursor: str | None) -> str | None:
        if cursor is None:
            return None
        query = {k: v for k, v in args.items() if v is not None and k != "cursor"}
        query["cursor"] = cursor
        return f"{self.request.path}?{urlencode(query)}"


class BulkUpdateHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Override assignment grades in bulk (create or update; the affected lecture grades "
            "are recomputed before the answer). 403 when the writable gradebook is disabled for the lecture",
            "body": list[GradebookUpdateItem],
            "response": {"202": list[out.BulkUpdateResult], "422": list[out.BulkUpdateResult]},
            "responses": {
                "202": "every item succeeded: [{user_id, assignment_id, success, reason}]",
                "422": "some items failed (the others were applied): the same list",
            },
        }
    }

    @requires("gradebook:write")
    async def post(self, lecture_id: str) -> None:
        items = self.parse_body(ITEMS)
        status, results = await self.call(svc.bulk_update, self.actor, int(lecture_id), items)
        self.write_json(results, status=status)


class GradingInfoHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The grading policy, its categories and the counted assignments with labels",
            "response": out.GradingInfo,
        }
    }

    @requires("gradebook:read")
    async def get(self, lecture_id: str) -> None:
        self.write_json(await self.call(svc.read_grading_info, self.actor, int(lecture_id)))


class GradebookSettingsHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Gradebook settings of the lecture: whether the writable gradebook is enabled",
            "response": out.GradebookSettingsView,
        },
        "put": {
            "summary": "Enable or disable the writable gradebook (bulk overrides)",
            "body": GradebookSettings,
            "response": out.GradebookSettingsView,
        },
    }

    @requires("gradebook:read")
    async def get(self, lecture_id: str) -> None:
        self.write_json(await self.call(svc.get_settings, self.actor, int(lecture_id)))

    @requires("gradebook:write")
    async def put(self, lecture_id: str) -> None:
        body = self.parse_body(GradebookSettings)
        self.write_json(await self.call(svc.put_settings, self.actor, int(lecture_id), body))


class RegradeHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Regrade assignments explicitly: rebuild their grades from the submissions against "
            "the assignment's current version; returns the batch job",
            "body": RegradeRequest,
            "response": out.RegradeQueued,
            "responses": {"202": "the job was queued"},
        }
    }

    @requires("gradebook:write")
    async def post(self, lecture_id: str) -> None:
        body = self.parse_body(RegradeRequest)
        self.write_json(await self.call(svc.regrade, self.actor, int(lecture_id), body), status=202)


class GradebookCsvHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "CSV grade report: one row per student, a column per assignment (percent, empty "
            "when not attempted), then percent and letter; streamed",
            "content_type": "text/csv",
            "response": str,
        }
    }

    @requires("gradebook:read")
    async def get(self, lecture_id: str) -> None:
        ctx = await self.call(svc.report_context, self.actor, int(lecture_id))
        self.set_header("Content-Type", "text/csv; charset=UTF-8")
        self.set_header("Content-Disposition", f'attachment; filename="lecture-{ctx.lecture_id}-grades.csv"')
        self.write(svc.report_header(ctx))
        after: str | None = None
        try:
            while True:
                text, after = await self.call(svc.report_chunk, self.actor, ctx, after)
                if text:
                    self.write(text)
                    await self.flush()  # one chunk in memory at a time
                if after is None:
                    break
        except StreamClosedError:
            self.log.info("the client left before the end of the grade report of lecture %s", lecture_id)
            return
        self.finish()


class GradingPolicyHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The lecture's grading policy and its hash (staff also see the latest recompute job)",
            "response": out.Policy,
        },
        "put": {
            "summary": "Replace the grading policy; every grade of the lecture is recomputed by a batch job, "
            "which is returned",
            "body": dict[str, Any],
            "response": out.Policy,
            "responses": {"202": "stored; the recompute job is queued"},
        },
    }

    @requires("grades:read")
    async def get(self, lecture_id: str) -> None:
        self.write_json(await self.call(svc.get_policy, self.actor, int(lecture_id)))

    @requires("gradebook:write")
    async def put(self, lecture_id: str) -> None:
        policy = self.parse_body(POLICY)
        self.write_json(await self.call(svc.put_policy, self.actor, int(lecture_id), policy), status=202)


class LectureGradesHandler(GradebookBase):
    docs = {
        "get": {
            "summary": "Lecture grades with letter and passed: students get their own (recomputed when "
            "stale); staff get every student's as stored, with a stale flag",
            "query": {"cursor": "from the next link", "page_size": "grades per page"},
            "response": out.LectureGradesPage,
        }
    }

    @requires("grades:read")
    async def get(self, lecture_id: str) -> None:
        args = {"page_size": self.get_query_argument("page_size", None)}
        page_size = svc.parse_gradebook_query(args, self.max_page_size).page_size
        cursor = self.get_query_argument("cursor", None) or None
        data = await self.call(svc.list_lecture_grades, self.actor, int(lecture_id), cursor, page_size)
        if data["next"]:
            data["next"] = (
                f"{self.request.path}?{urlencode({'page_size': page_size, 'cursor': data['next']})}"
            )
        self.write_json(data)


class OverrideHistoryHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The override of a learner's assignment grade and its full history",
            "response": out.OverrideHistory,
        }
    }

    @requires("gradebook:read")
    async def get(self, lecture_id: str, assignment_id: str, username: str) -> None:
        self.write_json(
            await self.call(
                svc.read_override_history, self.actor, int(lecture_id), int(assignment_id), username
            )
        )


default_handlers = [
    (GB, GradebookHandler),
    (rf"{GB}/bulk-update", BulkUpdateHandler),
    (rf"{GB}/grading-info", GradingInfoHandler),
    (rf"{GB}/settings", GradebookSettingsHandler),
    (rf"{GB}/regrade", RegradeHandler),
    (rf"{GB}.csv", GradebookCsvHandler),
    (rf"/api/lectures/{LID}/grading-policy", GradingPolicyHandler),
    (rf"/api/lectures/{LID}/grades", LectureGradesHandler),
    (rf"/api/lectures/{LID}/assignments/{AID}/grades/{UNAME}/overrides", OverrideHistoryHandler),
]
