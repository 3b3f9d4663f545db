"""The grades package has one public face: no module outside it imports anything of it but
`grader_service.grades.api` (the package root counts as part of that face: it holds only the pure math)."""

from __future__ import annotations

import ast
from pathlib import Path

import grader_service

PACKAGE = Path(grader_service.__file__).parent
ALLOWED = {"grader_service.grades", "grader_service.grades.api"}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports by absolute name (`from a import b` counts as a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def grades_modules() -> set[str]:
    return {f"grader_service.grades.{p.stem}" for p in (PACKAGE / "grades").glob("*.py")}


def test_only_grades_api_is_imported_from_outside():
    internal = grades_modules() - ALLOWED
    assert "grader_service.grades.persistence" in internal  # the scan sees the package's modules
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if (PACKAGE / "grades") in path.parents:
            continue
        reached = imported_modules(path) & internal
        offenders.extend(f"{path.relative_to(PACKAGE)} imports {name}" for name in sorted(reached))
    assert offenders == [], "import these through grader_service.grades.api:\n" + "\n".join(offenders)


def test_the_scan_catches_a_module_that_reaches_past_the_face(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from grader_service.grades import persistence\nimport grader_service.grades.setwise\n")
    reached = imported_modules(bad) & (grades_modules() - ALLOWED)
    assert reached == {"grader_service.grades.persistence", "grader_service.grades.setwise"}
