"""Exact rational view of the JSON numbers that grading reads (scores, weights, cutoffs)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

# float admits int (PEP 484 numeric tower); bool is refused at run time by is_number.
Number = float | Decimal

# Grading works on Fractions so binary float error never decides a rounding boundary. A float is
# taken at its shortest decimal repr (0.1 means one tenth, the number the author wrote), not at its
# exact binary value (0.1000000000000000055...).


def is_number(value: Any) -> bool:
    """Whether `value` is a finite int, float or Decimal; bool is not a number here."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, Decimal) and value.is_finite()


def to_fraction(value: Number) -> Fraction:
    """The exact value of a number as written: floats through their shortest repr."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def describe(value: Any) -> str:
    """A short rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
