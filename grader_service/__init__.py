"""Grader Service: autograding for Jupyter notebook courses."""

import sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat, so by every part of the service) imports `rfc3987_syntax` when it is
# installed, only to check the "iri" formats, and that module compiles a grammar at import: 2–3 s of CPU
# in every process that reads a notebook (the service, each worker, each `grader-convert` a pod runs).
# None of the schemas used here has an "iri" format, so the import is declined (jsonschema then simply
# has no checker for those formats).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None in sys.modules blocks an import
