"""GenerateAssignment: source notebooks → student release + assignment gradebook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitlets import default

from grader_service.convert import cell_records
from grader_service.convert.assignment_files import check_outside, copy_files, list_notebooks
from grader_service.convert.converters.base import Converter
from grader_service.convert.errors import ConvertError
from grader_service.convert.notebook_io import notebook_language, read_notebook, write_notebook
from grader_service.convert.preprocessors import (
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutputs,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
    SaveGradebook,
    ValidateMetadata,
)


class GenerateAssignment(Converter):
    """Validate, clear solutions, hidden tests and mark schemes, lock, clear outputs, checksum, describe."""

    @default("preprocessors")
    def _default_preprocessors(self) -> list[type]:
        return [
            ValidateMetadata,
            ClearSolutions,
            ClearHiddenTests,
            ClearMarkScheme,
            LockCells,
            ClearOutputs,
            ComputeChecksums,
            SaveGradebook,
        ]

    def run(self, source_dir: str | Path, release_dir: str | Path) -> dict[str, Any]:
        """Write the release into `release_dir` and return the gradebook (not written anywhere).

        Every notebook is converted before anything is written, so a bad notebook leaves no half release.
        """
        source, release = Path(source_dir), Path(release_dir)
        names = list_notebooks(source)
        if not names:
            raise ConvertError(f"{source}: no notebooks found")
        book = cell_records.new_cell_records()
        released = []
        log: list[str] = []
        for name in names:
            nb = read_notebook(source / name, name)
            resources: dict[str, Any] = {"notebook": name, "log": log, "language": notebook_language(nb)}
            nb, resources = self.convert(nb, resources)
            cell_records.add_notebook(book, name, resources["gradebook_notebook"])
            released.append((name, nb))
        release.mkdir(parents=True, exist_ok=True)
        copy_files(source, release, skip_notebooks=True)
        for name, nb in released:
            write_notebook(nb, release / name)
        book["log"] = log
        return book


def generate_assignment(
    source_dir: str | Path,
    release_dir: str | Path,
    gradebook_path: str | Path | None = None,
    *,
    config: Any = None,
) -> dict[str, Any]:
    """Create the student version of every notebook in `source_dir` and return the gradebook.

    When `gradebook_path` is given the gradebook is also saved there; it must lie outside `release_dir`.
    """
    if gradebook_path is not None:
        check_outside(Path(gradebook_path), Path(release_dir), "gradebook")
    book = GenerateAssignment(config=config).run(source_dir, release_dir)
    if gradebook_path is not None:
        cell_records.save_cell_records(book, gradebook_path)
    return book
