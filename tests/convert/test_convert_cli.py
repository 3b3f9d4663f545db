"""`grader-convert`: the three commands, exit codes, --json, and clear errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

FILES_HINT = "tests/convert/files"


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "grader_service.convert.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def source(tmp_path, files):
    src = tmp_path / "source"
    src.mkdir()
    shutil.copy(files / "five-cells.ipynb", src / "hw.ipynb")
    (src / "data.csv").write_text("1,2\n")
    return src


def test_full_cycle(tmp_path, source):
    gen = cli(
        "generate_assignment", "-i", source, "-o", tmp_path / "release", "--gradebook", tmp_path / "gb.json"
    )
    assert gen.returncode == 0, gen.stderr
    assert sorted(p.name for p in (tmp_path / "release").iterdir()) == ["data.csv", "hw.ipynb"]
    grade = cli(
        "autograde",
        "-i",
        tmp_path / "release",
        "-o",
        tmp_path / "graded",
        "--gradebook",
        tmp_path / "gb.json",
        "--cell-timeout",
        "5",
        "--json",
    )
    assert grade.returncode == 0, grade.stderr
    result = json.loads(grade.stdout)
    assert result["score"] == 0.0 and result["max_score"] == 6.0 and result["needs_manual"] is False
    cell = result["notebooks"]["hw.ipynb"]["cells"]["test_square"]
    assert set(cell) >= {"score", "max_score", "status"} and isinstance(result["log"], list)
    fb = cli(
        "generate_feedback",
        "-i",
        tmp_path / "graded",
        "-o",
        tmp_path / "feedback",
        "--gradebook",
        tmp_path / "gb.json",
    )
    assert fb.returncode == 0 and (tmp_path / "feedback" / "hw.html").is_file()


def test_gradebook_inside_release_is_refused(tmp_path, source):
    proc = cli(
        "generate_assignment",
        "-i",
        source,
        "-o",
        tmp_path / "release",
        "--gradebook",
        tmp_path / "release" / "gb.json",
    )
    assert proc.returncode == 1 and "inside" in proc.stderr
    assert not (tmp_path / "release" / "gb.json").exists()


@pytest.mark.parametrize(
    ("fixture", "message"),
    [("not-utf8.ipynb", "not valid UTF-8"), ("truncated-json.ipynb", "invalid JSON at line 1")],
)
def test_bad_source_notebook_is_a_clear_error(tmp_path, files, fixture, message):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(files / fixture, src / "hw.ipynb")
    proc = cli("generate_assignment", "-i", src, "-o", tmp_path / "rel", "--gradebook", tmp_path / "gb.json")
    assert proc.returncode == 1
    assert f"hw.ipynb: not a notebook: the file is {message}" in proc.stderr or message in proc.stderr
    assert not (tmp_path / "rel").exists() and not (tmp_path / "gb.json").exists()


def test_unreadable_submission_is_graded_zero_with_reason(tmp_path, source, files):
    assert (
        cli(
            "generate_assignment", "-i", source, "-o", tmp_path / "rel", "--gradebook", tmp_path / "gb.json"
        ).returncode
        == 0
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(files / "not-utf8.ipynb", sub / "hw.ipynb")
    proc = cli(
        "autograde", "-i", sub, "-o", tmp_path / "graded", "--gradebook", tmp_path / "gb.json", "--json"
    )
    assert proc.returncode == 0
    assert "not valid UTF-8" in proc.stderr
    nb = json.loads(proc.stdout)["notebooks"]["hw.ipynb"]
    assert nb["status"] == "unreadable" and nb["score"] == 0.0


def test_bad_gradebook_fails_grading(tmp_path, source):
    (tmp_path / "gb.json").write_text('{"format": "something else"}')
    proc = cli("autograde", "-i", source, "-o", tmp_path / "graded", "--gradebook", tmp_path / "gb.json")
    assert proc.returncode == 1 and "invalid gradebook" in proc.stderr
    proc = cli("autograde", "-i", source, "-o", tmp_path / "graded", "--gradebook", tmp_path / "missing.json")
    assert proc.returncode == 1 and "no such file" in proc.stderr


def test_metadata_error_names_cell(tmp_path, files):
    src = tmp_path / "src"
    src.mkdir()
    nb = json.loads((files / "five-cells.ipynb").read_text())
    nb["cells"][2]["metadata"]["nbgrader"]["schema_version"] = 4
    (src / "hw.ipynb").write_text(json.dumps(nb))
    proc = cli("generate_assignment", "-i", src, "-o", tmp_path / "rel", "--gradebook", tmp_path / "gb.json")
    assert proc.returncode == 1
    assert "hw.ipynb: cell 2 (grade_id 'test_square'): nbgrader metadata schema version 4" in proc.stderr


def test_config_option_on_command_line(tmp_path, source):
    proc = cli(
        "generate_assignment",
        "-i",
        source,
        "-o",
        tmp_path / "rel",
        "--gradebook",
        tmp_path / "gb.json",
        "--ClearSolutions.code_stub={'python': 'pass  # TODO'}",
    )
    assert proc.returncode == 0, proc.stderr
    assert "pass  # TODO" in (tmp_path / "rel" / "hw.ipynb").read_text()
