"""`grader-convert`: the pipeline's command line, run by the process and Kubernetes executors.

    grader-convert generate_assignment -i SOURCE_DIR -o RELEASE_DIR --gradebook GB.json
    grader-convert autograde -i SUBMISSION_DIR -o GRADED_DIR --gradebook GB.json [--cell-timeout S] [--json]
    grader-convert generate_feedback -i GRADED_DIR -o FEEDBACK_DIR --gradebook GB.json [--result R.json]

Any command also takes ``--config FILE`` (traitlets .py or .json) and ``--Class.trait=value`` options.
Exit status: 0 when the work was done (a submission with failing tests is still graded), 1 when it
could not be done (reason on stderr), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from traitlets.config import Config
from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

from grader_service.convert.converters import autograde, generate_assignment, generate_feedback
from grader_service.convert.errors import ConvertError
from grader_service.convert.options import set_option


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader-convert", description="Notebook autograding pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, i_help: str, o_help: str) -> None:
        p.add_argument("-i", "--input", required=True, type=Path, help=i_help)
        p.add_argument("-o", "--output", required=True, type=Path, help=o_help)
        p.add_argument("--gradebook", required=True, type=Path, help="assignment gradebook JSON file")
        p.add_argument("--config", type=Path, help="traitlets config file (.py or .json)")
        p.add_argument("--log-level", default="WARNING", help="logging level on stderr (default WARNING)")

    gen = sub.add_parser("generate_assignment", help="source notebooks → student release + gradebook")
    common(gen, "folder with the instructor's notebooks", "release folder (gradebook never goes here)")
    grade = sub.add_parser("autograde", help="grade one student's submission")
    common(grade, "folder with the student's submission", "folder for the graded notebooks")
    grade.add_argument("--cell-timeout", type=float, help="seconds per cell (default 30)")
    grade.add_argument("--timeout", type=float, help="seconds for a whole notebook (default 600)")
    grade.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    feedback = sub.add_parser("generate_feedback", help="graded notebooks → HTML feedback pages")
    common(feedback, "folder with the graded notebooks", "folder for the HTML pages")
    feedback.add_argument("--result", type=Path, help="autograde result JSON whose scores to show")
    return parser


def _load_config(path: Path | None, overrides: list[str]) -> Config:
    config = Config()
    if path is not None:
        if not path.is_file():
            raise ConvertError(f"config file {path}: no such file")
        loader_cls = JSONFileConfigLoader if path.suffix == ".json" else PyFileConfigLoader
        config.merge(loader_cls(path.name, path=str(path.parent)).load_config())
    for item in overrides:
        if not set_option(config, item):
            raise ConvertError(f"unknown option {item!r}; expected --Class.trait=value")
    return config


def _summary(result: dict[str, Any]) -> str:
    lines = [
        f"score {result['score']:g} / {result['max_score']:g}"
        + ("  (needs manual grading)" if result["needs_manual"] else "")
    ]
    for name, nb in result["notebooks"].items():
        lines.append(f"  {name}: {nb['score']:g} / {nb['max_score']:g} [{nb['status']}]")
        for grade_id, cell in nb["cells"].items():
            score = "-" if cell["score"] is None else f"{cell['score']:g}"
            lines.append(f"    {grade_id}: {score} / {cell['max_score']:g} {cell['status']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args, extra = _parser().parse_known_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = _load_config(args.config, extra)
        if args.command == "generate_assignment":
            book = generate_assignment(args.input, args.output, args.gradebook, config=config)
            print(
                f"released {len(book['notebooks'])} notebook(s), max score {book['max_score']:g}; "
                f"gradebook written to {args.gradebook}"
            )
        elif args.command == "autograde":
            result = autograde(
                args.input,
                args.output,
                args.gradebook,
                cell_timeout=args.cell_timeout,
                timeout=args.timeout,
                config=config,
            )
            for error in result["errors"]:
                print(f"warning: {error}", file=sys.stderr)
            print(json.dumps(result, indent=1, sort_keys=True) if args.json else _summary(result))
        else:
            result_data = None
            if args.result is not None:
                try:
                    result_data = json.loads(args.result.read_text(encoding="utf-8"))
                except (OSError, ValueError) as err:
                    raise ConvertError(f"result file {args.result}: {err}") from None
            pages = generate_feedback(
                args.input, args.output, args.gradebook, result=result_data, config=config
            )
            for name, page in pages.items():
                print(f"{name} -> {page}")
    except ConvertError as err:
        print(f"grader-convert {args.command}: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
