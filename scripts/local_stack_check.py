"""Scripted login as a student through the local stack (HTTP only, no browser): Hub → grader login →
Hub → spawned server → relay → the demo lecture's assignments. Used by `scripts/local-stack.sh --check`."""

from __future__ import annotations

import re
import sys
import time
from urllib.parse import urljoin

import requests


def main(hub: str, user: str = "student1") -> int:
    s = requests.Session()
    page = s.get(f"{hub}/hub/login", timeout=30)  # → the grader's login form
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    if not (action and xsrf):
        print(f"no grader login form at {page.url}", file=sys.stderr)
        return 1
    r = s.post(
        urljoin(page.url, action.group(1)), data={"_xsrf": xsrf.group(1), "username": user}, timeout=60
    )
    print(f"logged in as {user}: landed on {r.url} ({r.status_code})")
    deadline = time.monotonic() + 90
    while True:
        status = s.get(f"{hub}/user/{user}/grader/status", timeout=30)
        if status.status_code == 200 and "/user/" in status.url:
            break
        if status.status_code == 403 and "/user/" in status.url:
            s.get(f"{hub}/user/{user}/files/", timeout=30)  # log in to the user's server
        if time.monotonic() > deadline:
            print(f"the relay did not answer: {status.status_code} {status.url}", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print("relay status:", status.json())
    lectures = s.get(f"{hub}/user/{user}/grader/api/lectures", timeout=30).json()
    demo = next(lec for lec in lectures if lec["code"] == "demo101")
    assignments = s.get(f"{hub}/user/{user}/grader/api/lectures/{demo['id']}/assignments", timeout=30).json()
    print(f"lecture {demo['code']!r}: assignments {[a['name'] for a in assignments]}")
    return 0 if assignments else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
