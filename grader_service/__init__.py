"""Grader Service: autograding for Jupyter notebook courses."""

__version__ = "0.1.0"
