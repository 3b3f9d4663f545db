"""`grader-service demo [-f config] [--json]`: seed the demo lecture and print how to use it.

The demo assignment is authored like a real one: its source notebook is committed to the `source` repo,
generated into `release` by the same job the API runs, and released.
"""

from __future__ import annotations

import json

from traitlets import Bool

from grader_service.cli.base import ServiceSubApp
from grader_service.demo_notebook import demo_source_notebook
from grader_service.git.names import RepoRef
from grader_service.git.store import RepoStore
from grader_service.orm.models import Assignment, AssignmentStatus, Job, JobState
from grader_service.services import jobs
from grader_service.services.demo import seed_demo


class DemoApp(ServiceSubApp):
    description = (
        "Seed (idempotently) a demo lecture with an instructor, a tutor, two students and a "
        "released assignment generated from a real source notebook; print fresh tokens."
    )
    json_output = Bool(False, help="Print the result as JSON.").tag(config=True)
    flags = {"json": ({"DemoApp": {"json_output": True}}, "Print the result as JSON.")}

    def start(self) -> None:
        svc = self.service()
        db = svc.init_db()
        with db.session() as session:
            result = seed_demo(session, svc.limits)
            session.commit()
        lec, asg = result["lecture"], result["assignment"]
        if not asg["generated"]:
            self._generate_and_release(svc, db, lec["code"], asg["id"])
            asg.update(generated=True, status="released")
        db.close()
        if self.json_output:
            print(json.dumps(result, indent=2))
            return
        url = svc.public_url.rstrip("/")
        print(
            f"Demo lecture {lec['code']!r} (id {lec['id']}) with assignment {asg['name']!r} (id {asg['id']})."
        )
        print("Tokens (send as 'Authorization: token <token>'; for git, use the token as the password):")
        for key, user in result["users"].items():
            print(f"  {key:<11} {user['name']:<11} {user['token']}")
        student = result["users"]["student1"]["token"]
        base = f"{url}/api/lectures/{lec['id']}/assignments/{asg['id']}"
        print("\nTry, once the service runs:")
        print(f"  curl -H 'Authorization: token {student}' {url}/api/lectures/{lec['id']}/assignments")
        host = url.split("://", 1)[1]
        print(f"  git clone http://student1:{student}@{host}/git/{lec['code']}/{asg['id']}/user/student1")
        print(
            f"  curl -X POST -H 'Authorization: token {student}' {base}/submissions   # hand in; autograded"
        )

    def _generate_and_release(self, svc, db, lecture_code: str, assignment_id: int) -> None:
        from grader_service.tasks.context import build_context
        from grader_service.tasks.generate import generate

        store = RepoStore(svc.git_root)
        source = RepoRef(lecture_code, str(assignment_id), "source")
        if not store.exists(source) or store.head(source) is None:
            store.commit_tree(source, {"assignment1.ipynb": demo_source_notebook()}, "Demo assignment source")
        with db.session() as session:
            job = jobs.create_job(
                session,
                "generate",
                lecture_id=session.get(Assignment, assignment_id).lecture_id,
                assignment_id=assignment_id,
            )
            session.commit()
            job_id = job.id
        outcome = generate(build_context(svc.task_settings(), db), job_id)
        with db.session() as session:
            job = session.get(Job, job_id)
            if job.state != JobState.succeeded:
                raise SystemExit(f"grader-service demo: generating the demo assignment failed: {outcome}")
            session.get(Assignment, assignment_id).status = AssignmentStatus.released
            session.commit()
