"""Reading and writing notebooks with clear errors, and normalising cells so any 4.x notebook is valid."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from grader_service.convert.errors import NotebookReadError

# Fields each cell type may carry in nbformat 4 (besides `id`, which 4.5+ requires).
_CELL_FIELDS = {
    "code": {"cell_type", "metadata", "source", "outputs", "execution_count"},
    "markdown": {"cell_type", "metadata", "source", "attachments"},
    "raw": {"cell_type", "metadata", "source", "attachments"},
}


def parse_notebook(data: bytes, name: str) -> NotebookNode:
    """Parse notebook bytes into a normalised nbformat-4 NotebookNode; errors name the file and reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotebookReadError(
            f"{name}: not a notebook: the file is not valid UTF-8 (byte {err.start}: {err.reason})"
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise NotebookReadError(
            f"{name}: not a notebook: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookReadError(f"{name}: not a notebook: the JSON has no 'cells' list")
    major = raw.get("nbformat")
    if major != 4:
        raise NotebookReadError(
            f"{name}: unsupported notebook format nbformat={major!r}; only nbformat 4 is supported"
        )
    for index, cell in enumerate(raw["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in _CELL_FIELDS:
            kind = cell.get("cell_type") if isinstance(cell, dict) else type(cell).__name__
            raise NotebookReadError(f"{name}: cell {index}: unknown cell type {kind!r}")
        if not isinstance(cell.get("metadata", {}), dict):
            raise NotebookReadError(f"{name}: cell {index}: 'metadata' must be an object")
        src = cell.get("source", "")
        if not isinstance(src, str) and not (
            isinstance(src, list) and all(isinstance(line, str) for line in src)
        ):
            raise NotebookReadError(f"{name}: cell {index}: 'source' must be a string or a list of strings")
    nb: NotebookNode = nbformat.from_dict(raw)
    nb.setdefault("metadata", NotebookNode())
    nb.setdefault("nbformat_minor", 0)
    for cell in nb.cells:
        normalise_cell(cell, nb)
    return nb


def read_notebook(path: str | os.PathLike[str], name: str | None = None) -> NotebookNode:
    """Read and normalise the notebook at `path` (see `parse_notebook`)."""
    label = name or str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise NotebookReadError(f"{label}: cannot read: {err.strerror}") from None
    return parse_notebook(data, label)


def needs_cell_ids(nb: NotebookNode) -> bool:
    """nbformat 4.5 and later require an `id` on every cell."""
    return int(nb.get("nbformat_minor", 0)) >= 5


def new_cell_id() -> str:
    """A fresh cell id valid for nbformat 4.5."""
    return uuid.uuid4().hex[:16]


def normalise_cell(cell: NotebookNode, nb: NotebookNode) -> NotebookNode:
    """Make the cell valid for its type and the notebook's minor version (in place; also returns it).

    Drops fields the type may not have (outputs on a markdown cell), adds the ones it needs, joins a
    list source into one string, and adds or removes `id` as the notebook's version wants.
    """
    kind = cell.cell_type
    for key in list(cell):
        if key not in _CELL_FIELDS[kind] and key != "id":
            del cell[key]
    cell.source = "".join(cell.source) if isinstance(cell.get("source"), list) else cell.get("source", "")
    cell.setdefault("metadata", NotebookNode())
    if kind == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
        for output in cell.outputs:
            normalise_output(output)
    if needs_cell_ids(nb):
        if not isinstance(cell.get("id"), str) or not cell.id:
            cell.id = new_cell_id()
    else:
        cell.pop("id", None)
    return cell


def normalise_output(output: NotebookNode) -> None:
    """Join multi-line strings stored as lists (stream text, text-like data) into single strings."""
    if isinstance(output.get("text"), list):
        output["text"] = "".join(output["text"])
    data = output.get("data")
    if isinstance(data, dict):
        for mime, value in data.items():
            if isinstance(value, list) and not mime.endswith("json"):
                data[mime] = "".join(value)


def change_cell_type(cell: NotebookNode, new_type: str, nb: NotebookNode) -> None:
    """Turn the cell into `new_type` in place, keeping source and metadata."""
    cell.cell_type = new_type
    normalise_cell(cell, nb)


def notebook_bytes(nb: NotebookNode) -> bytes:
    """Serialise a notebook the way Jupyter does (indent 1, sorted keys, trailing newline)."""
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_notebook(nb: NotebookNode, path: str | os.PathLike[str]) -> None:
    """Write the notebook, creating parent folders; written to a temp file first so it is never
    half-written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(notebook_bytes(nb))
    os.replace(tmp, target)


def copy_node(value: Any) -> Any:
    """Deep copy of notebook JSON data as NotebookNodes."""
    return nbformat.from_dict(json.loads(json.dumps(value)))


def notebook_language(nb: NotebookNode) -> str:
    """The kernel language recorded in the notebook (``"python"`` when it says nothing)."""
    meta = nb.get("metadata", {})
    language = meta.get("kernelspec", {}).get("language") or meta.get("language_info", {}).get("name")
    return str(language or "python").lower()
