"""Finding and replacing delimited regions (solutions, hidden tests, mark schemes) in cell sources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbformat import NotebookNode

from grader_service.convert import cells
from grader_service.convert.errors import MetadataError
from grader_service.convert.metadata.validator import describe_cell


def find_regions(source: str, begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each region delimited by lines containing `begin` and `end`.

    Raises MetadataError naming `where` when a region is nested, never closed or never opened.
    """
    regions: list[tuple[int, int]] = []
    start: int | None = None
    for number, line in enumerate(source.split("\n")):
        if begin in line:
            if start is not None:
                raise MetadataError(f"{where}: nested or repeated '{begin}' (line {number + 1})")
            start = number
        elif end in line:
            if start is None:
                raise MetadataError(f"{where}: '{end}' without '{begin}' (line {number + 1})")
            regions.append((start, number))
            start = None
    if start is not None:
        raise MetadataError(f"{where}: '{begin}' (line {start + 1}) is never closed by '{end}'")
    return regions


def has_marker(cell: NotebookNode, begin: str, end: str) -> bool:
    """Whether the cell's source contains either delimiter."""
    src = cell.source
    return begin in src or end in src


def replace_regions(source: str, regions: list[tuple[int, int]], stub: str | None) -> str:
    """Replace each region (delimiter lines included) with `stub`, indented like the opening line.

    `stub=None` removes the regions.
    """
    lines = source.split("\n")
    out: list[str] = []
    cursor = 0
    for first, last in regions:
        out.extend(lines[cursor:first])
        if stub is not None:
            opening = lines[first]
            indent = opening[: len(opening) - len(opening.lstrip())]
            out.extend(indent + stub_line if stub_line else stub_line for stub_line in stub.split("\n"))
        cursor = last + 1
    out.extend(lines[cursor:])
    return "\n".join(out)


def remove_marked_blocks(
    cell: NotebookNode,
    resources: dict[str, Any],
    index: int,
    begin: str,
    end: str,
    *,
    belongs: Callable[[NotebookNode], bool],
    misplaced: str,
    enforce: bool,
) -> str | None:
    """Delete the `begin` … `end` blocks of `cell` (delimiters included) when `belongs(cell)`; returns the
    cell's grade_id, or None when nothing was removed. The full source is kept in
    ``resources["instructor_sources"][grade_id]``. Markers in a cell of the wrong kind raise MetadataError
    saying `misplaced` (or are left alone when `enforce` is off)."""
    if not has_marker(cell, begin, end):
        return None
    where = describe_cell(resources.get("notebook", "notebook"), index, cell)
    if not belongs(cell):
        if enforce:
            raise MetadataError(f"{where}: {misplaced}")
        return None
    regions = find_regions(cell.source, begin, end, where)
    grade_id: str = cells.nbgrader_meta(cell)["grade_id"]
    resources.setdefault("instructor_sources", {}).setdefault(grade_id, cell.source)
    cell.source = replace_regions(cell.source, regions, None)
    return grade_id
