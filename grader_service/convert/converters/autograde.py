"""Autograde: a student's submission → graded notebooks + result (scores, statuses, log)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from traitlets import default

from grader_service.convert import cell_records
from grader_service.convert.assignment_files import copy_files, list_notebooks
from grader_service.convert.converters.base import Converter
from grader_service.convert.errors import NotebookReadError
from grader_service.convert.notebook_io import read_notebook, write_notebook
from grader_service.convert.preprocessors import ComputeScores, Execute, LimitOutput, OverwriteCells

TIMING_KEYS = ("kernel_start", "kernel_wait", "execute", "kernel_stop")


class Autograde(Converter):
    """Restore protected cells, run in a fresh kernel, cap outputs, score."""

    @default("preprocessors")
    def _default_preprocessors(self) -> list[type]:
        return [OverwriteCells, Execute, LimitOutput, ComputeScores]

    def run(
        self, submission_dir: str | Path, graded_dir: str | Path, gradebook: dict[str, Any]
    ) -> dict[str, Any]:
        """Grade every gradebook notebook of the submission; graded copies go to `graded_dir`.

        The submission's files are copied to `graded_dir` first and each notebook runs there (its own
        folder as cwd), so side effects land in the graded copy. Returns the result dict.
        """
        started = time.perf_counter()
        cell_records.validate_cell_records(gradebook)
        submission, graded = Path(submission_dir), Path(graded_dir)
        submitted = set(list_notebooks(submission))
        graded.mkdir(parents=True, exist_ok=True)
        copy_files(submission, graded, skip_notebooks=False)
        log: list[str] = []
        result: dict[str, Any] = {"notebooks": {}, "log": log, "errors": []}
        timings = dict.fromkeys(TIMING_KEYS, 0.0)
        for name, entry in sorted(gradebook["notebooks"].items()):
            if name not in submitted:
                line = f"{name}: missing from the submission; every graded cell scores 0"
                log.append(line)
                self.log.warning("%s", line)
                result["notebooks"][name] = self._zero(entry, "missing", line)
                continue
            try:
                nb = read_notebook(submission / name, name)
            except NotebookReadError as err:
                line = f"{err}; every graded cell scores 0"
                log.append(line)
                result["errors"].append(str(err))
                self.log.warning("%s", line)
                result["notebooks"][name] = self._zero(entry, "unreadable", line)
                continue
            resources: dict[str, Any] = {
                "notebook": name,
                "log": log,
                "language": entry.get("language", "python"),
                "kernel_name": entry.get("kernelspec", {}).get("name"),
                "gradebook_notebook": entry,
                "execution": {"cwd": str((graded / name).parent)},
                "timings": {},
            }
            nb, resources = self.convert(nb, resources)
            write_notebook(nb, graded / name)
            scores = resources["scores"]
            scores["status"] = "graded"
            scores["tampering"] = resources.get("tampering", [])
            scores["timings"] = {k: round(v, 4) for k, v in resources["timings"].items()}
            result["notebooks"][name] = scores
            for key in TIMING_KEYS:
                timings[key] += resources["timings"].get(key, 0.0)
        for name in sorted(submitted - set(gradebook["notebooks"])):
            log.append(f"{name}: not part of the assignment; copied, not graded")
        notebooks = result["notebooks"].values()
        result["score"] = float(sum(nb["score"] for nb in notebooks))
        result["max_score"] = float(gradebook["max_score"])
        result["needs_manual"] = any(nb["needs_manual"] for nb in notebooks)
        timings["total"] = time.perf_counter() - started
        # "other" = everything except waiting for the kernel, running cells and stopping the kernel.
        timings["other"] = (
            timings["total"] - timings["kernel_wait"] - timings["execute"] - timings["kernel_stop"]
        )
        result["timings"] = {k: round(v, 4) for k, v in timings.items()}
        return result

    @staticmethod
    def _zero(entry: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
        cells = {
            c["grade_id"]: {
                "score": 0.0,
                "max_score": float(c["points"]),
                "status": status,
                "role": c["role"],
            }
            for c in entry["cells"]
            if c["role"] in ("tests", "manual", "task")
        }
        return {
            "score": 0.0,
            "max_score": float(entry["max_score"]),
            "needs_manual": False,
            "status": status,
            "error": reason,
            "cells": cells,
            "comments": {},
            "tampering": [],
        }


def autograde(
    submission_dir: str | Path,
    graded_dir: str | Path,
    gradebook: dict[str, Any] | str | Path,
    *,
    cell_timeout: float | None = None,
    timeout: float | None = None,
    config: Any = None,
) -> dict[str, Any]:
    """Grade a submission folder in-process and return the result dict (see `Autograde.run`).

    `gradebook` is the dict `generate_assignment` returned or the path of its JSON file. `cell_timeout`
    and `timeout` (seconds) override the `Execute` config. Raises ConvertError when grading itself fails
    (bad gradebook, kernel does not start); a failing or broken submission still returns a result.
    """
    from traitlets.config import Config

    book = cell_records.load_cell_records(gradebook) if isinstance(gradebook, (str, Path)) else gradebook
    merged = Config(config) if config is not None else Config()
    if cell_timeout is not None:
        merged.Execute.cell_timeout = float(cell_timeout)
    if timeout is not None:
        merged.Execute.timeout = float(timeout)
    converter = Autograde(config=merged)
    logging.getLogger(__name__).debug("autograding %s", submission_dir)
    return converter.run(submission_dir, graded_dir, book)
