"""services package of the grader service."""
