"""Entry point of the sandboxed grading process: `python -m grader_service.executors.grade_entry ARGS`
is `grader-convert ARGS`, minus one cost: jsonschema imports every optional format checker it finds, and
one of them (rfc3987_syntax, present when some Jupyter packages are installed) compiles a grammar for most
of a second at import. The pipeline's schemas use no such format, so this process blocks that import."""

from __future__ import annotations

import sys


def main() -> None:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from grader_service.convert.cli import main as convert_main

    sys.exit(convert_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
