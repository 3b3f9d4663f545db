"""Validated text types for request bodies: no NUL or other control characters, named in the 400."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls, DEL, C1 controls and lone surrogates. PostgreSQL refuses NUL in text and surrogates in
# UTF-8, SQLite stores them silently; either way they break logs, CSV reports, terminals and git paths.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same set minus tab, line feed and carriage return, for free text that legitimately spans lines.
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _describe(char: str) -> str:
    return "NUL" if char == "\x00" else f"U+{ord(char):04X}"


def no_control_characters(value: str) -> str:
    """Refuse a one-line text containing any control character (tab and newline included)."""
    found = _ANY_CONTROL.search(value)
    if found:
        raise ValueError(f"must not contain control characters (found {_describe(found.group())})")
    return value


def no_control_but_line_breaks(value: str) -> str:
    """Refuse a multi-line text containing control characters other than tab, newline and return."""
    found = _CONTROL_BUT_LINES.search(value)
    if found:
        found_name = _describe(found.group())
        raise ValueError(f"must not contain control characters but tab and newline (found {found_name})")
    return value


def _escape(char: re.Match[str]) -> str:
    code = ord(char.group())
    return f"\\x{code:02x}" if code < 256 else "\ufffd"


def printable(text: str) -> str:
    """Escape the characters `MultilineText` refuses, for machine-made text (logs, errors) sent to the API."""
    return _CONTROL_BUT_LINES.sub(_escape, text)


def one_line(text: str) -> str:
    """Escape every control character, e.g. to echo a refused value back in an error message."""
    return _ANY_CONTROL.sub(_escape, text)


#: a one-line string: names, labels, usernames, globs
LineText = Annotated[str, AfterValidator(no_control_characters)]
#: free text that may span lines: comments, error messages, logs
MultilineText = Annotated[str, AfterValidator(no_control_but_line_breaks)]
