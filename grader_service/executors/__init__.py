"""executors package of the grader service."""
