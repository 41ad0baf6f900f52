"""Run a ported notebook (`# %%` cells, jupytext's percent format) as Jupyter's "Run all" would, in one namespace.

A cell whose last statement is an expression prints its repr, as a notebook shows `Out[n]`. `%%writefile NAME`
cells write their body to NAME (a notebook feature the ports keep). A failing cell prints `CELL <n> FAILED:
<error>` and the run goes on, so a port shows every cell that fails; the exit status is the number of failed
cells (0: all ran). Used by test_notebooks.py; runnable by hand: `python nbrun.py notebook.ipy`.
"""

from __future__ import annotations

import ast
import re
import sys
import traceback
from pathlib import Path


def cells(text: str) -> list[str]:
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
    tree = ast.parse(source, filename)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            print(repr(value))


def main(path: str) -> int:
    namespace: dict[str, object] = {"__name__": "__main__"}
    failed = 0
    for n, source in enumerate(cells(Path(path).read_text(encoding="utf-8")), 1):
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
    sys.exit(min(main(sys.argv[1]), 100))
