"""Small self-contained HTML rendering of graded notebooks (feedback pages)."""
