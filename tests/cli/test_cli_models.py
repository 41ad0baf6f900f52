"""`runtui models`: list and show the local model registry (a real CLI subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, runtui

from runtui.store import Store

pytestmark = pytest.mark.skipif(
    not hasattr(Store, "register_model"), reason="needs store schema v2 (branch store-v2): the model table"
)


def _register(home: Path, tmp_path: Path) -> None:
    from runtui import Model, Workspace

    f = tmp_path / "m.pkl"
    f.write_bytes(b"model")
    ws = Workspace(path=home)
    Model.register(ws, f, "clf", tags={"stage": "dev"})
    Model.register(ws, f, "clf", description="second")
    Model.register(ws, f, "other")


def test_list_and_show(home: Path, tmp_path: Path) -> None:
    _register(home, tmp_path)
    listed = runtui("models", home=home)
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "VERSION", "REGISTERED"]
    assert [ln.split()[:2] for ln in lines[1:]] == [["other", "1"], ["clf", "2"], ["clf", "1"]]
    as_json = runtui("models", "list", "clf", "--json", home=home).json_lines()
    assert [m["id"] for m in as_json] == ["clf:2", "clf:1"]
    assert [m["id"] for m in runtui("models", "--tag", "stage=dev", "--json", home=home).json_lines()] == ["clf:1"]
    assert len(runtui("models", "--latest", "--json", home=home).json_lines()) == 2
    shown = runtui("models", "show", "clf", home=home)
    assert shown.code == 0 and "clf:2" in shown.out and "second" in shown.out
    one = json.loads(runtui("models", "show", "clf:1", "--json", home=home).out)
    assert one["version"] == 1 and one["tags"] == {"stage": "dev"} and Path(one["path"]).read_bytes() == b"model"


def test_bad_input(home: Path, tmp_path: Path) -> None:
    _register(home, tmp_path)
    assert_one_line_error(runtui("models", "show", home=home), 2, "needs NAME or NAME:VERSION")
    assert_one_line_error(runtui("models", "show", "clf:x", home=home), 2, "NAME:VERSION")
    assert_one_line_error(runtui("models", "show", "nope", home=home), 1)
    assert_one_line_error(runtui("models", "list", "a", "b", home=home), 2, "one model name")
    assert_one_line_error(runtui("models", "bad name!", home=home), 2, "invalid model name")
