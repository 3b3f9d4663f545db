"""Listing and copying the files of an assignment folder (notebooks and the data they use)."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader_service.convert.errors import ConvertError

SKIPPED_DIRS = {".ipynb_checkpoints", ".git", "__pycache__", ".grader"}


def _visible(relative: Path) -> bool:
    return not any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts)


def list_files(root: Path) -> list[str]:
    """Every file under `root` except hidden folders and checkpoints, as sorted POSIX relative paths."""
    if not root.is_dir():
        raise ConvertError(f"{root}: no such directory")
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and _visible(relative):
            found.append(relative.as_posix())
    return sorted(found)


def list_notebooks(root: Path) -> list[str]:
    """The notebooks under `root` (see `list_files`)."""
    return [name for name in list_files(root) if name.endswith(".ipynb")]


def copy_files(source: Path, target: Path, *, skip_notebooks: bool) -> list[str]:
    """Copy the visible files of `source` into `target` (notebooks too unless `skip_notebooks`)."""
    copied = []
    for name in list_files(source):
        if skip_notebooks and name.endswith(".ipynb"):
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, destination)
        copied.append(name)
    return copied


def check_outside(path: Path, folder: Path, what: str) -> None:
    """Refuse to write `path` inside `folder` (the gradebook must never land in the release)."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return
    raise ConvertError(f"{what} {path} is inside {folder}; write it outside that folder")
