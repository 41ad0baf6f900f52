"""Run a notebook as Jupyter's "Run all" would, in one namespace: a `.ipynb` (its code cells) or a cell script
(`# %%` per cell, jupytext's percent format: the scenarios here, or a notebook ported by hand).

A cell whose last statement is an expression prints its repr, as a notebook shows `Out[n]`. `%%writefile NAME`
cells write their body to NAME; `%matplotlib ...` lines are dropped (no meaning outside Jupyter; the runs use
MPLBACKEND=Agg); any other IPython syntax fails its cell. A failing cell prints `CELL <n> FAILED: <error>` (n counts
code cells from 1) and the run goes on, so every failing cell shows; the exit status is the number of failed cells.

`--azureml` first turns on runtui's `azureml` import shim (runtui.compat.enable_azureml_imports), so a real v1
notebook's `from azureml.core import ...` runs unchanged against runtui; scripts it submits inherit the shim.

    RUNTUI_HOME=/tmp/ws python nbrun.py [--azureml] NOTEBOOK
"""

from __future__ import annotations

import ast
import json
import re
import sys
import traceback
from pathlib import Path


def cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        code = [c for c in json.loads(text)["cells"] if c.get("cell_type") == "code"]
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in code]
    out: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            out.append([])
        elif out:
            out[-1].append(line)
    return ["\n".join(c) for c in out]


def run_cell(source: str, namespace: dict[str, object], filename: str) -> None:
    if source.lstrip().startswith("%%writefile"):
        head, _, body = source.lstrip().partition("\n")
        # IPython expands `$name` in magic arguments from the notebook's variables.
        target = re.sub(r"\$(\w+)", lambda m: str(namespace[m.group(1)]), head.split(maxsplit=1)[1])
        Path(target).write_text(body + "\n", encoding="utf-8")
        print(f"Writing {target}")
        return
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%matplotlib"))
    tree = ast.parse(source, filename)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            print(repr(value))


def main(path: str, azureml: bool = False) -> int:
    if azureml:
        from runtui.compat import enable_azureml_imports

        enable_azureml_imports()
    namespace: dict[str, object] = {"__name__": "__main__"}
    failed = 0
    for n, source in enumerate(cells(Path(path)), 1):
        if not source.strip():
            continue
        try:
            run_cell(source, namespace, f"{path}[cell {n}]")
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            failed += 1
            print(f"CELL {n} FAILED: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc()
        sys.stdout.flush()
    return failed


if __name__ == "__main__":
    args = sys.argv[1:]
    shim = "--azureml" in args
    rest = [a for a in args if a != "--azureml"]
    if len(rest) != 1:
        sys.exit("usage: nbrun.py [--azureml] NOTEBOOK")
    sys.exit(min(main(rest[0], azureml=shim), 100))
