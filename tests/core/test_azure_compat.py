"""docs/azure-compat.md is generated here from runtui's classes and Azure ML v1's member list, so it cannot drift.

`azure_v1_members.json` holds the public members of azureml-core 1.61's Run, Experiment, ScriptRunConfig,
Workspace and Model (names and parameter names only, read once from the PyPI wheel's source by AST). For each
member the status is computed: missing (runtui has no such attribute), cloud-only (it raises
NotSupportedLocallyError), different (an Azure parameter is not accepted, or a documented intentional difference
below), present. A changed table fails this test and rewrites the file (commit it); RUNTUI_UPDATE_DOCS=1 writes it
without failing.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from pathlib import Path
from typing import Any

import pytest

import runtui
from runtui.core import environment, experiment, model, run, script_run_config, workspace

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "azure-compat.md"
MEMBERS = json.loads((Path(__file__).parent / "azure_v1_members.json").read_text(encoding="utf-8"))

CLASSES: dict[str, type] = {
    "Run": run.Run,
    "Experiment": experiment.Experiment,
    "ScriptRunConfig": script_run_config.ScriptRunConfig,
    "Workspace": workspace.Workspace,
    "Model": model.Model,
}

# Intentional differences, each with its reason. Keys are "Class.member".
DIFFERENCES: dict[str, str] = {
    "Run.__init__": "`outputs=` and Azure's private keywords are accepted and ignored; a run id of another experiment "
    "is a NotFoundError",
    "Run.get": "also takes an unambiguous run id prefix (what `runtui ls` shows)",
    "Run.get_context": "`used_for_context_manager` and other keywords change nothing; outside a submitted script the "
    "offline run keeps its data in memory",
    "Run.display_name": "None when unset (Azure generates a name)",
    "Run.type": "'azureml.scriptrun' for submitted scripts (exp.submit, submit_child); None for interactive and child "
    "runs. get_runs/get_children(type=) also take runtui's kinds 'submitted', 'interactive', 'child'",
    "Run.wait_for_completion": "extra `timeout=` (seconds)",
    "Run.get_details": "logFiles map to local file paths (Azure: SAS URLs); error keeps a top-level 'message' too "
    "(runtui's earlier shape); inputDatasets/outputDatasets are always empty; extra keys experiment, displayName, "
    "parentRunId, kind, host, user, createdTimeUtc, tags, pid, exitCode",
    "Run.get_detailed_status": "'details' explains a waiting or cancelling run in runtui's words",
    "Run.get_metrics": "log_confusion_matrix/log_accuracy_table/log_residuals/log_predictions come back as their JSON "
    "document (a dict) and log_image as the image's file name in the run (Azure: aml:// artifact URIs); "
    "`populate` has no effect",
    "Run.cancel": "blocks until the run is Canceled (timeout grace + 20 s, may raise CancelTimeoutError) and returns "
    "whether it changed anything: local runs can be stopped for real",
    "Run.flush": "returns True when everything logged is stored, False on timeout (Azure: None); `timeout=` is an "
    "alias of `timeout_seconds=`",
    "Run.create_children": "up to 10000 children in one call (Azure: 100): one local transaction",
    "Run.child_run": "`outputs=` is ignored",
    "Run.remove_tags": "returns the keys that were removed (Azure: None)",
    "Run.tag": "non-string values become str(value) as in Azure; only non-numbers log the warning (on the 'runtui' "
    "logger): numbers convert losslessly",
    "Run.set_tags": "as tag()",
    "Run.add_properties": "as tag(); properties stay immutable as in Azure",
    "Run.log_image": "stored as the run's file images/<name>.<ext>",
    "Run.upload_file": "`datastore_name` has no local meaning (files live in the run folder)",
    "Run.upload_folder": "`datastore_name` has no local meaning",
    "Run.upload_files": "`return_artifacts`, `timeout_seconds`, `datastore_name` have no local meaning; returns None",
    "Run.download_files": "`batch_size` and `timeout_seconds` have no local meaning",
    "Run.restore_snapshot": "a path given as the first positional argument is still accepted (runtui's earlier "
    "signature: a path is never a snapshot id)",
    "Run.get_snapshot_id": "a run submitted before snapshot ids existed reports its run id",
    "Run.register_model": "`datasets`, `sample_input_dataset`, `sample_output_dataset`, `resource_configuration` are "
    "accepted and ignored; the files are hard-linked (finished runs) or copied into <workspace>/models",
    "Run.submit_child": "keywords as exp.submit: display_name, grace_period, sample_interval, log_store_max_bytes",
    "Run.get_file_names": "the run's uploaded files and its logs/ folder",
    "Experiment.__init__": "Azure's private keywords (_id, _create_in_cloud, ...) are accepted and ignored",
    "Experiment.submit": "takes a ScriptRunConfig (or a RunConfiguration naming a script); keywords display_name, "
    "grace_period, sample_interval, log_store_max_bytes; any other keyword is refused",
    "Experiment.start_logging": "display_name= or the first positional; `run_id=` honoured",
    "Experiment.reactivate": "`new_name` is refused: experiments cannot be renamed",
    "Experiment.refresh": "every property reads the store, so it only checks the experiment still exists",
    "Experiment.from_directory": "reads the Experiment key of .azureml/project.json (or names the experiment after "
    "the folder) in the workspace found from the folder; `auth` is ignored",
    "Experiment.delete": "takes the experiment's id or its name; deletes its runs and their folders; refused "
    "(ExperimentBusyError) while one of its runs is live. CLI: `runtui experiment delete NAME` (asks first)",
    "Experiment.get_runs": "`type` also takes runtui's kinds; extra `status=` and `filter=` (the filter language)",
    "Experiment.list": "`view_type` takes Azure's ViewType or its string. CLI: `runtui experiment ls` (ActiveOnly), "
    "`--archived` (ArchivedOnly), `--all` (All); `runtui ls` leaves archived experiments' runs out the same way",
    "ScriptRunConfig.__init__": "compute_target other than 'local'/None, environment (apart from its "
    "environment_variables, which are honoured), distributed_job_config, docker_runtime_config, resume_from and a "
    "run_config's target: accepted with a one-line RuntuiCompatWarning, no local meaning. script defaults to "
    "'train.py'; max_run_duration_seconds is written into the run's supervisor spec for the supervisor to enforce; "
    "extra environment_variables=, python=, azureml_compat=",
    "Workspace.__init__": "Azure's form Workspace(subscription_id, resource_group, workspace_name) gives the local "
    "workspace runtui discovers, under that name; runtui's Workspace(path, store_url) still works; `auth`, `sku`, "
    "`tags` are ignored",
    "Workspace.get": "the discovered local workspace under that name; cloud, auth and id are ignored",
    "Workspace.from_config": "accepts runtui's .runtui/config.json and Azure's config.json (a file, or found in the "
    "folder, .azureml/ or aml_config/ as Azure looks): an Azure file names the discovered local workspace",
    "Workspace.write_config": "writes an Azure-style config.json naming this workspace",
    "Workspace.get_details": "local keys: name, subscriptionId, resourceGroup, location, path",
    "Workspace.tags": "always {}",
    "Workspace.experiments": "archived experiments are left out",
    "Workspace.models": "name -> latest version",
    "Workspace.name": "the Azure name when one was given, else the workspace folder's name",
    "Model.__init__": "`expand` has no meaning",
    "Model.register": "`datasets`, `child_paths`, `sample_*`, `resource_configuration` are ignored; the files are "
    "copied into <workspace>/models (a user's file may change after registering)",
    "Model.list": "`dataset_id`, `expand`, `page_count` have no meaning",
    "Model.get_model_path": "$AZUREML_MODEL_DIR first (as in a deployment), then the registry of `_workspace` or the "
    "discovered workspace; returns the registered file or folder",
    "Model.update": "`sample_*` and `resource_configuration` are ignored",
    "Model.delete": "also removes the registered files",
    "Model.serialize": "runtui's own payload (id, name, version, tags, properties, paths)",
}
# Members runtui does not have yet, and why (the table says so; anything else missing fails this test).
NOT_YET: dict[str, str] = {
    "Run.take_snapshot": "interactive snapshots belong to the run-outputs work (issue 11, item 1)",
}


def _target(cls: type, name: str) -> Any:
    static = inspect.getattr_static(cls, name, None)
    if isinstance(static, (staticmethod, classmethod)):
        return static.__func__
    if isinstance(static, property):
        return static.fget
    return static


@functools.cache
def _class_source(cls: type) -> str:
    return inspect.getsource(cls)


def _instance_attribute(cls: type, name: str) -> bool:
    """An attribute the class sets on its instances (run.experiment, experiment.name, ...)."""
    source = _class_source(cls)
    return f"self.{name} = " in source or f"self.{name}: " in source or f".{name} = " in source


def _cloud_only(cls: type, name: str, target: Any) -> bool:
    if cls is workspace.Workspace and name in workspace._CLOUD_ONLY and target is None:
        return True
    if target is None or not callable(target):
        return False
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError):
        return False
    return "_not_local(" in source or "NotSupportedLocallyError(" in source


def _missing_params(target: Any, azure_params: list[str]) -> list[str]:
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    params = sig.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return []
    wanted = [p for p in azure_params if p not in ("*", "**")]
    missing = [p for p in wanted if p not in params]
    if "*" in azure_params and not any(p.kind is p.VAR_POSITIONAL for p in params.values()):
        missing.append("*args")
    return missing


def table() -> tuple[str, dict[str, str]]:
    statuses: dict[str, str] = {}
    parts = [
        "# Azure ML SDK v1 compatibility",
        "",
        "Generated by `tests/core/test_azure_compat.py` from runtui's classes and the public members of",
        f"{MEMBERS['source']}. Do not edit by hand: run the test and commit the file it writes.",
        "",
        "Status: **present** (same name, Azure's parameters accepted, same behaviour); **different** (exists; the note",
        "says how and why); **cloud-only** (exists and raises `NotSupportedLocallyError`: it has no local meaning);",
        "**missing**.",
        "",
        "Import runtui instead of azureml (`from runtui import Workspace, Experiment, Run, ScriptRunConfig,",
        "Model`), or call `runtui.compat.enable_azureml_imports()` (or submit with `ScriptRunConfig(...,",
        "azureml_compat=True)`) to run `from azureml.core import ...` unchanged when the real azureml-core is not",
        "installed.",
        "",
    ]
    for cls_name in ("Run", "Experiment", "ScriptRunConfig", "Workspace", "Model"):
        cls = CLASSES[cls_name]
        counts: dict[str, int] = {}
        rows = []
        for name, info in sorted(MEMBERS["classes"][cls_name].items()):
            key = f"{cls_name}.{name}"
            target = _target(cls, name)
            if name == "__init__":
                target = cls.__init__
            if target is None and _instance_attribute(cls, name):
                status, note = ("different", DIFFERENCES[key]) if key in DIFFERENCES else ("present", "")
            elif target is None and not (cls is workspace.Workspace and name in workspace._CLOUD_ONLY):
                status, note = "missing", NOT_YET.get(key, "")
            elif _cloud_only(cls, name, target):
                status, note = "cloud-only", ""
            else:
                missing = _missing_params(target, info["params"]) if info["kind"] != "property" else []
                notes = []
                if missing:
                    notes.append("Azure parameter(s) not accepted: " + ", ".join(missing))
                if key in DIFFERENCES:
                    notes.append(DIFFERENCES[key])
                status, note = ("different" if notes else "present"), "; ".join(notes)
            statuses[key] = status
            counts[status] = counts.get(status, 0) + 1
            shown = name if name != "__init__" else cls_name
            params = ", ".join(info["params"]).replace("**", "**kwargs")
            sig = shown if info["kind"] == "property" else f"{shown}({params})"
            rows.append(f"| `{sig}` | {info['kind']} | {status} | {note} |")
        order = ("present", "different", "cloud-only", "missing")
        summary = ", ".join(f"{counts[s]} {s}" for s in order if s in counts)
        parts += [f"## {cls_name}", "", summary + ".", "", "| Azure member | kind | runtui | note |"]
        parts += ["|---|---|---|---|", *rows, ""]
    return "\n".join(parts), statuses


def test_every_note_names_an_azure_member() -> None:
    known = {f"{c}.{m}" for c, ms in MEMBERS["classes"].items() for m in ms}
    assert set(DIFFERENCES) <= known, set(DIFFERENCES) - known
    assert set(NOT_YET) <= known


def test_nothing_is_missing_without_a_reason() -> None:
    _, statuses = table()
    missing = {k for k, s in statuses.items() if s == "missing"}
    assert missing <= set(NOT_YET), missing - set(NOT_YET)


def test_config_objects_and_version_exist() -> None:
    assert runtui.__version__ == runtui.VERSION
    for name in ("Environment", "CondaDependencies", "DockerConfiguration", "MpiConfiguration", "ComputeTarget"):
        assert hasattr(environment, name)


def test_the_doc_is_up_to_date() -> None:
    text, _ = table()
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if current != text:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        if not os.environ.get("RUNTUI_UPDATE_DOCS"):
            raise AssertionError(f"{DOC} was out of date and has been rewritten: review and commit it")


def test_every_cloud_only_member_raises_one_clear_error(ws: Any, tmp_path: Path) -> None:
    """Each member the table calls cloud-only, called for real (None for each required argument; a property
    read): NotSupportedLocallyError, whose one-line message names the member."""
    from runtui.errors import NotSupportedLocallyError

    _, statuses = table()
    exp = experiment.Experiment(ws, "cloud")
    r = exp.start_logging(snapshot_directory=None)
    (tmp_path / "m.pkl").write_bytes(b"weights")
    registered = model.Model.register(ws, str(tmp_path / "m.pkl"), "m")
    instances = {"Run": r, "Experiment": exp, "Workspace": ws, "Model": registered}
    cloud_only = sorted(k for k, s in statuses.items() if s == "cloud-only")
    assert len(cloud_only) >= 40
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    try:
        for key in cloud_only:
            cls_name, name = key.split(".", 1)
            obj = instances[cls_name]
            with pytest.raises(NotSupportedLocallyError) as caught:
                if MEMBERS["classes"][cls_name][name]["kind"] == "property":
                    getattr(obj, name)
                else:
                    member = getattr(obj, name)
                    params = inspect.signature(member).parameters.values()
                    member(*[None for p in params if p.kind in positional and p.default is p.empty])
            message = str(caught.value)
            assert "\n" not in message and name in message and "no local meaning" in message, (key, message)
    finally:
        r.complete()
