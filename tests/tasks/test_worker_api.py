"""The remote-worker routes (/api/worker/...) against a real service on PostgreSQL: the claim hands out the
job spec (with the per-lecture pod settings the service resolves) and a fresh job token, compare-and-set on
the attempt; failure, requeue and give-up reports; the worker token from the CLI opens nothing else.
(The end-to-end run with a real worker, RabbitMQ and the Kubernetes API server is test_remote_worker.py.)"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from traitlets.config import Config

from grader_service.git.names import RepoRef
from grader_service.orm.models import (
    Assignment,
    AssignmentStatus,
    Job,
    JobState,
    Lecture,
    Submission,
)
from grader_service.services.users import get_or_create_user
from tests.support.server import ServiceProcess
from tests.support.workers import make_worker_token
from tests.test_cli import Server, run

CODE = f"special-{uuid.uuid4().hex[:6]}"
GRADEBOOK = {"notebooks": {"a.ipynb": {"cells": {}}}, "max_score": 0}


@pytest.fixture(scope="module")
def svc(tmp_path_factory, make_db_url):
    config = Config(
        {
            "KubernetesExecutor": {
                "image": "registry.example/default:1",
                "images": {CODE: "registry.example/special:2"},
                "lecture_resources": {CODE: {"limits": {"memory": "4Gi"}}},
            }
        }
    )
    service = ServiceProcess(
        db_url=make_db_url("postgresql"),
        data_dir=tmp_path_factory.mktemp("wapi"),
        executor_class="grader_service.executors.kubernetes.KubernetesExecutor",
        config=config,
        autograde_timeout=123,
    )
    service.start()
    service.worker_token = make_worker_token(service)  # type: ignore[attr-defined]
    service.admin_token = service.make_user("wapi-admin", admin=True)  # type: ignore[attr-defined]
    with service.db.session() as s:
        s.add(Lecture(code=CODE, name="Special"))
        s.commit()
    yield service
    service.stop()


def _job(svc: ServiceProcess, *, gradebook: dict | None = GRADEBOOK, kind: str = "autograde") -> dict:
    """A queued job of a new submission whose commit is in the student's repo."""
    name = f"stud-{uuid.uuid4().hex[:6]}"
    with svc.db.session() as s:
        lecture = s.query(Lecture).filter_by(code=CODE).one()
        assignment = Assignment(
            lecture_id=lecture.id,
            name="A",
            cell_timeout=17,
            late_periods=[],
            allowed_files=[],
            status=AssignmentStatus.released,
            gradebook=gradebook,
        )
        s.add(assignment)
        s.flush()
        user = get_or_create_user(s, name)
        commit = svc.store.commit_tree(
            RepoRef(CODE, str(assignment.id), "user", name), {"a.ipynb": b'{"cells": []}'}, "work"
        )
        sub = Submission(assignment_id=assignment.id, user_id=user.id, commit_hash=commit)
        s.add(sub)
        s.flush()
        job = Job(
            kind=kind,
            state=JobState.queued,
            lecture_id=lecture.id,
            assignment_id=assignment.id,
            submission_id=sub.id,
            attempts=0,
        )
        s.add(job)
        s.commit()
        return {
            "job": job.id,
            "sub": sub.id,
            "lecture": lecture.id,
            "assignment": assignment.id,
            "user": name,
        }


def _w(svc: ServiceProcess, what: str, job_id: int, body: dict) -> dict:
    r = svc.request("POST", f"/api/worker/jobs/{job_id}/{what}", token=svc.worker_token, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _state(svc: ServiceProcess, ids: dict) -> tuple[str, int, str | None, str]:
    with svc.db.session() as s:
        job, sub = s.get(Job, ids["job"]), s.get(Submission, ids["sub"])
        return job.state.value, job.attempts, job.error, sub.auto_status.value


def test_claim_hands_out_the_job_spec_and_a_working_job_token(svc):
    ids = _job(svc)
    claim = _w(svc, "claim", ids["job"], {"worker": "pod-host:7"})
    assert claim["claimed"] is True and claim["attempt"] == 1
    assert claim["submission_id"] == ids["sub"] and claim["gradebook"] == GRADEBOOK
    assert claim["cell_timeout"] == 17.0 and claim["timeout"] == 123.0
    assert claim["limits"]["memory_bytes"] > 0 and claim["limits"]["max_processes"] > 0
    assert claim["labels"] == {
        "lecture": CODE,
        "assignment": str(ids["assignment"]),
        "user": ids["user"],
        "submission": str(ids["sub"]),
        "attempt": "1",
    }
    # per-lecture pod settings come from the service's config, not the worker's
    assert claim["executor_options"] == {
        "image": "registry.example/special:2",
        "resources": {"limits": {"memory": "4Gi"}},
    }
    assert claim["input_url"] == f"{svc.url}/api/jobs/{ids['job']}/input"
    assert claim["result_url"] == f"{svc.url}/api/jobs/{ids['job']}/result"
    assert _state(svc, ids) == ("running", 1, None, "running")
    with svc.db.session() as s:
        job = s.get(Job, ids["job"])
        assert job.worker == "pod-host:7" and claim["job_token"] not in (job.token_hash or "")
    r = svc.request("GET", f"/api/jobs/{ids['job']}/input", token=claim["job_token"])
    assert r.status_code == 200 and base64.b64decode(r.json()["files"]["a.ipynb"]) == b'{"cells": []}'


def test_second_delivery_takes_over_and_the_first_attempt_is_shut_out(svc):
    ids = _job(svc)
    first = _w(svc, "claim", ids["job"], {"worker": "a:1"})
    second = _w(svc, "claim", ids["job"], {"worker": "b:2"})
    assert (first["attempt"], second["attempt"]) == (1, 2)
    # the first attempt's pod can neither fetch nor post; its worker's failure report is discarded
    assert svc.request("GET", f"/api/jobs/{ids['job']}/input", token=first["job_token"]).status_code == 401
    assert _w(svc, "fail", ids["job"], {"attempt": 1, "error": "pod of attempt 1 failed"}) == {
        "recorded": False
    }
    assert _w(svc, "requeue", ids["job"], {"attempt": 1, "error": "stale"}) == {"requeued": False}
    assert _state(svc, ids) == ("running", 2, None, "running")
    # the current attempt's failure is recorded once: a clear failed state through the API
    assert _w(
        svc,
        "fail",
        ids["job"],
        {"attempt": 2, "error": "the grading pod failed: Error (exit code 3)", "log": "pod log"},
    ) == {"recorded": True}
    assert _w(svc, "fail", ids["job"], {"attempt": 2, "error": "again"}) == {"recorded": False}
    sub = svc.request(
        "GET",
        f"/api/lectures/{ids['lecture']}/assignments/{ids['assignment']}/submissions/{ids['sub']}",
        token=svc.admin_token,
    ).json()
    assert sub["auto_status"] == "grading_failed"
    assert sub["autograde"]["state"] == "failed"
    assert sub["autograde"]["error"] == "the grading pod failed: Error (exit code 3)"
    # a duplicate delivery of the finished job runs nothing
    again = _w(svc, "claim", ids["job"], {"worker": "c:3"})
    assert again == {
        "claimed": False,
        "job_id": ids["job"],
        "reason": "skipped: the job is already finished or cancelled",
    }
    assert _state(svc, ids)[:2] == ("failed", 2)


def test_requeue_then_give_up(svc):
    ids = _job(svc)
    claim = _w(svc, "claim", ids["job"], {"worker": "a:1"})
    assert _w(svc, "requeue", ids["job"], {"attempt": claim["attempt"], "error": "no cluster"}) == {
        "requeued": True
    }
    state, attempts, error, auto = _state(svc, ids)
    assert (state, attempts, auto) == ("queued", 1, "running") and "no cluster" in error
    assert _w(svc, "give-up", ids["job"], {"attempt": 2, "error": "not mine"}) == {"failed": False}
    assert _w(
        svc, "give-up", ids["job"], {"attempt": None, "error": "infrastructure error after 3 retries: x"}
    ) == {"failed": True}
    assert _state(svc, ids) == ("failed", 1, "infrastructure error after 3 retries: x", "grading_failed")
    assert _w(svc, "give-up", ids["job"], {"attempt": None, "error": "again"}) == {"failed": False}


def test_job_that_cannot_run_fails_at_the_claim(svc):
    ids = _job(svc, gradebook=None)
    claim = _w(svc, "claim", ids["job"], {"worker": "a:1"})
    assert claim["claimed"] is False and "no generated release" in claim["reason"]
    assert _state(svc, ids)[0::3] == ("failed", "grading_failed")


def test_unknown_and_non_autograde_jobs_are_404(svc):
    other = _job(svc, kind="generate")
    for job_id in (other["job"], 999_999_999):
        r = svc.request(
            "POST", f"/api/worker/jobs/{job_id}/claim", token=svc.worker_token, json={"worker": "w"}
        )
        assert r.status_code == 404 and "not found" in r.json()["message"]
    assert _state(svc, other)[:2] == ("queued", 0)


def test_worker_token_opens_no_lecture_and_no_repo(svc):
    ids = _job(svc)
    auth = ("x", svc.worker_token)
    for kind in ("release", f"user/{ids['user']}"):
        r = svc.http.get(
            f"{svc.url}/git/{CODE}/{ids['assignment']}/{kind}/info/refs?service=git-upload-pack",
            auth=auth,
            timeout=30,
        )
        assert r.status_code == 404, (kind, r.status_code)
    r = svc.request("GET", f"/api/lectures/{ids['lecture']}", token=svc.worker_token)
    assert r.status_code == 403 and "worker token" in r.json()["message"]


def test_cli_creates_a_hashed_worker_token(tmp_path: Path):
    bad = run(["token", "create", "--user", "grader-worker", "--worker", "--admin"], tmp_path, check=False)
    assert bad.returncode != 0 and "exclude" in bad.stdout + bad.stderr
    token = run(["token", "create", "--user", "grader-worker", "--worker"], tmp_path).stdout.strip()
    assert len(token) == 48
    server = Server(tmp_path)
    try:
        server.wait()
        import requests

        auth = {"Authorization": f"token {token}"}
        assert requests.get(server.url + "/api/worker", headers=auth, timeout=10).json() == {
            "worker": "grader-worker"
        }
        assert requests.get(server.url + "/api/user", headers=auth, timeout=10).status_code == 403
    finally:
        server.stop()
    assert token.encode() not in (tmp_path / "grader_data" / "grader.sqlite").read_bytes()


def test_job_input_puts_the_provided_files_back(svc):
    """A remote executor grades what the instructor provided: the release's data file replaces the
    student's edited copy (and the folder they put in its way); files they added stay."""
    ids = _job(svc)
    release = svc.store.commit_tree(
        RepoRef(CODE, str(ids["assignment"]), "release"),
        {"a.ipynb": b'{"cells": ["released"]}', "data/n.txt": b"3\n", "helper.py": b"X = 1\n"},
        "release",
    )
    student = svc.store.commit_tree(
        RepoRef(CODE, str(ids["assignment"]), "user", ids["user"]),
        {
            "a.ipynb": b'{"cells": ["mine"]}',
            "data/n.txt": b"2\n",
            "helper.py/evil.py": b"X = 2\n",
            "mine.py": b"Y = 1\n",
        },
        "edited the data",
    )
    with svc.db.session() as s:
        s.get(Assignment, ids["assignment"]).release_commit = release
        s.get(Submission, ids["sub"]).commit_hash = student
        s.commit()
    claim = _w(svc, "claim", ids["job"], {"worker": "pod-host:8"})
    r = svc.request("GET", f"/api/jobs/{ids['job']}/input", token=claim["job_token"])
    assert r.status_code == 200, r.text
    files = {path: base64.b64decode(content) for path, content in r.json()["files"].items()}
    assert files == {
        "a.ipynb": b'{"cells": ["mine"]}',  # notebooks: the pipeline restores their locked cells
        "data/n.txt": b"3\n",
        "helper.py": b"X = 1\n",
        "mine.py": b"Y = 1\n",
    }
