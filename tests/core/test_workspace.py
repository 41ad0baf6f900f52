"""Workspace as Azure ML v1 code uses it: Azure config.json files, Workspace.get, the Azure constructor, names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import runtui
from runtui import Experiment, Workspace
from runtui.errors import NotFoundError, NotSupportedLocallyError, ValidationError

AZURE = {"subscription_id": "0000-sub", "resource_group": "rg-ml", "workspace_name": "mlws", "location": "westeurope"}


def test_version_and_local_name(tmp_path: Path) -> None:
    assert runtui.__version__ == runtui.VERSION
    ws = Workspace(path=tmp_path / "lab")
    # v1 code concatenates these ("Resource group: " + ws.resource_group): strings, saying the workspace is local
    assert ws.name == "lab" and ws.subscription_id == ws.resource_group == ws.location == "local"


def test_from_config_accepts_an_azure_config_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / ".azureml").mkdir(parents=True)
    (project / ".azureml" / "config.json").write_text(json.dumps(AZURE))
    for ws in (
        Workspace.from_config(path=project / ".azureml" / "config.json"),  # the file
        Workspace.from_config(path=project),  # a folder: Azure's places are searched
    ):
        assert (ws.name, ws.subscription_id, ws.resource_group, ws.location) == (
            "mlws",
            "0000-sub",
            "rg-ml",
            "westeurope",
        )
        assert ws.path == Workspace().path  # the local workspace runtui discovers
    monkeypatch.chdir(project)
    assert Workspace.from_config().name == "mlws"  # found from the current folder, as Azure does
    run = Experiment(Workspace.from_config(), "azure-config").start_logging()
    run.complete()


def test_scope_form_and_bad_azure_files(tmp_path: Path) -> None:
    scope = tmp_path / "scope.json"
    scope.write_text(json.dumps({"Scope": "/subscriptions/s1/resourceGroups/g1/providers/X/workspaces/w1"}))
    ws = Workspace.from_config(path=scope)
    assert (ws.subscription_id, ws.resource_group, ws.name) == ("s1", "g1", "w1")
    nameless = tmp_path / "nameless.json"
    nameless.write_text(json.dumps({"subscription_id": "s"}))
    with pytest.raises(ValidationError, match="has no workspace_name"):
        Workspace.from_config(path=nameless)
    broken = tmp_path / "broken"
    broken.mkdir()
    with pytest.raises(NotFoundError, match=r"nor an Azure ML config\.json"):
        Workspace.from_config(path=broken)


def test_azure_constructor_and_get() -> None:
    ws = Workspace(subscription_id="s", resource_group="g", workspace_name="w")
    assert (ws.name, ws.subscription_id, ws.resource_group) == ("w", "s", "g")
    positional = Workspace("s", "g", "w")
    assert (positional.name, positional.subscription_id, positional.resource_group) == ("w", "s", "g")
    assert positional.path == Workspace().path
    got = Workspace.get("w", subscription_id="s", resource_group="g", location="eastus")
    assert (got.name, got.location) == ("w", "eastus")
    for bad in ("", None, 3):
        with pytest.raises(ValidationError, match="workspace name"):
            Workspace.get(bad)  # type: ignore[arg-type]


def test_write_config_round_trips(tmp_path: Path) -> None:
    Workspace(subscription_id="s", resource_group="g", workspace_name="w").write_config(path=tmp_path)
    assert Workspace.from_config(path=tmp_path / ".azureml" / "config.json").name == "w"


def test_cloud_only_members_say_so(tmp_path: Path) -> None:
    ws = Workspace(path=tmp_path / "ws")
    for call in (
        lambda: Workspace.create("x"),
        lambda: Workspace.list("sub"),
        lambda: ws.get_default_datastore(),
        lambda: ws.compute_targets,
        lambda: ws.get_mlflow_tracking_uri(),
        lambda: ws.delete(),
    ):
        with pytest.raises(NotSupportedLocallyError, match="has no local meaning in runtui"):
            call()
    with pytest.raises(AttributeError):
        _ = ws.no_such_member  # type: ignore[attr-defined]
