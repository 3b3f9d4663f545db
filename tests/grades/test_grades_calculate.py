"""Hand-worked cases of the grading arithmetic: assignment percent, category, lecture rounding, letters."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from grader_service.grades import assignment_percent
from grader_service.grades.calculate import category_average, is_passed, letter_for, round_lecture_percent

F = Fraction


@pytest.mark.parametrize(
    ("earned", "possible", "expected"),
    [
        # 12345/100000 = 0.12345 exactly: a tie between 0.1234 and 0.1235 → the even digit, 0.1234.
        (12345, 100000, 0.1234),
        # 0.12355 exactly: a tie between 0.1235 and 0.1236 → even, 0.1236.
        (12355, 100000, 0.1236),
        # The same ties written as floats: taken as the decimals written, not as their binary values.
        # round(0.12345, 4) == round(0.12355, 4) == 0.1235, because 0.12345 is stored as
        # 0.1234500000000000041… and 0.12355 as 0.1235499999999999931….
        (0.12345, 1, 0.1234),
        (0.12355, 1, 0.1236),
        # 5/100000 = 0.00005: tie between 0.0000 and 0.0001 → 0.0; 15/100000 = 0.00015 → 0.0002.
        (5, 100000, 0.0),
        (15, 100000, 0.0002),
        # 1/3 = 0.33333… → 0.3333; 2/3 = 0.66666… → 0.6667 (not a tie: plain nearest).
        (1, 3, 0.3333),
        (2, 3, 0.6667),
        # Float quotients miss ties both ways: 0.15 / 1.6 = 0.09375 exactly → tie → 0.0938 (float
        # quotient 0.09374999999999999 would give 0.0937); 0.27 / 0.96 = 0.28125 → tie → 0.2812 (float
        # quotient 0.28125000000000006 would give 0.2813).
        (0.15, 1.6, 0.0938),
        (0.27, 0.96, 0.2812),
        (Decimal("1.5"), Decimal(2), 0.75),
        (17, 20, 0.85),
        # possible 0 → 0, whatever was earned.
        (0, 0, 0.0),
        (3, 0, 0.0),
        # Extra credit is not capped: 12/10 → 1.2.
        (12, 10, 1.2),
    ],
)
def test_assignment_percent(earned: float, possible: float, expected: float) -> None:
    assert assignment_percent(earned, possible) == expected


@pytest.mark.parametrize("bad", [-1, True, "3", float("nan"), None])
def test_assignment_percent_rejects_bad_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="earned: must be a finite number at least 0"):
        assignment_percent(bad, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="possible: must be a finite number at least 0"):
        assignment_percent(1, bad)  # type: ignore[arg-type]


def test_category_pads_drops_padding_first_and_averages_the_rest() -> None:
    # Slots 0.8, 0.6, 1.0 and one zero of padding (min_count 4). Drop 2: the padding zero (slot 3),
    # then 0.6 (slot 1). Average (0.8 + 1.0) / 2 = 0.9.
    result = category_average([F("0.8"), F("0.6"), F("1")], min_count=4, drop_count=2)
    assert result.slots == (F("0.8"), F("0.6"), F(1), F(0))
    assert result.dropped == {3, 1}
    assert result.percent == F("0.9")


def test_category_among_ties_drops_the_later() -> None:
    # 0.5, 0.5, 0.9, drop 1: the later 0.5 (slot 1) goes. (0.5 + 0.9) / 2 = 0.7.
    result = category_average([F("0.5"), F("0.5"), F("0.9")], min_count=0, drop_count=1)
    assert result.dropped == {1}
    assert result.percent == F("0.7")


def test_category_padding_zero_goes_before_a_real_zero() -> None:
    # A real 0 in slot 0, 0.7 in slot 1, padding 0 in slot 2 (min_count 3); drop 1 → slot 2.
    # (0 + 0.7) / 2 = 0.35.
    result = category_average([F(0), F("0.7")], min_count=3, drop_count=1)
    assert result.dropped == {2}
    assert result.percent == F("0.35")


def test_category_keeps_every_assignment_beyond_min_count_and_is_not_rounded() -> None:
    # min_count 2 but three assignments: (1 + 0.5 + 0.25) / 3 = 1.75 / 3 = 7/12 = 0.58333…
    result = category_average([F(1), F("0.5"), F("0.25")], min_count=2, drop_count=0)
    assert result.percent == F(7, 12)


def test_category_with_everything_dropped_or_nothing_to_count_is_zero() -> None:
    # One slot (0.9), drop 2 (more than there are: allowed as in edX): nothing left → 0.
    assert category_average([F("0.9")], min_count=1, drop_count=2).percent == 0
    # No assignment and min_count 0: no slot at all → 0.
    empty = category_average([], min_count=0, drop_count=0)
    assert empty.percent == 0
    assert empty.slots == ()
    # Only padding: min_count 2 → (0 + 0) / 2 = 0.
    assert category_average([], min_count=2, drop_count=0).percent == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # floor(raw × 100 + 0.55) / 100, evaluated exactly:
        ("0.845", "0.85"),  # 84.5 + 0.55 = 85.05 → 85
        ("0.8449", "0.85"),  # 84.49 + 0.55 = 85.04 → 85 (anything from x.45 up rounds up, so not 0.84)
        ("0.8445", "0.85"),  # 84.45 + 0.55 = 85.00 → 85: exactly x.45 rounds up
        ("0.8444", "0.84"),  # 84.44 + 0.55 = 84.99 → 84
        ("0.835", "0.84"),  # 83.5 + 0.55 = 84.05 → 84
        ("0.8345", "0.84"),  # 83.45 + 0.55 = 84.00 → 84
        ("0.83449", "0.83"),  # 83.449 + 0.55 = 83.999 → 83
        # 7.45 + 0.55 = 8.00 → 8; in floats 0.0745 * 100 = 7.449999… → 7 (a float slip edX has).
        ("0.0745", "0.08"),
        ("0.2845", "0.29"),  # 28.45 + 0.55 = 29.00 → 29; in floats 28.449999… → 28
        ("0.0045", "0.01"),  # 0.45 + 0.55 = 1.00 → 1
        ("0.0044", "0"),  # 0.44 + 0.55 = 0.99 → 0
        ("0", "0"),  # 0.55 → 0
        ("1", "1"),  # 100.55 → 100
        ("1.5", "1.5"),  # weights summing above 1: 150.55 → 150
    ],
)
def test_lecture_rounding(raw: str, expected: str) -> None:
    assert round_lecture_percent(F(raw)) == F(expected)


CUTOFFS = [("A", F("0.9")), ("B", F("0.8")), ("C", F("0.5"))]


@pytest.mark.parametrize(
    ("percent", "letter", "passed"),
    [
        ("1", "A", True),
        ("0.9", "A", True),  # reaching a cutoff exactly earns it
        ("0.89", "B", True),
        ("0.8", "B", True),
        ("0.5", "C", True),  # C is the lowest non-zero cutoff: pass
        ("0.49", "", False),
        ("0", "", False),
    ],
)
def test_letter_and_passed(percent: str, letter: str, passed: bool) -> None:
    assert letter_for(F(percent), CUTOFFS) == letter
    assert is_passed(F(percent), CUTOFFS) is passed


def test_a_zero_cutoff_gives_its_letter_but_not_a_pass() -> None:
    cutoffs = [("Pass", F("0.5")), ("F", F(0))]
    assert (letter_for(F("0.3"), cutoffs), is_passed(F("0.3"), cutoffs)) == ("F", False)
    # Only zero cutoffs: nobody passes, not even at 100 %.
    assert is_passed(F(1), [("F", F(0))]) is False


def test_no_cutoffs_no_letter_never_passed() -> None:
    assert (letter_for(F(1), []), is_passed(F(1), [])) == ("", False)
