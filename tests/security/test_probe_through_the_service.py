"""The sandbox probe through the real service and its embedded worker: the instructor pushes the probe
assignment, two students submit at once (so another job's folder exists while each probe runs), and both
get every point: each check ran from inside the sandbox the service really uses."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from traitlets.config import Config

from tests.security.test_sandbox_probe import GRADER_UID, QUOTA_BYTES, QUOTA_INODES, REPO
from tests.support.gitcli import authed, git
from tests.support.probe import (
    CHECKS,
    PROBE_NAME,
    ProbeTargets,
    check_outputs,
    default_tcp_targets,
    failed_checks,
    write_probe,
)
from tests.support.server import ServiceProcess
from tests.support.world import LectureWorld, build_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def probed(tmp_path_factory, make_db_url):
    tmp = tmp_path_factory.mktemp("probe-service")
    scratch_root, data_dir = tmp / "scratch", tmp / "data"
    decoy = scratch_root / "grader-job999-decoy"
    (decoy / "submission").mkdir(parents=True)
    (decoy / "submission" / "answer.ipynb").write_text("another student's answer")
    config = Config(
        {
            "ProcessExecutor": {
                "scratch_root": str(scratch_root),
                "scratch_quota_bytes": QUOTA_BYTES,
                "scratch_quota_inodes": QUOTA_INODES,
                "sandbox_uid_base": GRADER_UID,
            }
        }
    )
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=data_dir, config=config)
    svc.start(worker="embedded")
    t = ProbeTargets(
        tcp=default_tcp_targets(svc.port),
        grader_uid=GRADER_UID,
        forbidden=[
            str(data_dir),
            str(decoy),
            str(REPO / "pyproject.toml"),
            "/etc/shadow",
            str(Path(svc.app.git_root)),
        ],
        scratch_root=str(scratch_root),
        quota_bytes=QUOTA_BYTES,
        quota_inodes=QUOTA_INODES,
    )
    yield svc, t
    svc.stop()


def wait_job(w: LectureWorld, job_id: int) -> dict:
    return w.service.wait_for(
        lambda: (
            (j := w.req("instructor", "GET", f"{w.lecture_path}/jobs/{job_id}").json())["state"]
            in ("succeeded", "failed")
            and j
        ),
        timeout=120,
    )


def submit(w: LectureWorld, tmp: Path, aid: int, who: str) -> int:
    url = w.req(who, "GET", f"{w.lecture_path}/assignments/{aid}").json()["repos"]["user"]
    work = tmp / f"work-{who}"
    git("clone", authed(url, w.tokens[who]), str(work), cwd=tmp)
    nb = work / PROBE_NAME
    nb.write_text(nb.read_text().replace("raise NotImplementedError()", "answer = 1"))
    git("commit", "-am", "my answer", cwd=work)
    git("push", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    r = w.req(who, "POST", f"{w.lecture_path}/assignments/{aid}/submissions", json={"commit": sha})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def author_probe(w: LectureWorld, tmp: Path, t: ProbeTargets) -> int:
    """The instructor pushes the probe, generates and releases it; returns the assignment id."""
    svc = w.service
    aid = int(
        w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Probe"}).json()["id"]
    )
    src = tmp / "source"
    url = authed(f"{svc.url}/git/{w.lecture_code}/{aid}/source", w.tokens["instructor"])
    git("clone", url, str(src), cwd=tmp)
    write_probe(src, t)
    git("add", "-A", cwd=src)
    git("commit", "-m", "Probe assignment", cwd=src)
    git("push", "origin", "main", cwd=src)
    path = f"{w.lecture_path}/assignments/{aid}"
    generated = wait_job(w, w.req("instructor", "POST", path + "/generate").json()["id"])
    assert generated["state"] == "succeeded", generated
    assert w.req("instructor", "PATCH", path, json={"status": "released"}).status_code == 200
    return aid


def assert_probe_passed(w: LectureWorld, aid: int, sub_id: int, who: str, tmp: Path) -> None:
    path = f"{w.lecture_path}/assignments/{aid}/submissions/{sub_id}"
    graded = w.service.wait_for(
        lambda: (
            (s := w.req("tutor", "GET", path).json())["auto_status"]
            in ("automatically_graded", "grading_failed")
            and s
        ),
        timeout=240,
    )
    assert graded["auto_status"] == "automatically_graded", graded
    job = w.req("tutor", "GET", f"{w.lecture_path}/jobs/{graded['autograde']['id']}").json()
    failed = failed_checks(job["result"])
    assert failed == {}, (who, failed, _outputs(w.service, w, aid, who, sub_id, tmp))
    assert graded["auto_score"] == len(CHECKS) + 1, graded


def test_the_probe_holds_through_the_service_and_worker(probed, tmp_path):
    svc, t = probed
    w = build_world(svc)
    aid = author_probe(w, tmp_path, t)
    ids: dict[str, int] = {}
    threads = [
        threading.Thread(target=lambda who=who: ids.__setitem__(who, submit(w, tmp_path, aid, who)))
        for who in ("student", "student2")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 2
    for who, sub_id in ids.items():
        assert_probe_passed(w, aid, sub_id, who, tmp_path)


def _outputs(svc: ServiceProcess, w: LectureWorld, aid: int, who: str, sub_id: int, tmp: Path) -> str:
    """The probe cells' printed lines, from the graded notebook in the autograde repository."""
    url = f"{svc.url}/git/{w.lecture_code}/{aid}/autograde/{w.names[who]}"
    dest = tmp / f"graded-{who}"
    git("clone", "-b", f"submission-{sub_id}", authed(url, w.tokens["tutor"]), str(dest), cwd=tmp)
    return check_outputs((dest / PROBE_NAME).read_bytes()) or json.dumps(w.names)
