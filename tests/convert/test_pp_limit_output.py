"""LimitOutput: streams, tracebacks, cells and notebooks stay small; errors survive."""

from __future__ import annotations

import nbformat

from grader_service.convert.preprocessors import LimitOutput

from .conftest import code, make_notebook


def stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_long_stream_cut_to_max_lines():
    cell = code("x")
    cell.outputs = [stream("".join(f"{i}\n" for i in range(5000)))]
    nb, _ = LimitOutput(max_lines=100)(make_notebook([cell]), {})
    lines = nb.cells[0].outputs[0].text.splitlines()
    assert len(lines) == 100 and lines[-1] == "... Output truncated ..."


def test_traceback_keeps_head_and_tail():
    cell = code("x")
    cell.outputs = [
        nbformat.v4.new_output(
            "error", ename="RecursionError", evalue="deep", traceback=[f"frame {i}" for i in range(1000)]
        )
    ]
    nb, _ = LimitOutput(max_traceback=10)(make_notebook([cell]), {})
    trace = nb.cells[0].outputs[0].traceback
    assert trace[:5] == [f"frame {i}" for i in range(5)] and trace[-1] == "frame 999" and len(trace) == 10


def test_cell_and_notebook_caps_keep_errors_and_stderr():
    big = code("x")
    big.outputs = [
        stream("a" * 50_000),
        stream("warning\n", "stderr"),
        nbformat.v4.new_output("display_data", data={"text/plain": "b" * 50_000}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="v", traceback=["t"]),
    ]
    second = code("y")
    second.outputs = [stream("c" * 50_000)]
    nb, resources = LimitOutput(max_cell_chars=10_000, max_notebook_chars=12_000)(
        make_notebook([big, second]), {"log": []}
    )
    kinds = [(o.output_type, o.get("name")) for o in nb.cells[0].outputs]
    assert ("stream", "stderr") in kinds and ("error", None) in kinds
    assert sum(len(o.get("text", "")) for o in nb.cells[0].outputs) < 11_000
    assert len(nb.cells[1].outputs[0].text) < 3_000
    assert len(resources["log"]) == 2
