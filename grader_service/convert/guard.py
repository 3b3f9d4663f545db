"""The grader's side of the kernel guard: install it before student code, check it around each test cell.

The guard (`kernel_guard.py`, run inside the kernel) answers through `user_expressions` of silent
execute_requests, signed with a key it made itself at install time and sent back once, before any student
cell ran. An answer that is missing, malformed or wrongly signed means student code got between the
grader and the guard: the test cell counts as tampered.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader_service.convert.kernel import KernelProcess

GUARD_SOURCE_PATH = Path(__file__).with_name("kernel_guard.py")


def imported_modules(sources: list[str]) -> list[str]:
    """The absolute imports of `sources` (test cells), parents first; cells that do not parse are skipped."""
    names: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [node.module]
            else:
                continue
            for name in found:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    prefix = ".".join(parts[:i])
                    if prefix not in names:
                        names.append(prefix)
    return names


@dataclass
class GuardAnswer:
    """A checked answer of the guard: `ok` is False when it was missing or not signed by the guard."""

    ok: bool
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class KernelGuard:
    """Talks to the guard inside one kernel. `install()` must run before any student cell."""

    def __init__(self, kernel: KernelProcess, timeout: float = 30.0) -> None:
        self.kernel = kernel
        self.timeout = timeout
        self.module = f"_grader_guard_{secrets.token_hex(8)}"
        self._key: bytes | None = None

    @property
    def installed(self) -> bool:
        return self._key is not None

    def install(self, modules: list[str]) -> str:
        """Install the guard; returns '' on success, else why it could not be installed."""
        source = GUARD_SOURCE_PATH.read_text()
        # Run as its own module whose builtins are a private copy: later patches of `builtins` miss it.
        code = (
            "import sys as _gs, types as _gt\n"
            f"_gm = _gt.ModuleType({self.module!r})\n"
            "_gm.__dict__['__builtins__'] = dict(_gs.modules['builtins'].__dict__)\n"
            f"exec(compile({source!r}, '<grader guard>', 'exec'), _gm.__dict__)\n"
            f"_gs.modules[{self.module!r}] = _gm\n"
            "del _gs, _gt, _gm\n"
        )
        expression = f"__import__({self.module!r}).install({','.join(modules)!r})"
        text, why = self._ask(code, expression)
        if text is None:
            return why
        try:
            self._key = bytes.fromhex(text)
        except ValueError:
            return f"the guard answered {text[:80]!r} instead of a key"
        return ""

    def enter(self) -> GuardAnswer:
        """Before a test cell: the guard puts the hook points back; answers what it had to restore."""
        return self._signed("enter")

    def leave(self) -> GuardAnswer:
        """After a test cell: how the cell really ended (`runs`: error name or None, shown value)."""
        return self._signed("leave")

    def _signed(self, kind: str) -> GuardAnswer:
        assert self._key is not None, "install() first"
        nonce = secrets.token_hex(16)
        text, why = self._ask("", f"__import__({self.module!r}).{kind}({nonce!r})")
        if text is None:
            return GuardAnswer(False, why)
        body, _, mac = text.rpartition("|")
        expected = hmac.new(self._key, f"{kind}|{nonce}|{body}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            return GuardAnswer(False, "the guard's answer is not signed by the guard")
        try:
            data = json.loads(body)
        except ValueError:
            return GuardAnswer(False, "the guard's answer is not JSON")
        return GuardAnswer(True, "", data if isinstance(data, dict) else {})

    def _ask(self, code: str, expression: str) -> tuple[str | None, str]:
        reply = self.kernel.request(code, {"g": expression}, self.timeout)
        if not reply:
            return None, "the kernel sent no reply to the guard's request"
        if reply.get("status") != "ok":
            return None, f"the guard's request failed: {reply.get('ename', '?')}: {reply.get('evalue', '')}"[
                :300
            ]
        value = (reply.get("user_expressions") or {}).get("g") or {}
        if value.get("status") != "ok":
            return None, f"the guard did not answer: {value.get('ename', '?')}: {value.get('evalue', '')}"[
                :300
            ]
        shown = (value.get("data") or {}).get("text/plain")
        try:
            text = ast.literal_eval(shown) if isinstance(shown, str) else None
        except (ValueError, SyntaxError):
            text = None
        if not isinstance(text, str):
            return None, "the guard's answer is not a string"
        return text, ""
