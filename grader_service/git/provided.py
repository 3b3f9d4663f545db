"""The files an assignment provides (everything in its release except the notebooks: data files, helper
modules): put back over a submission before it is graded, so a student's edited copy can never change a
grade. Files the student added stay; notebooks are left to the pipeline, which restores their locked and
test cells from the gradebook (as nbgrader's autograde does with the files of the assignment)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from .names import RepoRef
from .store import RepoStore, safe_relative_path

T = TypeVar("T")
NOTEBOOK_SUFFIX = ".ipynb"


def provided_files(
    store: RepoStore, lecture_code: str, assignment_id: int, release_commit: str | None
) -> dict[str, bytes]:
    """Path → content of every non-notebook file of the release at `release_commit` ({} without one)."""
    if not release_commit:
        return {}
    ref = RepoRef(lecture_code, str(assignment_id), "release")
    return {
        path: store.read_file(ref, release_commit, path)
        for path in store.list_files(ref, release_commit)
        if not path.endswith(NOTEBOOK_SUFFIX)
    }


def _in_the_way(path: str, provided: Mapping[str, object]) -> bool:
    """Whether a submitted `path` collides with a provided file: the same path, a folder where a provided
    file goes (`data.csv/x`), or a file where a provided file needs a folder (`data` for `data/x.csv`)."""
    return any(path == p or path.startswith(p + "/") or p.startswith(path + "/") for p in provided)


def merge_provided(submitted: Mapping[str, T], provided: Mapping[str, T]) -> dict[str, T]:
    """The submission's files with the provided ones put back (a student's colliding file goes)."""
    merged = {path: content for path, content in submitted.items() if not _in_the_way(path, provided)}
    merged.update(provided)
    return merged


def restore_provided(dest: Path, provided: Mapping[str, bytes]) -> list[str]:
    """Write the provided files into the exported submission at `dest`, replacing whatever the student put
    at those paths (a file, or a folder in the way); returns the paths restored."""
    root = dest.resolve()
    for path, content in provided.items():
        parts = safe_relative_path(path)
        folder = root
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                folder.unlink()
            folder.mkdir(exist_ok=True)
        target = folder / parts[-1]
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        target.write_bytes(content)
        target.chmod(0o644)
    return sorted(provided)
