"""Runs inside the kernel: puts back the hook points student code can change before each test cell.

This file is sent to the kernel as source (`guard.py` reads it) and executed as a fresh module, before any
student cell, with a private copy of the builtins: later patches of `builtins` or of the stdlib modules do
not reach the functions it binds here. `install()` snapshots the hook points and returns the key that signs
its answers; `enter()` (before a test cell) puts every hook point back as it was and answers signed;
`leave()` (after it) answers, signed, how the cell really ended, as the guard's own `post_run_cell` callback
saw it (error or not, and the value it showed), so a forged execute_reply or a patched formatter cannot turn
a failure into points. Only plain functions of this module are reachable from outside; the key and the
snapshot live in closures. What an in-process guard cannot stop is listed in docs/security.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_STATE: dict[str, Any] = {}


def install(modules: str) -> str:
    """Import the modules the test cells use, snapshot the hook points, return the signing key (hex)."""
    if _STATE:
        raise RuntimeError("the grader's guard is installed already")
    import builtins
    import contextlib
    import gc
    import importlib
    import json
    import os
    import signal
    import sys
    import threading
    from _hashlib import hmac_digest

    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult, InteractiveShell

    # Import what the tests import now, from the installation only (a student's `numpy.py` next to the
    # notebook must not stand in for numpy), so their clean state is part of the snapshot.
    saved_path = list(sys.path)
    here = os.getcwd()
    sys.path[:] = [p for p in saved_path if p not in ("", ".") and os.path.abspath(p) != here]
    try:
        for name in modules.split(","):
            if name:
                # a test's import failing fails that test, not the guard
                with contextlib.suppress(BaseException):
                    importlib.import_module(name)
    finally:
        sys.path[:] = saved_path

    shell = InteractiveShell.instance()
    kernel = getattr(shell, "kernel", None)
    key = os.urandom(32)
    # every function the guard calls later, bound now
    b_id, b_type, b_callable, b_dict, b_list, b_len = id, type, callable, dict, list, len
    b_isinstance, b_float, b_str, b_sorted = isinstance, float, str, sorted
    obj_setattr, type_setattr, obj_getattr = object.__setattr__, type.__setattr__, object.__getattribute__
    type_delattr = type.__delattr__
    dumps, settrace, setprofile, gettrace = json.dumps, sys.settrace, sys.setprofile, sys.gettrace
    setswitchinterval = sys.setswitchinterval
    getsignal, set_signal, setitimer = signal.getsignal, signal.signal, signal.setitimer
    enumerate_threads = threading.enumerate
    sys_modules, builtins_dict = sys.modules, builtins.__dict__
    heap_type = 1 << 9  # Py_TPFLAGS_HEAPTYPE: only classes defined in Python can be patched

    def sign(kind: str, nonce: str, text: str) -> str:
        mac = hmac_digest(key, f"{kind}|{nonce}|{text}".encode(), "sha256").hex()
        return f"{text}|{mac}"

    # -- what is snapshotted ------------------------------------------------------------------------
    stdlib = sys.stdlib_module_names
    wanted = {n for n in modules.split(",") if n}
    module_snaps: list[tuple[str, Any, dict[str, Any]]] = []
    for name, module in b_list(sys_modules.items()):
        top = name.partition(".")[0]
        if module is not None and (top in stdlib or top in wanted or name in wanted):
            module_snaps.append((name, module, b_dict(module.__dict__)))
    always_sys = (
        "displayhook", "excepthook", "breakpointhook", "unraisablehook", "stdout", "stderr", "stdin",
        "meta_path", "path_hooks", "modules",
    )  # fmt: skip
    threading_hooks = ("_trace_hook", "_profile_hook")

    objects: list[Any] = [shell, shell.compile, shell.displayhook, shell.display_pub, shell.display_formatter]
    objects += [shell.events, shell.input_transformer_manager, shell.builtin_trap, shell.display_trap]
    if kernel is not None:
        objects += [kernel, kernel.session]
    for o in objects:  # traits take their default on first use: make every one exist before the snapshot
        for name in getattr(o, "trait_names", list)():
            with contextlib.suppress(Exception):
                getattr(o, name)
    object_snaps = [
        (o, b_type(o), b_dict(o.__dict__), b_dict(getattr(o, "_trait_values", {}))) for o in objects
    ]
    shell_always = (
        "compile", "displayhook", "display_pub", "display_formatter", "events", "input_transformer_manager",
        "builtin_trap", "display_trap", "custom_exceptions", "CustomTB", "InteractiveTB", "SyntaxTB",
        "user_ns", "user_global_ns", "ast_transformers", "input_transformers_post", "kernel", "session",
    )  # fmt: skip

    # -- evidence no hook can take back (installed before the snapshot, so it is put back like the rest) --
    # A cell's exception is recorded the moment IPython stores it on the result (a data descriptor on
    # ExecutionResult): a callback that clears it later does not erase it. The first step of every cell
    # (transform_cell) puts the hook points back once more and makes other threads wait longer for the GIL,
    # so a thread cannot re-arm them between enter() and the test cell.
    def make_recorded(name: str) -> Any:
        class Recorded:
            def __get__(self, obj: Any, owner: Any = None) -> Any:
                return None if obj is None else obj_getattr(obj, "__dict__").get(name)

            def __set__(self, obj: Any, value: Any) -> None:
                obj_getattr(obj, "__dict__")[name] = value
                if value is not None and record["armed"]:
                    record["raised"].append(b_type(value).__name__)

        return Recorded()

    for name in ("error_before_exec", "error_in_exec"):
        type_setattr(ExecutionResult, name, make_recorded(name))
    shell_class = b_type(shell)
    original_transform: Callable[[Any, str], Any] = shell_class.transform_cell

    def transform_cell(self: Any, raw_cell: str) -> Any:
        if record["armed"] and not record["entered"]:
            record["entered"] = True
            setswitchinterval(0.1)
            record["late"] = restore()  # anything here changed after enter(): a thread, most likely
            set_aside()
        return original_transform(self, raw_cell)

    type_setattr(shell_class, "transform_cell", transform_cell)
    switch_interval = sys.getswitchinterval()

    classes: dict[int, Any] = {}
    for o in [*objects, ExecutionResult, ExecutionInfo]:
        for cls in (o if b_isinstance(o, b_type) else b_type(o)).__mro__:
            if cls.__flags__ & heap_type:
                classes[b_id(cls)] = cls
    class_snaps = [(cls, b_dict(cls.__dict__)) for cls in classes.values()]
    # the modules those classes come from (IPython, ipykernel): their globals name the classes the shell
    # instantiates (e.g. ExecutionResult), so a replaced global is as good as a patched class
    known = {name for name, _, _ in module_snaps}
    for cls in classes.values():
        name = cls.__module__
        owner = sys_modules.get(name)
        if owner is not None and name not in known:
            known.add(name)
            module_snaps.append((name, owner, b_dict(owner.__dict__)))
    handler_tables = [
        (t, b_dict(t))
        for t in (getattr(kernel, "shell_handlers", {}), getattr(kernel, "control_handlers", {}))
    ]

    lists: list[tuple[Any, list[Any]]] = []
    itm = shell.input_transformer_manager
    for seq in (
        shell.ast_transformers,
        shell.input_transformers_post,
        itm.cleanup_transforms,
        itm.line_transforms,
        itm.token_transformers,
        sys.meta_path,
        sys.path_hooks,
        gc.callbacks,
    ):
        lists.append((seq, b_list(seq)))
    events = {name: b_list(cbs) for name, cbs in shell.events.callbacks.items()}
    builtins_snap = b_dict(builtins_dict)
    builtins_always = tuple(builtins_snap)
    user_ns = shell.user_ns
    user_builtins = user_ns.get("__builtins__")
    # what the kernel itself put in the namespace under a builtin's name (ipykernel's `open`, `exit`)
    ns_builtins = {name: user_ns[name] for name in user_ns if name in builtins_snap}
    trace, profile = gettrace(), sys.getprofile()
    signals = {}
    for signum in signal.valid_signals():
        with contextlib.suppress(ValueError, OSError):
            signals[signum] = getsignal(signum)
    threads = {b_id(t) for t in enumerate_threads()}
    record: dict[str, Any] = {"armed": False, "entered": False, "runs": [], "raised": []}
    stash: dict[str, Any] = {}

    def on_post_run_cell(result: Any) -> None:
        if not record["armed"]:
            return
        if b_type(result) is not ExecutionResult:  # not the shell's own result object: believe nothing
            record["runs"].append({"error": "ForeignExecutionResult", "value": None, "shown": False})
            return
        error = obj_getattr(result, "error_before_exec") or obj_getattr(result, "error_in_exec")
        value = obj_getattr(result, "result")
        number: float | None = None
        if value is not None and not b_isinstance(value, b_str):
            try:  # the C slots, not a method the value's class may override
                if b_isinstance(value, b_float):
                    number = b_float.__float__(value)
                elif b_isinstance(value, int):
                    number = int.__float__(value)
                else:
                    number = b_float(b_str(value))
            except BaseException:  # noqa: B036 - not a number: no partial credit from it
                number = None
        record["runs"].append(
            {
                "error": None if error is None else b_type(error).__name__,
                "value": number,
                "shown": value is not None,
            }
        )

    shell.events.register("post_run_cell", on_post_run_cell)
    events["post_run_cell"] = b_list(shell.events.callbacks["post_run_cell"])

    # -- putting it back ------------------------------------------------------------------------------
    # set by ipykernel for every request (stdin forwarding): not a hook tests depend on
    volatile = {"builtins": ("input",), "getpass": ("getpass",)}

    def restore_dict(target: dict[str, Any], snap: dict[str, Any], always: tuple[str, ...], label: str,
                     changed: list[str], setter: Any = None) -> None:  # fmt: skip
        skip = volatile.get(label, ())
        for name, old in snap.items():
            new = target.get(name, snap)  # snap: a marker that cannot be a value
            if new is old or name in skip:
                continue
            if name in always or b_callable(old) or b_callable(new) or new is snap:
                if setter is None:
                    target[name] = old
                else:
                    setter(name, old)
                changed.append(f"{label}.{name}")
        for name in b_list(target):
            if name not in snap and name not in skip and (b_callable(target[name]) or name in always):
                changed.append(f"{label}.{name} (added)")
                if setter is None:
                    del target[name]
                else:
                    setter(name, None, delete=True)

    def restore() -> list[str]:
        changed: list[str] = []
        settrace(trace)
        setprofile(profile)
        for name, module, snap in module_snaps:
            if sys_modules.get(name) is not module:
                sys_modules[name] = module
                changed.append(f"sys.modules[{name!r}]")
            always = always_sys if name == "sys" else threading_hooks if name == "threading" else ()
            if name == "sys":  # set by every traceback the kernel shows: not a hook
                for last in ("last_type", "last_value", "last_traceback", "last_exc"):
                    snap.pop(last, None)
                    module.__dict__.pop(last, None)
            restore_dict(module.__dict__, snap, always, name, changed)
        for seq, items in lists:
            if b_len(seq) != b_len(items) or any(a is not b for a, b in zip(seq, items, strict=False)):
                seq[:] = items
                changed.append("hook list")
        for cls, snap in class_snaps:

            def set_on_class(name: str, value: Any, delete: bool = False, cls: Any = cls) -> None:
                if delete:
                    type_delattr(cls, name)
                else:
                    type_setattr(cls, name, value)

            current = b_dict(cls.__dict__)
            restore_dict(current, snap, (), cls.__name__, changed, set_on_class)
        for o, cls, inst, traits in object_snaps:
            if b_type(o) is not cls:
                obj_setattr(o, "__class__", cls)
                changed.append(f"{cls.__name__}.__class__")
            restore_dict(o.__dict__, inst, shell_always, cls.__name__, changed)
            if traits:
                restore_dict(o._trait_values, traits, shell_always, cls.__name__, changed)
        for table, entries in handler_tables:
            if b_dict(table) != entries or any(table[k] is not v for k, v in entries.items()):
                table.clear()
                table.update(entries)
                changed.append("kernel message handlers")
        callbacks = shell.events.callbacks
        for name in b_list(callbacks):
            if name not in events:
                del callbacks[name]
        for name, cbs in events.items():
            if b_list(callbacks.get(name, ())) != cbs:
                callbacks[name] = b_list(cbs)
                changed.append(f"events.{name}")
        restore_dict(builtins_dict, builtins_snap, builtins_always, "builtins", changed)
        if user_ns.get("__builtins__") is not user_builtins:
            user_ns["__builtins__"] = user_builtins
            changed.append("user namespace __builtins__")
        for signum, handler in signals.items():
            try:
                if getsignal(signum) is not handler and handler is not None:
                    set_signal(signum, handler)
                    changed.append(f"signal {signum}")
            except (ValueError, OSError, TypeError):
                pass
        for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            if setitimer(which, 0)[0]:
                changed.append(f"timer {which}")
        return changed

    # -- the two calls the grader makes around a test cell --------------------------------------------
    def set_aside() -> None:
        # names in the user's namespace that hide a builtin (e.g. `sum = lambda *a: 3`) step aside while
        # the test runs and come back after it
        for name in b_list(user_ns):
            if (
                name in builtins_snap
                and not name.startswith("_")
                and user_ns[name] is not ns_builtins.get(name, builtins_snap[name])
            ):
                stash.setdefault(name, user_ns.pop(name))

    def enter(nonce: str) -> str:
        record["armed"] = False
        changed = restore()
        stash.clear()
        set_aside()
        foreign = [t.name for t in enumerate_threads() if b_id(t) not in threads]
        report = {"restored": b_sorted(set(changed)), "shadowed": b_sorted(stash), "threads": foreign}
        record.update(runs=[], raised=[], late=[], entered=False, armed=True)
        return sign("enter", nonce, dumps(report, sort_keys=True))

    def leave(nonce: str) -> str:
        record["armed"] = False
        setswitchinterval(switch_interval)
        account = {"runs": record["runs"], "raised": record["raised"], "late": b_sorted(set(record["late"]))}
        record.update(runs=[], raised=[], late=[])
        for name, value in stash.items():
            user_ns.setdefault(name, value)
        stash.clear()
        return sign("leave", nonce, dumps(account, sort_keys=True))

    _STATE["installed"] = True
    globals()["enter"] = enter
    globals()["leave"] = leave
    return key.hex()
