"""Answer cells that change how later cells run (IPython hooks, builtins, trace functions): tests score 0.

Every attack answers `square` wrongly (`x + 100`: wrong for every input) and then tries to make the test
cells pass anyway. Each is graded twice through the real pipeline with a real kernel: with the kernel guard
(the default) both test cells must score 0; with the guard switched off the same notebook must score more,
which shows the attack is real and the test can fail.
"""

from __future__ import annotations

import textwrap

import pytest
from traitlets.config import Config

from .conftest import answer_square, cell_by_id, scores, submit

# clears the error of the cell being run, from inside IPython's own exception handling
CLEAR_ERROR = """
        def _clear(*args, **kwargs):
            frame = sys._getframe(1)
            while frame is not None:
                result = frame.f_locals.get("result")
                if hasattr(result, "error_in_exec"):
                    result.error_in_exec = None
                    return None
                frame = frame.f_back
"""

# hides the traceback (the grader would see the error output otherwise) and shows 3 for any int
HIDE = """
        get_ipython().showtraceback = lambda *a, **k: None
        get_ipython().display_formatter.formatters["text/plain"].for_type(int, lambda o, p, c: p.text("3"))
"""

ATTACKS = {
    "ast_transformer": """
        import ast
        class _Swallow(ast.NodeTransformer):
            def visit_Module(self, node):
                handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])
                wrapped = ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])
                node.body = [wrapped, ast.Expr(ast.Constant(3))]
                return ast.fix_missing_locations(node)
        get_ipython().ast_transformers.append(_Swallow())
        """,
    "input_transformers_post": """
        def _blank(lines):
            return ["pass\\n", "3\\n"] if any("square" in line for line in lines) else lines
        get_ipython().input_transformers_post.append(_blank)
        """,
    "input_transformers_cleanup": """
        def _blank(lines):
            return ["pass\\n", "3\\n"] if any("square" in line for line in lines) else lines
        get_ipython().input_transformers_cleanup.append(_blank)
        """,
    "events_post_run_cell": """
        def _ok(result):
            result.error_in_exec = None
            result.result = 3
        get_ipython().events.register("post_run_cell", _ok)
        """
    + HIDE,
    "events_pre_run_cell": """
        import ast
        class _Swallow(ast.NodeTransformer):
            def visit_Module(self, node):
                handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])
                node.body = [ast.Try(body=node.body, handlers=[handler], orelse=[], finalbody=[])]
                node.body.append(ast.Expr(ast.Constant(3)))
                return ast.fix_missing_locations(node)
        def _arm(info):
            ip = get_ipython()
            if "square" in info.raw_cell and not ip.ast_transformers:
                ip.ast_transformers.append(_Swallow())
        get_ipython().events.register("pre_run_cell", _arm)
        """,
    "displayhook_formatter": """
        get_ipython().display_formatter.formatters["text/plain"].for_type(int, lambda o, p, c: p.text("3"))
        """,
    "excepthook_custom_exc": """
        import sys
        """
    + CLEAR_ERROR
    + """
        get_ipython().set_custom_exc((Exception,), lambda self, *a, **k: _clear())
        get_ipython().display_formatter.formatters["text/plain"].for_type(int, lambda o, p, c: p.text("3"))
        """
    + HIDE,
    "AssertionError_swallowed": """
        import builtins, sys
        """
    + CLEAR_ERROR
    + """
        _real = builtins.AssertionError
        builtins.AssertionError = type("AssertionError", (Exception,), {})
        get_ipython().set_custom_exc((_real, TypeError), lambda self, *a, **k: _clear())
        builtins.sum = lambda *a, **k: 3
        """
    + HIDE,
    "builtins_patched": """
        import builtins
        builtins.sum = lambda *args, **kwargs: 3
        """,
    "builtin_shadowed_in_namespace": """
        sum = lambda *args, **kwargs: 3
        """,
    "dunder_builtins_swapped": """
        import builtins, types
        _fake = types.ModuleType("builtins")
        _fake.__dict__.update(builtins.__dict__)
        _fake.sum = lambda *args, **kwargs: 3
        get_ipython().user_ns["__builtins__"] = _fake
        """,
    "settrace": """
        import sys
        def _ok(result):
            result.error_in_exec = None
            result.result = 3
        def _trace(frame, event, arg):
            callbacks = get_ipython().events.callbacks["post_run_cell"]
            if _ok not in callbacks:
                callbacks.append(_ok)
            return None
        sys.settrace(_trace)
        """
    + HIDE,
    "kernel_method_patched": """
        from ipykernel.ipkernel import IPythonKernel
        _orig = IPythonKernel.do_execute
        async def _do_execute(self, code, *args, **kwargs):
            reply = await _orig(self, code, *args, **kwargs)
            if "square" in code:
                reply = {"status": "ok", "execution_count": reply.get("execution_count"),
                         "user_expressions": reply.get("user_expressions", {}), "payload": []}
            return reply
        IPythonKernel.do_execute = _do_execute
        """
    + HIDE,
    "execution_result_replaced": """
        import IPython.core.interactiveshell as _ish
        class _Result(_ish.ExecutionResult):
            error_in_exec = property(lambda self: None, lambda self, value: None)
        _ish.ExecutionResult = _Result
        """
    + HIDE,
    "thread_rearming_hooks": """
        import threading, time
        def _ok(result):
            result.error_in_exec = None
        def _rearm():
            ip = get_ipython()
            while True:
                callbacks = ip.events.callbacks["post_run_cell"]
                if not callbacks or callbacks[0] is not _ok:
                    callbacks.insert(0, _ok)
                ip.showtraceback = lambda *a, **k: None
                ip.display_formatter.formatters["text/plain"].for_type(int, lambda o, p, c: p.text("3"))
                time.sleep(0.0005)
        threading.Thread(target=_rearm, daemon=True).start()
        """,
    "stdlib_module_replaced": """
        import sys, types
        _fake = types.ModuleType("operator")
        _fake.__dict__.update(sys.modules["operator"].__dict__)
        _fake.eq = lambda a, b: True
        sys.modules["operator"] = _fake
        """,
}


def _attack(source: str):  # type: ignore[no-untyped-def]
    def edit(nb):  # type: ignore[no-untyped-def]
        answer_square(nb, "    return x + 100")
        cell_by_id(nb, "square").source += "\n" + textwrap.dedent(source)

    return edit


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_scores_zero_with_the_guard_and_more_without(released, tmp_path, name):
    edit = _attack(ATTACKS[name])
    if name == "stdlib_module_replaced":
        _with_operator_test(released)
    unguarded = Config()
    unguarded.Execute.guard_tests = False
    result, _ = submit(released, tmp_path, edit, tag="unguarded", config=unguarded)
    assert result["score"] > 0, f"the {name} attack does not work even without the guard: {scores(result)}"

    result, _ = submit(released, tmp_path, edit, tag="guarded")
    got = scores(result)
    assert got["test_square"] == 0.0 and got["partial"] == 0.0, (name, got, result["log"])


def _with_operator_test(released) -> None:  # type: ignore[no-untyped-def]
    import json

    book = released.gradebook
    for nb in book["notebooks"].values():
        for cell in nb["cells"]:
            if cell["grade_id"] == "test_square":
                cell["source"] = "import operator\nassert operator.eq(square(2), 4)"
    released.gradebook_path.write_text(json.dumps(book))


def test_honest_answer_still_gets_full_marks_and_partial_credit(released, tmp_path):
    result, _ = submit(released, tmp_path, lambda nb: answer_square(nb))
    assert scores(result)["test_square"] == 2.0 and scores(result)["partial"] == 3.0
    result, _ = submit(released, tmp_path, lambda nb: answer_square(nb, "    return 2 * x"), tag="part")
    assert scores(result)["partial"] == 2.0  # right for 0 and 2: the guard's signed value, not the output


def test_honest_hooks_and_shadowing_do_not_cost_points(released, tmp_path):
    def edit(nb):  # type: ignore[no-untyped-def]
        answer_square(nb)
        cell_by_id(nb, "square").source += (
            "\nmax = 10  # a variable that hides a builtin\n"
            "get_ipython().events.register('post_run_cell', lambda result: None)\n"
            "import threading\nthreading.Thread(target=lambda: None).start()"
        )

    result, _ = submit(released, tmp_path, edit)
    assert scores(result)["test_square"] == 2.0 and scores(result)["partial"] == 3.0, result["log"]


def test_tampered_status_names_the_reason(released, tmp_path):
    result, graded = submit(released, tmp_path, _attack(ATTACKS["kernel_method_patched"]))
    cells = result["notebooks"][released.name]["cells"]
    assert cells["test_square"]["score"] == 0.0
    source = (graded / released.name).read_text()
    assert "GraderTampered" in source or cells["test_square"]["status"] == "failed"
