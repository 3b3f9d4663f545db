"""auth package of the grader service."""
