"""Late-submission penalties: ISO 8601 durations, period validation and the scaling of a submission."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from grader_service.grades.numbers import describe, is_number
from grader_service.grades.policy import PolicyError

_NUMBER = r"\d+(?:[.,]\d+)?"
# ISO 8601 weeks stand alone (PnW); otherwise days and a time part. Years and months are refused
# before this pattern is tried, with their own message.
_DURATION = re.compile(
    rf"P(?:(?P<weeks>{_NUMBER})W"
    rf"|(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?)"
)
_DATE_PART = re.compile(r"P([^T]*)")
_SECONDS = {"weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_EXAMPLES = "e.g. P1W, P2D, PT12H or P1DT6H30M"


class LatePeriod(NamedTuple):
    """A validated late period: submissions at most `period` late are scaled by `scaling`."""

    period: timedelta
    scaling: float


def parse_iso_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks (PnW) or days and time (PnDTnHnMnS); years and months are refused.

    A decimal fraction (dot or comma) is allowed on the last component only, as ISO 8601 says.
    Raises ValueError saying what is wrong (TypeError when `text` is not a string).
    """
    if not isinstance(text, str):
        raise TypeError(f"must be an ISO 8601 duration string ({_EXAMPLES}), got {describe(text)}")
    if text.startswith("-"):
        raise ValueError(f"must not be negative, got {text!r}")
    date_part = _DATE_PART.match(text)
    if date_part and re.search(r"[YM]", date_part.group(1)):
        raise ValueError(
            f"years and months are not supported because their length varies; use weeks or days, got {text!r}"
        )
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"must be an ISO 8601 duration ({_EXAMPLES}), got {text!r}")
    given = [(name, value) for name, value in match.groupdict().items() if value is not None]
    if not given or (text.endswith("T")):
        raise ValueError(f"must give at least one value after P and after T ({_EXAMPLES}), got {text!r}")
    if any(re.search(r"[.,]", value) for _, value in given[:-1]):
        raise ValueError(f"only the last component may have a fraction, got {text!r}")
    seconds = sum((Decimal(value.replace(",", ".")) * _SECONDS[name] for name, value in given), Decimal(0))
    try:
        return timedelta(microseconds=int((seconds * 1_000_000).to_integral_value()))
    except (OverflowError, InvalidOperation):
        raise ValueError(f"is too long, got {text!r}") from None


def validate_late_periods(periods: Any) -> list[LatePeriod]:
    """Check `[{"period", "scaling"}, ...]` and return it parsed; raise PolicyError naming index and field.

    Periods (timedelta or ISO 8601 string) must be positive and strictly increasing; scalings must be
    within 0..1 and strictly decreasing, so a later submission never scores more.
    """
    if isinstance(periods, str | bytes) or not isinstance(periods, Sequence):
        raise PolicyError([{"field": "periods", "message": f"must be a list, got {describe(periods)}"}])
    errors: list[dict[str, str]] = []
    parsed: list[LatePeriod | None] = []
    for index, item in enumerate(periods):
        entry = _parse_period(f"periods[{index}]", item, errors)
        previous = parsed[-1] if parsed else None
        if entry is not None and previous is not None:
            if entry.period <= previous.period:
                errors.append(_error(index, "period", f"must be longer than periods[{index - 1}].period"))
            if entry.scaling >= previous.scaling:
                errors.append(_error(index, "scaling", f"must be less than periods[{index - 1}].scaling"))
        parsed.append(entry)
    if errors:
        raise PolicyError(errors)
    return [entry for entry in parsed if entry is not None]


def late_scaling(deadline: datetime, submitted_at: datetime, periods: list[dict[str, Any]]) -> float | None:
    """1.0 on time (at or before the deadline), the scaling of the first period covering the lateness,
    or None when the submission is later than the last period and must be refused.

    Both datetimes must be timezone-aware; `periods` is validated as validate_late_periods does.
    """
    _require_aware("deadline", deadline)
    _require_aware("submitted_at", submitted_at)
    rules = validate_late_periods(periods)
    lateness = submitted_at - deadline
    if lateness <= timedelta(0):
        return 1.0
    for rule in rules:
        if lateness <= rule.period:
            return rule.scaling
    return None


def _parse_period(prefix: str, item: Any, errors: list[dict[str, str]]) -> LatePeriod | None:
    if not isinstance(item, Mapping):
        errors.append({"field": prefix, "message": f"must be an object, got {describe(item)}"})
        return None
    before = len(errors)
    for key in item:
        if key not in ("period", "scaling"):
            errors.append(
                {"field": f"{prefix}.{key}", "message": "unknown key (expected period and scaling)"}
            )
    for key in ("period", "scaling"):
        if key not in item:
            errors.append({"field": f"{prefix}.{key}", "message": "required"})
    period = _period_value(prefix, item.get("period"), errors) if "period" in item else None
    scaling: Any = item.get("scaling")
    if "scaling" in item and (not is_number(scaling) or not 0 <= scaling <= 1):
        errors.append(
            {"field": f"{prefix}.scaling", "message": f"must be within 0..1, got {describe(scaling)}"}
        )
    if len(errors) > before or period is None:
        return None
    return LatePeriod(period=period, scaling=float(scaling))


def _period_value(prefix: str, value: Any, errors: list[dict[str, str]]) -> timedelta | None:
    try:
        period = value if isinstance(value, timedelta) else parse_iso_duration(value)
    except (ValueError, TypeError) as exc:
        errors.append({"field": f"{prefix}.period", "message": str(exc)})
        return None
    if period <= timedelta(0):
        errors.append(
            {"field": f"{prefix}.period", "message": f"must be longer than zero, got {describe(value)}"}
        )
        return None
    return period


def _error(index: int, field: str, message: str) -> dict[str, str]:
    return {"field": f"periods[{index}].{field}", "message": message}


def _require_aware(name: str, value: Any) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name}: must be a datetime, got {describe(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: must be timezone-aware (naive datetimes are ambiguous), got {value!r}")
