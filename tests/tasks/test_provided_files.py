"""What is graded is what the instructor provided: a student's edit of a data file the tests read cannot
change the score; files the student added stay. Real git, the embedded worker and real kernels."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader_service.demo_notebook import nbgrader_cell_meta
from grader_service.git.provided import merge_provided, restore_provided
from tests.support.gitcli import authed, git
from tests.support.server import ServiceProcess
from tests.support.world import LectureWorld, build_world
from tests.tasks.test_embedded_pipeline import wait_graded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, make_db_url):
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=tmp_path_factory.mktemp("provided"))
    svc.start(worker="embedded")
    yield svc
    svc.stop()


def _author(w: LectureWorld, tmp: Path, aid: int) -> None:
    """A notebook whose test reads data/n.txt (provided: 3), and a helper module the notebook imports."""
    src = tmp / "source"
    git(
        "clone",
        authed(f"{w.service.url}/git/{w.lecture_code}/{aid}/source", w.tokens["instructor"]),
        str(src),
        cwd=tmp,
    )
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        new_code_cell(
            "from helper import twice\ndef square(x):\n"
            "    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION\n",
            metadata=nbgrader_cell_meta("answer", solution=True),
        ),
        new_code_cell(
            "n = int(open('data/n.txt').read())\nassert square(n) == n * n\nassert twice(n) == 2 * n",
            metadata=nbgrader_cell_meta("test_data", grade=True, locked=True, points=2),
        ),
    ]
    nbformat.write(nb, src / "task.ipynb")
    (src / "data").mkdir()
    (src / "data" / "n.txt").write_text("3\n")
    (src / "helper.py").write_text("def twice(x):\n    return 2 * x\n")
    git("add", "-A", cwd=src)
    git("commit", "-qm", "task with data", cwd=src)
    git("push", "origin", "main", cwd=src)
    path = f"{w.lecture_path}/assignments/{aid}"
    job = w.req("instructor", "POST", path + "/generate").json()
    done = w.service.wait_for(
        lambda: (
            (j := w.req("instructor", "GET", f"{w.lecture_path}/jobs/{job['id']}").json())["state"]
            in ("succeeded", "failed")
            and j
        )
    )
    assert done["state"] == "succeeded", done
    assert w.req("instructor", "PATCH", path, json={"status": "released"}).status_code == 200


def _submit(w: LectureWorld, tmp: Path, aid: int, who: str, answer: str, files: dict[str, str]) -> dict:
    url = w.req(who, "GET", f"{w.lecture_path}/assignments/{aid}").json()["repos"]["user"]
    work = tmp / f"work-{who}"
    git("clone", authed(url, w.tokens[who]), str(work), cwd=tmp)
    assert (work / "data" / "n.txt").read_text() == "3\n"  # the student got the provided files
    nb = nbformat.read(work / "task.ipynb", as_version=4)
    nb.cells[0].source = answer
    nbformat.write(nb, work / "task.ipynb")
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-qm", "my work", cwd=work)
    git("push", cwd=work)
    r = w.req(who, "POST", f"{w.lecture_path}/assignments/{aid}/submissions", json={})
    assert r.status_code == 201, r.text
    return wait_graded(w, aid, r.json()["id"])


def test_edited_provided_files_cannot_change_the_score(embedded, tmp_path):
    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Data"}).json()["id"]
    _author(w, tmp_path, aid)
    # wrong answer (x + x) that happens to be right for n = 2, and a helper that lies: both are reset
    wrong = "from helper import twice\ndef square(x):\n    return x + x\n"
    forged = _submit(
        w,
        tmp_path,
        aid,
        "student",
        wrong,
        {"data/n.txt": "2\n", "helper.py": "def twice(x):\n    return 2 * x\n# edited\n"},
    )
    assert forged["auto_status"] == "automatically_graded" and forged["auto_score"] == 0.0, forged
    # a right answer that uses a module the student added: the added file stays and is used
    own = "from helper import twice\nfrom mine import sq\ndef square(x):\n    return sq(x)\n"
    honest = _submit(w, tmp_path, aid, "student2", own, {"mine.py": "def sq(x):\n    return x * x\n"})
    assert honest["auto_status"] == "automatically_graded" and honest["auto_score"] == 2.0, honest
    # the student's commit is untouched: their edited copy is still what their repo holds
    work = tmp_path / "work-student"
    git("pull", "-q", cwd=work)
    assert (work / "data" / "n.txt").read_text() == "2\n"


def test_restore_replaces_what_is_in_the_way(tmp_path):
    dest = tmp_path / "sub"
    (dest / "data.csv").mkdir(parents=True)
    (dest / "data.csv" / "x").write_text("student folder")
    (dest / "lib").write_text("student file where a folder goes")
    (dest / "extra.txt").write_text("kept")
    restore_provided(dest, {"data.csv": b"a,b\n", "lib/util.py": b"X = 1\n"})
    assert (dest / "data.csv").read_bytes() == b"a,b\n"
    assert (dest / "lib" / "util.py").read_bytes() == b"X = 1\n"
    assert (dest / "extra.txt").read_text() == "kept"
    merged = merge_provided(
        {"data.csv/x": b"s", "lib": b"s", "extra.txt": b"kept", "data.csv": b"s"},
        {"data.csv": b"p", "lib/util.py": b"p"},
    )
    assert merged == {"extra.txt": b"kept", "data.csv": b"p", "lib/util.py": b"p"}
