"""git package of the grader service."""
