"""The real public v1 notebooks, run against runtui when you have them: RUNTUI_AZURE_V1_SAMPLES names a folder
holding them (a checkout of a sample repository, or notebooks you ported by hand; README.md says how). Each
`*.ipynb` or `*.ipy` under it runs with nbrun.py --azureml (its `azureml.core` imports resolve to runtui) in a copy
of its own folder against a fresh workspace. Every cell must run, except the cells listed in a sidecar
`<notebook>.expected-failures` (lines `<cell>: <fragment of its error>`), which must fail with that error.

Also here, always: nbrun.py itself on a small notebook of each format (the runner the samples depend on).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from v1_harness import failed_cells, run_notebook

pytestmark = pytest.mark.timeout(420)
SAMPLES_VAR = "RUNTUI_AZURE_V1_SAMPLES"


def sample_notebooks() -> list[object]:
    root = os.environ.get(SAMPLES_VAR)
    if not root:
        reason = f"{SAMPLES_VAR} is not set (point it to a folder of v1 notebooks to run them, see README.md)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-samples")]
    folder = Path(root).expanduser()
    found = sorted(
        p for p in folder.rglob("*") if p.suffix in {".ipynb", ".ipy"} and ".ipynb_checkpoints" not in p.parts
    )
    if not found:  # a folder named but nothing in it is a mistake to report, not a pass
        return [pytest.param(folder, id="none-found")]
    return [pytest.param(p, id=p.relative_to(folder).as_posix()) for p in found]


def expected_failures(notebook: Path) -> dict[int, str]:
    sidecar = notebook.with_name(notebook.name + ".expected-failures")
    if not sidecar.exists():
        return {}
    out = {}
    for line in sidecar.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            cell, _, fragment = line.partition(":")
            out[int(cell)] = fragment.strip()
    return out


@pytest.mark.parametrize("notebook", sample_notebooks())
def test_v1_sample_notebook(notebook: Path | None, tmp_path: Path) -> None:
    assert notebook is not None
    assert notebook.is_file(), f"{SAMPLES_VAR}={notebook} holds no .ipynb or .ipy notebook"
    _, out, _ = run_notebook(notebook.parent, notebook.name, tmp_path, azureml=True)
    expected = expected_failures(notebook)
    got = failed_cells(out)
    assert sorted(got) == sorted(expected), f"failed cells: {list(got.values())}\n--- output ---\n{out[-6000:]}"
    for cell, fragment in expected.items():
        assert fragment in got[cell], got[cell]


def test_nbrun_runs_an_ipynb_with_unchanged_azureml_imports(tmp_path: Path) -> None:
    source = tmp_path / "given" / "sample"
    (source / "sub").mkdir(parents=True)
    code = [
        "%matplotlib inline\nfrom azureml.core import Experiment, Workspace\nws = Workspace.from_config()\nsub = 'sub'",
        "run = Experiment(ws, 'nb').start_logging()\nrun.log('answer', 42)\nrun.complete()\nrun.get_metrics()",
        "%%writefile $sub/made.py\nprint('written by a cell')",
        "from azureml.core.compute import ComputeTarget\nComputeTarget(ws, 'cluster')",  # cloud-only: fails
        "print('after the failure')",
    ]
    cells = [{"cell_type": "markdown", "source": ["# prose is skipped"]}]
    cells += [{"cell_type": "code", "source": c.splitlines(keepends=True)} for c in code]
    (source / "nb.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    folder, out, status = run_notebook(source, "nb.ipynb", tmp_path, azureml=True)
    assert "{'answer': 42}" in out, out[-4000:]
    assert (folder / "sub" / "made.py").read_text() == "print('written by a cell')\n"
    got = failed_cells(out)
    assert list(got) == [4] and "NotSupportedLocallyError" in got[4], out[-4000:]
    assert out.index("CELL 4 FAILED") < out.index("after the failure") and status == 1
