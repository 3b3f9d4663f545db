"""Pure grading arithmetic with edX semantics: assignment percent, category average, lecture rounding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from grader_service.grades.numbers import Number, describe, is_number, to_fraction

ASSIGNMENT_PLACES = 4
# edX: round_away_from_zero(raw * 100 + 0.05) / 100, i.e. floor(raw * 100 + 0.55) / 100 for raw >= 0.
LECTURE_BIAS = Fraction(55, 100)


def assignment_percent(earned: Number, possible: Number) -> float:
    """earned / possible rounded to 4 places, ties to even, on the decimal values; 0 when possible is 0."""
    return float(exact_assignment_percent(earned, possible))


def exact_assignment_percent(earned: Number, possible: Number) -> Fraction:
    """The exact value behind assignment_percent.

    The ratio is taken exactly on the numbers as written (floats through their shortest repr) and
    then rounded half to even, so 0.12345 → 0.1234 and 0.12355 → 0.1236. round() on the float
    quotient would give 0.1235 for both, because the binary values sit just above and just below
    the ties.
    """
    for name, value in (("earned", earned), ("possible", possible)):
        if not is_number(value) or value < 0:
            raise ValueError(f"{name}: must be a finite number at least 0, got {describe(value)}")
    exact_possible = to_fraction(possible)
    if exact_possible == 0:
        return Fraction(0)
    # Fraction.__round__ with ndigits rounds exactly, ties to even.
    return round(to_fraction(earned) / exact_possible, ASSIGNMENT_PLACES)


@dataclass(frozen=True)
class CategoryResult:
    """A category's average and, per slot (assignments then padding), whether it was dropped."""

    percent: Fraction
    slots: tuple[Fraction, ...]
    dropped: frozenset[int]


def category_average(percents: Sequence[Fraction], min_count: int, drop_count: int) -> CategoryResult:
    """Pad with zeros to min_count, drop the lowest drop_count, average the rest (0 if none is left).

    Among equal scores the later slot is dropped first, and padding comes after the real
    assignments, so padding zeros go before a real zero.
    """
    slots = tuple(percents) + (Fraction(0),) * max(0, min_count - len(percents))
    # Lowest first; among equals the highest index (the later slot) first.
    order = sorted(range(len(slots)), key=lambda i: (slots[i], -i))
    dropped = frozenset(order[:drop_count])
    kept = [slots[i] for i in range(len(slots)) if i not in dropped]
    percent = sum(kept, Fraction(0)) / len(kept) if kept else Fraction(0)
    return CategoryResult(percent=percent, slots=slots, dropped=dropped)


def round_lecture_percent(raw: Fraction) -> Fraction:
    """edX rounding to whole percents, evaluated exactly: floor(raw × 100 + 0.55) / 100 (x.45 % rounds up)."""
    return Fraction(math.floor(raw * 100 + LECTURE_BIAS), 100)


def letter_for(percent: Fraction, cutoffs: Sequence[tuple[str, Fraction]]) -> str:
    """The letter of the highest cutoff reached, "" when none is; cutoffs run highest first."""
    for letter, cutoff in cutoffs:
        if percent >= cutoff:
            return letter
    return ""


def is_passed(percent: Fraction, cutoffs: Sequence[tuple[str, Fraction]]) -> bool:
    """Whether percent reaches the lowest non-zero cutoff; never when there is none."""
    nonzero = [cutoff for _, cutoff in cutoffs if cutoff > 0]
    return bool(nonzero) and percent >= min(nonzero)
