"""`--Class.trait=value` options as traitlets config: the grader's command line and the kernel's."""

from __future__ import annotations

import ast
from typing import Any

from traitlets.config import Config


def set_option(config: Config, item: str) -> bool:
    """Put `--Class.trait=value` into `config` (the value read as a Python literal, else kept as text);
    False, and `config` unchanged, when `item` is not such an option."""
    key, sep, raw = item[2:].partition("=")
    if not item.startswith("--") or not sep or "." not in key:
        return False
    section, trait = key.rsplit(".", 1)
    try:
        value: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    config[section][trait] = value
    return True
