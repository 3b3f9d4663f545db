"""Regenerating a released assignment on the embedded default (real git, the embedded worker): it needs
force, its job says what changed, and a push of `source` to a branch generate never reads is refused."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from grader_service.demo_notebook import nbgrader_cell_meta
from tests.support.gitcli import authed, git
from tests.support.server import ServiceProcess
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, make_db_url):
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=tmp_path_factory.mktemp("regen"))
    svc.start(worker="embedded")
    yield svc
    svc.stop()


def test_regenerating_a_released_assignment_needs_force_and_reports_changes(embedded, tmp_path):
    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Regen"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    path = f"{w.lecture_path}/assignments/{aid}"
    r = w.req("instructor", "POST", path + "/generate")
    assert r.status_code == 409 and r.json()["field"] == "force" and "force=true" in r.json()["message"]

    # the instructor changes the source: 3 points for test_square, no manual answer, one more test
    src = tmp_path / f"source-{aid}"
    nb = nbformat.read(src / "squares.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "explain"]
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_square":
            cell.metadata["nbgrader"]["points"] = 3
    nb.cells.append(
        new_code_cell(
            "assert square(0) == 0",
            metadata=nbgrader_cell_meta("test_zero", grade=True, locked=True, points=1),
        )
    )
    nbformat.write(nb, src / "squares.ipynb")
    git("commit", "-qam", "harder", cwd=src)
    # a push to another branch would never be generated: refused, saying which branch to push
    pushed = git("push", "origin", "HEAD:refs/heads/dev", cwd=src, check=False)
    assert pushed.returncode != 0
    assert "takes only branch 'main'" in pushed.stderr and "git push origin HEAD:main" in pushed.stderr
    remote = authed(f"{embedded.url}/git/{w.lecture_code}/{aid}/source", w.tokens["instructor"])
    assert "refs/heads/dev" not in git("ls-remote", remote, cwd=tmp_path).stdout
    git("push", "origin", "main", cwd=src)

    r = w.req("instructor", "POST", path + "/generate?force=true")
    assert r.status_code == 202, r.text
    done = embedded.wait_for(
        lambda: (
            (j := w.req("instructor", "GET", f"{w.lecture_path}/jobs/{r.json()['id']}").json())["state"]
            in ("succeeded", "failed")
            and j
        )
    )
    assert done["state"] == "succeeded", done
    changes = done["result"]["changes"]
    assert done["result"]["regenerated"] is True and changes["changed"] is True
    assert changes["cells_added"] == ["squares.ipynb:test_zero"]
    assert changes["cells_removed"] == ["squares.ipynb:explain"]
    assert changes["points_changed"] == {"squares.ipynb:test_square": {"before": 2, "after": 3}}
    assert changes["max_score"] == {"before": 5, "after": 5}
    assert changes["notebooks_added"] == [] and changes["notebooks_removed"] == []
    # regenerating the same source again changes nothing
    again = w.req("instructor", "POST", path + "/generate?force=true").json()
    same = embedded.wait_for(
        lambda: (
            (j := w.req("instructor", "GET", f"{w.lecture_path}/jobs/{again['id']}").json())["state"]
            == "succeeded"
            and j
        )
    )
    assert same["result"]["changes"]["changed"] is False
    assert w.req("instructor", "POST", path + "/generate?force=maybe").status_code == 400
