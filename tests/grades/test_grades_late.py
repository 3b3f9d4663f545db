"""Late penalties: ISO 8601 durations, late-period validation and the scaling of a submission."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from grader_service.grades import PolicyError
from grader_service.grades.late import LatePeriod, late_scaling, parse_iso_duration, validate_late_periods

DEADLINE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PERIODS: list[dict[str, Any]] = [{"period": "P1D", "scaling": 0.8}, {"period": "P1W", "scaling": 0.5}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1W", timedelta(weeks=1)),
        ("P2D", timedelta(days=2)),
        ("PT12H", timedelta(hours=12)),
        ("P1DT6H30M", timedelta(days=1, hours=6, minutes=30)),
        ("PT90M", timedelta(minutes=90)),
        ("PT36H", timedelta(hours=36)),
        ("PT1M", timedelta(minutes=1)),  # M after T is minutes, not months
        ("PT0.5S", timedelta(milliseconds=500)),
        ("P0,5D", timedelta(hours=12)),  # ISO allows a comma as the decimal sign
        ("P1.5W", timedelta(days=10, hours=12)),
        ("PT0S", timedelta(0)),
    ],
)
def test_parse_iso_duration(text: str, expected: timedelta) -> None:
    assert parse_iso_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("P1M", "years and months are not supported"),
        ("P1Y", "years and months are not supported"),
        ("P1Y2M3DT4H", "years and months are not supported"),
        ("P", "at least one value"),
        ("PT", "at least one value"),
        ("P1DT", "at least one value"),
        ("P1W2D", "must be an ISO 8601 duration"),  # weeks stand alone in ISO 8601
        ("1D", "must be an ISO 8601 duration"),
        ("p1d", "must be an ISO 8601 duration"),
        ("PT1H30", "must be an ISO 8601 duration"),
        ("P1DT1H ", "must be an ISO 8601 duration"),
        ("-P1D", "must not be negative"),
        ("P1.5DT2H", "only the last component may have a fraction"),
        ("P99999999999W", "too long"),
    ],
)
def test_parse_iso_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_iso_duration(text)


def test_parse_iso_duration_rejects_a_non_string() -> None:
    with pytest.raises(TypeError, match="must be an ISO 8601 duration string"):
        parse_iso_duration(86400)  # type: ignore[arg-type]


def test_validate_late_periods_parses_strings_and_timedeltas() -> None:
    periods = [{"period": timedelta(hours=1), "scaling": 1}, {"period": "P1D", "scaling": 0.5}]
    assert validate_late_periods(periods) == [
        LatePeriod(timedelta(hours=1), 1.0),
        LatePeriod(timedelta(days=1), 0.5),
    ]
    assert validate_late_periods([]) == []


@pytest.mark.parametrize(
    ("periods", "field", "message"),
    [
        (
            [{"period": "P1D", "scaling": 0.8}, {"period": "PT24H", "scaling": 0.5}],
            "periods[1].period",
            "longer than",
        ),
        (
            [{"period": "P1D", "scaling": 0.8}, {"period": "P2D", "scaling": 0.8}],
            "periods[1].scaling",
            "less than",
        ),
        ([{"period": "P1D", "scaling": 1.5}], "periods[0].scaling", "within 0..1"),
        ([{"period": "P1D", "scaling": -0.1}], "periods[0].scaling", "within 0..1"),
        ([{"period": "P1D", "scaling": True}], "periods[0].scaling", "within 0..1"),
        ([{"period": "P1D", "scaling": "0.5"}], "periods[0].scaling", "within 0..1"),
        ([{"period": "PT0S", "scaling": 0.5}], "periods[0].period", "longer than zero"),
        ([{"period": timedelta(hours=-1), "scaling": 0.5}], "periods[0].period", "longer than zero"),
        ([{"period": "P1M", "scaling": 0.5}], "periods[0].period", "months"),
        ([{"period": 3600, "scaling": 0.5}], "periods[0].period", "duration string"),
        ([{"period": "P1D"}], "periods[0].scaling", "required"),
        ([{"scaling": 0.5}], "periods[0].period", "required"),
        ([{"period": "P1D", "scaling": 0.5, "grace": 1}], "periods[0].grace", "unknown key"),
        (["P1D"], "periods[0]", "must be an object"),
        ({"period": "P1D", "scaling": 0.5}, "periods", "must be a list"),
    ],
)
def test_validate_late_periods_names_index_and_field(periods: Any, field: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        validate_late_periods(periods)
    assert [e["field"] for e in info.value.errors] == [field]
    assert message in info.value.errors[0]["message"]


def test_validate_late_periods_reports_every_problem() -> None:
    periods = [
        {"period": "P2D", "scaling": 0.5},
        {"period": "P1D", "scaling": 0.7},
        {"period": "P1Y", "scaling": 2},
    ]
    with pytest.raises(PolicyError) as info:
        validate_late_periods(periods)
    assert [e["field"] for e in info.value.errors] == [
        "periods[1].period",
        "periods[1].scaling",
        "periods[2].period",
        "periods[2].scaling",
    ]


@pytest.mark.parametrize(
    ("late_by", "expected"),
    [
        (timedelta(minutes=-1), 1.0),
        (timedelta(0), 1.0),  # exactly at the deadline is on time
        (timedelta(seconds=1), 0.8),
        (timedelta(days=1), 0.8),  # a period covers lateness up to and including its length
        (timedelta(days=1, microseconds=1), 0.5),
        (timedelta(weeks=1), 0.5),
        (timedelta(weeks=1, seconds=1), None),  # past the last period: refused
    ],
)
def test_late_scaling(late_by: timedelta, expected: float | None) -> None:
    assert late_scaling(DEADLINE, DEADLINE + late_by, PERIODS) == expected


def test_late_scaling_without_periods_refuses_any_lateness() -> None:
    assert late_scaling(DEADLINE, DEADLINE, []) == 1.0
    assert late_scaling(DEADLINE, DEADLINE + timedelta(microseconds=1), []) is None


def test_late_scaling_compares_instants_across_time_zones() -> None:
    # 13:30 at UTC+2 is 11:30 UTC: half an hour before the 12:00 UTC deadline.
    cest = timezone(timedelta(hours=2))
    assert late_scaling(DEADLINE, datetime(2024, 5, 1, 13, 30, tzinfo=cest), PERIODS) == 1.0
    # 14:30 at UTC+2 is 12:30 UTC: within the first day.
    assert late_scaling(DEADLINE, datetime(2024, 5, 1, 14, 30, tzinfo=cest), PERIODS) == 0.8


def test_late_scaling_requires_aware_datetimes() -> None:
    naive = datetime(2024, 5, 1, 12, 0)  # naive on purpose
    with pytest.raises(ValueError, match="deadline: must be timezone-aware"):
        late_scaling(naive, DEADLINE, PERIODS)
    with pytest.raises(ValueError, match="submitted_at: must be timezone-aware"):
        late_scaling(DEADLINE, naive, PERIODS)
    with pytest.raises(TypeError, match="deadline: must be a datetime"):
        late_scaling("2024-05-01T12:00Z", DEADLINE, PERIODS)  # type: ignore[arg-type]


def test_late_scaling_rejects_invalid_periods_even_on_time() -> None:
    with pytest.raises(PolicyError, match=r"periods\[0\]\.scaling"):
        late_scaling(DEADLINE, DEADLINE, [{"period": "P1D", "scaling": 2}])
