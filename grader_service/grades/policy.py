"""Grading policy of a lecture: validation with field-named errors, parsed form, and its hash.

Policies are accepted as Open edX writes them (a course export's `grading_policy.json`, what Studio
stores): counts and weights may be numeric strings ("3", "0.25"), as Studio's grading form sends them and
converts them with int()/float(); an entry with `name` and no counts is a single-section grader, which
Open edX itself now reads as one assignment of its type (min_count 1, drop_count 0); and the keys Open
edX's assignment-format grader takes for display only (`section_type`, `show_only_average`,
`hide_average`, `starting_index`), Studio's `id` and `passing_grade` are accepted and kept, but do not
enter the grade. The stored document stays as it was sent (its hash too).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from grader_service.grades.numbers import describe, is_number, to_fraction
from grader_service.schemas.text import no_control_characters

GRADER_KEYS = ("type", "min_count", "drop_count", "weight", "short_label", "category")
#: keys Open edX documents carry that are accepted and kept but do not enter the grade
EDX_DISPLAY_KEYS = (
    "name",
    "id",
    "section_type",
    "show_only_average",
    "hide_average",
    "starting_index",
    "passing_grade",
)
REQUIRED_GRADER_KEYS = ("type", "min_count", "drop_count", "weight")
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d{1,9}\s*")
_DECIMAL_TEXT = re.compile(r"\s*[+-]?(?:\d{1,12}(?:\.\d{0,12})?|\.\d{1,12})\s*")
POLICY_KEYS = ("GRADER", "GRADE_CUTOFFS")

# Not an edX rule: every counted slot becomes a breakdown entry, so an unbounded min_count would let
# one policy make every grade computation of the lecture allocate without limit.
MAX_COUNT = 1000

#: the policy of a lecture that has not set one: every Homework counts equally; 50 % passes
DEFAULT_POLICY: dict[str, Any] = {
    "GRADER": [{"type": "Homework", "min_count": 0, "drop_count": 0, "weight": 1.0, "short_label": "HW"}],
    "GRADE_CUTOFFS": {"Pass": 0.5},
}


class PolicyError(ValueError):
    """A grading or late-penalty policy is invalid; `errors` lists every `{"field", "message"}`."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))

    def __reduce__(self) -> tuple[type[PolicyError], tuple[list[dict[str, str]]]]:
        # Rebuild from the error list, not the joined message, when pickled (e.g. across processes).
        return (type(self), (self.errors,))


@dataclass(frozen=True)
class GraderRule:
    """One validated GRADER entry; numbers are exact."""

    type: str
    min_count: int
    drop_count: int
    weight: Fraction
    short_label: str
    category: str


@dataclass(frozen=True)
class GradingPolicy:
    """A validated policy: rules in policy order, cutoffs from the highest to the lowest."""

    rules: tuple[GraderRule, ...]
    cutoffs: tuple[tuple[str, Fraction], ...]


class _Errors:
    """Collects every problem so one response can name all bad fields at once."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})


def validate_policy(policy: Any) -> None:
    """Raise PolicyError naming every bad field of `policy`; return None when it is valid."""
    parse_policy(policy)


def parse_policy(policy: Any) -> GradingPolicy:
    """Validate `policy` and return its exact, parsed form; raise PolicyError listing every problem."""
    errors = _Errors()
    if not isinstance(policy, Mapping):
        errors.add("policy", f"must be an object with GRADER and GRADE_CUTOFFS, got {describe(policy)}")
        raise PolicyError(errors.items)
    for key in policy:
        if key not in POLICY_KEYS:
            errors.add(str(key), "unknown key (expected GRADER and GRADE_CUTOFFS)")
    rules = _parse_grader(policy, errors)
    cutoffs = _parse_cutoffs(policy, errors)
    if errors.items:
        raise PolicyError(errors.items)
    return GradingPolicy(rules=rules, cutoffs=cutoffs)


def policy_hash(policy: Mapping[str, Any]) -> str:
    """Standard base64 of the SHA-1 of the policy as compact JSON with sorted keys (28 characters)."""
    text = json.dumps(policy, sort_keys=True, separators=(",", ":"))
    return base64.b64encode(hashlib.sha1(text.encode("utf-8")).digest()).decode("ascii")


def _parse_grader(policy: Mapping[str, Any], errors: _Errors) -> tuple[GraderRule, ...]:
    if "GRADER" not in policy:
        errors.add("GRADER", "required")
        return ()
    entries = policy["GRADER"]
    if not isinstance(entries, list):
        errors.add("GRADER", f"must be a list of assignment types, got {describe(entries)}")
        return ()
    rules: list[GraderRule] = []
    first_index: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        rule = _parse_rule(f"GRADER[{index}]", entry, errors)
        if rule is None:
            continue
        # Types pick the assignments and categories key the result, so neither may repeat. A repeated
        # type usually repeats the defaulted category too: report only the type then.
        for name, value in (("type", rule.type), ("category", rule.category)):
            seen = first_index.setdefault((name, value), index)
            if seen != index:
                errors.add(f"GRADER[{index}].{name}", f"{value!r} is already used by GRADER[{seen}]")
                break
        rules.append(rule)
    return tuple(rules)


def _parse_rule(prefix: str, entry: Any, errors: _Errors) -> GraderRule | None:
    if not isinstance(entry, Mapping):
        errors.add(prefix, f"must be an object, got {describe(entry)}")
        return None
    before = len(errors.items)
    known = GRADER_KEYS + EDX_DISPLAY_KEYS
    for key in entry:
        if key not in known:
            errors.add(f"{prefix}.{key}", f"unknown key (expected one of {', '.join(known)})")
    # Open edX's single-section grader: `name` and no counts means one assignment of this type
    single = "name" in entry and "min_count" not in entry and "drop_count" not in entry
    for key in REQUIRED_GRADER_KEYS:
        if key not in entry and not (single and key in ("min_count", "drop_count")):
            errors.add(f"{prefix}.{key}", "required")
    for key in ("type", "category", "name", "section_type"):
        if key in entry and not _is_label(entry[key]):
            errors.add(f"{prefix}.{key}", f"must be a non-empty string, got {describe(entry[key])}")
        elif key in entry and _control_problem(entry[key]):
            errors.add(f"{prefix}.{key}", _control_problem(entry[key]))
    # Studio writes "" (and null) for a type without a short label; Open edX then shows the type
    label = entry.get("short_label")
    if label is not None and not isinstance(label, str):
        errors.add(f"{prefix}.short_label", f"must be a string, got {describe(label)}")
    elif label and _control_problem(label):
        errors.add(f"{prefix}.short_label", _control_problem(label))
    counts = {"min_count": 1, "drop_count": 0} if single else {}
    for key in ("min_count", "drop_count"):
        if key in entry:
            counts[key] = _count(f"{prefix}.{key}", entry[key], errors)
    weight = _weight(f"{prefix}.weight", entry["weight"], errors) if "weight" in entry else None
    _check_display_keys(prefix, entry, errors)
    if len(errors.items) > before or weight is None:
        return None
    # drop_count above min_count is allowed, as in edX: it drops real assignments too (possibly all).
    kind = entry["type"]
    return GraderRule(
        type=kind,
        min_count=counts["min_count"],
        drop_count=counts["drop_count"],
        weight=weight,
        short_label=(entry.get("short_label") or "").strip() or kind,
        category=entry.get("category", kind),
    )


def _numeric_text(value: Any, pattern: re.Pattern[str]) -> Fraction | None:
    """The exact value of a numeric string such as Studio's form sends ("3", "0.25"); None otherwise."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return Fraction(value.strip())
    return None


def _count(field: str, value: Any, errors: _Errors) -> int:
    text = _numeric_text(value, _INTEGER_TEXT)
    if text is not None:
        value = int(text)
    _check_count(field, value, errors)
    return value if isinstance(value, int) else 0


def _weight(field: str, value: Any, errors: _Errors) -> Fraction | None:
    exact = _numeric_text(value, _DECIMAL_TEXT)
    if exact is None:
        if not is_number(value):
            errors.add(field, f"must be a finite number (or a numeric string), got {describe(value)}")
            return None
        exact = to_fraction(value)
    if exact < 0:
        errors.add(field, f"must be at least 0, got {describe(value)}")
        return None
    return exact


def _check_display_keys(prefix: str, entry: Mapping[str, Any], errors: _Errors) -> None:
    """The Open edX extras do not enter the grade, but a wrong type is still a mistake worth naming."""
    for key in ("show_only_average", "hide_average"):
        if key in entry and not isinstance(entry[key], bool):
            errors.add(f"{prefix}.{key}", f"must be true or false, got {describe(entry[key])}")
    for key in ("starting_index", "id"):
        if key in entry:
            value = entry[key]
            if _numeric_text(value, _INTEGER_TEXT) is None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                errors.add(f"{prefix}.{key}", f"must be a whole number of at least 0, got {describe(value)}")
    if "passing_grade" in entry:
        value = entry["passing_grade"]
        if _numeric_text(value, _DECIMAL_TEXT) is None and not is_number(value):
            errors.add(f"{prefix}.passing_grade", f"must be a number, got {describe(value)}")


def _check_count(field: str, value: Any, errors: _Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, f"must be a whole number, got {describe(value)}")
    elif value < 0:
        errors.add(field, f"must be at least 0, got {value}")
    elif value > MAX_COUNT:
        errors.add(field, f"must be at most {MAX_COUNT}, got {value}")


def _parse_cutoffs(policy: Mapping[str, Any], errors: _Errors) -> tuple[tuple[str, Fraction], ...]:
    if "GRADE_CUTOFFS" not in policy:
        errors.add("GRADE_CUTOFFS", "required (use {} for a lecture without letter grades)")
        return ()
    cutoffs = policy["GRADE_CUTOFFS"]
    if not isinstance(cutoffs, Mapping):
        errors.add("GRADE_CUTOFFS", f"must be an object of letter → cutoff, got {describe(cutoffs)}")
        return ()
    parsed: list[tuple[str, Fraction]] = []
    owner: dict[Fraction, str] = {}
    # Sorted so the error for two letters sharing a cutoff does not depend on key order.
    for letter in sorted(cutoffs, key=str):
        value = cutoffs[letter]
        field = f"GRADE_CUTOFFS.{letter}"
        if not _is_label(letter):
            errors.add("GRADE_CUTOFFS", f"letters must be non-empty strings, got {describe(letter)}")
        elif _control_problem(letter):
            errors.add("GRADE_CUTOFFS", f"letters {_control_problem(letter)}")
        elif not is_number(value):
            errors.add(field, f"must be a finite number, got {describe(value)}")
        elif not 0 <= value <= 1:
            errors.add(field, f"must be within 0..1, got {value!r}")
        else:
            exact = to_fraction(value)
            if exact in owner:
                # Equal cutoffs would make the letter depend on key order, which the hash ignores.
                errors.add(field, f"same cutoff as {owner[exact]!r}; letters need distinct cutoffs")
            else:
                owner[exact] = letter
                parsed.append((letter, exact))
    return tuple(sorted(parsed, key=lambda item: item[1], reverse=True))


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _control_problem(label: str) -> str:
    """Why a label is refused for control characters (NUL breaks PostgreSQL, others the CSV report), or ''."""
    try:
        no_control_characters(label)
    except ValueError as exc:
        return str(exc)
    return ""
