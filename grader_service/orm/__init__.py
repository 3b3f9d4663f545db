"""orm package of the grader service."""
