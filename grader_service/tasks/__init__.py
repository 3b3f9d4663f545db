"""tasks package of the grader service."""
