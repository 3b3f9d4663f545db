"""`grader-service demo [-f config] [--json]`: seed the demo lecture and print how to use it."""

from __future__ import annotations

import json

from traitlets import Bool

from grader_service.cli.base import ServiceSubApp
from grader_service.services.demo import seed_demo


class DemoApp(ServiceSubApp):
    description = "Seed (idempotently) a demo lecture with an instructor, a tutor, two students and a " \
                  "released assignment; print their fresh tokens."
    json_output = Bool(False, help="Print the result as JSON.").tag(config=True)
    flags = {"json": ({"DemoApp": {"json_output": True}}, "Print the result as JSON.")}

    def start(self) -> None:
        svc = self.service()
        db = svc.init_db()
        with db.session() as session:
            result = seed_demo(session, svc.limits)
            session.commit()
        db.close()
        if self.json_output:
            print(json.dumps(result, indent=2))
            return
        url = svc.public_url.rstrip("/")
        lec, asg = result["lecture"], result["assignment"]
        print(f"Demo lecture {lec['code']!r} (id {lec['id']}) with assignment {asg['name']!r} (id {asg['id']}).")
        print("Tokens (send as 'Authorization: token <token>'):")
        for key, user in result["users"].items():
            print(f"  {key:<11} {user['name']:<11} {user['token']}")
        student = result["users"]["student1"]["token"]
        print("\nTry, once the service runs:")
        print(f"  curl -H 'Authorization: token {student}' {url}/api/lectures/{lec['id']}/assignments")
