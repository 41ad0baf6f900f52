"""A local model registry with Azure ML v1's Model API: versions per name, files kept in the workspace.

Registering copies the model's file or folder into `<workspace>/models/<name>/<unique folder>/` (hard links for
files of a finished run, whose content never changes any more; plain copies, which use the
file system's copy offload / reflinks where it has them, for a user's own files, which may be overwritten in place)
and records a row in the store's `model` table (see runtui.store: register_model, get_model, list_models).
"""

from __future__ import annotations

import builtins
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from runtui.core import values as _values
from runtui.errors import NotFoundError, NotSupportedLocallyError, ValidationError

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.core.workspace import Workspace
    from runtui.store.records import ModelRecord

MODELS_DIR = "models"
MODEL_ENV = "AZUREML_MODEL_DIR"  # Azure sets it in a deployed model's container; honoured by get_model_path
# Azure: letters, digits, '-', '_', '.'; starting with a letter or digit; at most 255 characters.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError(
            f"invalid model name {name!r}: use letters, digits, '-', '_' and '.', starting with a letter or digit "
            "(at most 255 characters)"
        )
    return name


def _check_version(version: object) -> int | None:
    if version is None:
        return None
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if type(version) is not int or version < 1:
        raise ValidationError(f"a model version must be a positive int, not {version!r}")
    return version


def _optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, not {type(value).__name__}")
    return _values.check_value(value, what)


class Model:
    """A registered model version. `Model(ws, name)` is the latest version; `Model(ws, name, version=2)` or
    `Model(ws, id="name:2")` a given one. Attributes as Azure's: name, version, id, tags, properties,
    description, created_time, model_framework, model_framework_version, run_id, experiment_name, url (the
    local folder), workspace."""

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        version: int | None = None,
        run_id: str | None = None,
        model_framework: str | None = None,
        expand: bool = True,
        **kwargs: Any,
    ) -> None:
        if id is not None:
            if not isinstance(id, str) or ":" not in id:
                raise ValidationError(f"a model id is '<name>:<version>', not {id!r}")
            name, _, v = id.rpartition(":")
            version = _check_version(v)
        if name is None:
            raise ValidationError("Model(workspace, name=...) or Model(workspace, id='name:version') is needed")
        name = check_model_name(name)
        version = _check_version(version)
        if tags is None and properties is None and run_id is None and model_framework is None:
            rec = workspace.store.get_model(name, version)
        else:
            found = Model.list(
                workspace, name=name, tags=tags, properties=properties, run_id=run_id, model_framework=model_framework
            )
            found = [m for m in found if version is None or m.version == version]
            if not found:
                raise NotFoundError(f"no model {name!r} matches the given version/tags/properties/run_id/framework")
            rec = found[0]._record
        self._set(workspace, rec)

    @classmethod
    def _of(cls, workspace: Workspace, rec: ModelRecord) -> Model:
        model = cls.__new__(cls)
        model._set(workspace, rec)
        return model

    def _set(self, workspace: Workspace, rec: ModelRecord) -> None:
        self.workspace = workspace
        self._record = rec
        self.name = rec.name
        self.version = rec.version
        self.id = rec.id
        self.tags = dict(rec.tags)
        self.properties = dict(rec.properties)
        self.description = rec.description
        self.created_time = _values.iso(rec.created_at)
        self.model_framework = rec.framework
        self.model_framework_version = rec.framework_version
        self.run_id = rec.run_id
        self.experiment_name = rec.experiment
        self.size = rec.size
        self.url = str(self.folder)

    def __repr__(self) -> str:
        return f"Model(workspace={self.workspace.name!r}, name={self.name!r}, id={self.id!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and other.workspace.config == self.workspace.config

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def folder(self) -> Path:
        """The local folder holding the registered files."""
        return self.workspace.path / self._record.path

    @property
    def path(self) -> Path:
        """The registered file (a model registered from one file) or folder."""
        return self.folder / PurePosixPath(self._record.source_path).name

    @property
    def run(self) -> Run | None:
        return None if self.run_id is None else self.workspace.get_run(self.run_id)

    # ------------------------------------------------------------------ registering, finding

    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        datasets: Any = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: Any = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
    ) -> Model:
        """Register a local file or folder as the next version of `model_name` (the files are copied)."""
        if not isinstance(model_path, (str, os.PathLike)):
            raise ValidationError(f"model_path must be a path, not {type(model_path).__name__}")
        src = Path(model_path).expanduser()
        if not src.exists():
            raise NotFoundError(f"Model.register: nothing at {src}")
        return _register(
            workspace,
            model_name,
            sources=[(src, Path(src.name))],
            source_path=str(model_path),
            link=False,
            tags=tags,
            properties=properties,
            description=description,
            framework=model_framework,
            framework_version=model_framework_version,
        )

    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Any = None,
        properties: Any = None,
        run_id: str | None = None,
        latest: bool = False,
        dataset_id: str | None = None,
        expand: bool = True,
        page_count: int = 255,
        model_framework: str | None = None,
    ) -> builtins.list[Model]:
        """Registered models, newest first. `tags`: a key, a list of keys or [[key, value], ...] (Azure's forms)
        or a dict; `properties` likewise; `latest`: only each name's newest version."""
        if name is not None:
            check_model_name(name)
        _values.flag(latest, "Model.list: latest")
        props = _pair_query(properties, "properties") or {}
        recs = workspace.store.list_models(
            name=name,
            tags=_pair_query(tags, "tags"),
            properties={k: v for k, v in props.items() if v is not None},
            run_id=run_id,
            latest=latest,
        )
        key_only = [k for k, v in props.items() if v is None]  # Azure's properties=['key']: the key is set
        recs = [r for r in recs if all(k in r.properties for k in key_only)]
        if model_framework is not None:
            recs = [r for r in recs if r.framework == model_framework]
        return [Model._of(workspace, r) for r in recs]

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Workspace | None = None) -> str:
        """The local path of a registered model's file (or folder): the latest version unless `version`.

        Inside a deployed container Azure looks in $AZUREML_MODEL_DIR; so does this, first. Otherwise the
        workspace is `_workspace`, else the one runtui discovers (Workspace.from_config())."""
        check_model_name(model_name)
        version = _check_version(version)
        base = os.environ.get(MODEL_ENV)
        if base:
            for candidate in (Path(base) / model_name / str(version or ""), Path(base) / model_name, Path(base)):
                if candidate.exists() and (candidate.name == model_name or version is None):
                    return str(candidate)
        if _workspace is None:
            from runtui.core.workspace import Workspace

            _workspace = Workspace.from_config()
        model = Model._of(_workspace, _workspace.store.get_model(model_name, version))
        if not model.path.exists():
            raise NotFoundError(f"model {model.id}: its files are missing from {model.folder}")
        return str(model.path)

    # ------------------------------------------------------------------ files

    def download(
        self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False, exists_ok: bool | None = None
    ) -> str:
        """Copy the model's file or folder into `target_dir`; returns the copied file's or folder's path."""
        if exists_ok is not None:
            exist_ok = exists_ok
        if not isinstance(target_dir, (str, os.PathLike)):
            raise ValidationError(f"target_dir must be a path, not {type(target_dir).__name__}")
        dest_dir = Path(target_dir).expanduser()
        dest_dir.mkdir(parents=True, exist_ok=True)
        src = self.path
        dest = dest_dir / src.name
        if dest.exists() and not exist_ok:
            raise ValidationError(f"{dest} already exists; pass exist_ok=True to overwrite it")
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dest)
        return str(dest)

    # ------------------------------------------------------------------ tags, properties, description

    def _refresh(self, rec: ModelRecord) -> None:
        self._set(self.workspace, rec)

    def add_tags(self, tags: Mapping[str, Any]) -> None:
        self._refresh(self.workspace.store.set_model_tags(self.id, add=_values.normalize_tags(tags), remove=[]))

    def remove_tags(self, tags: str | Iterable[str]) -> None:
        self._refresh(self.workspace.store.set_model_tags(self.id, add={}, remove=_values.key_list(tags, "tag key")))

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        props = _values.normalize_properties(properties)
        self._refresh(self.workspace.store.update_model(self.id, properties=props))

    def update(self, tags: Mapping[str, Any] | None = None, description: str | None = None, **kwargs: Any) -> None:
        """Replace the tags (when given) and the description (when given)."""
        if tags is not None:
            new = _values.normalize_tags(tags)
            gone = [k for k in self.tags if k not in new]
            self._refresh(self.workspace.store.set_model_tags(self.id, add=new, remove=gone))
        if description is not None:
            self._refresh(
                self.workspace.store.update_model(self.id, description=_optional_text(description, "description"))
            )

    def update_tags_properties(
        self,
        add_tags: Mapping[str, Any] | None = None,
        remove_tags: Iterable[str] | None = None,
        add_properties: Mapping[str, Any] | None = None,
    ) -> None:
        if add_tags or remove_tags:
            self._refresh(
                self.workspace.store.set_model_tags(
                    self.id,
                    add=_values.normalize_tags(add_tags or {}),
                    remove=_values.key_list(remove_tags or [], "tag key"),
                )
            )
        if add_properties:
            self.add_properties(add_properties)

    def delete(self) -> None:
        """Remove this version from the registry, with its files."""
        self.workspace.store.delete_model(self.id)
        shutil.rmtree(self.folder, ignore_errors=True)

    def serialize(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "tags": self.tags,
            "properties": self.properties,
            "description": self.description,
            "createdTime": self.created_time,
            "framework": self.model_framework,
            "frameworkVersion": self.model_framework_version,
            "runId": self.run_id,
            "experimentName": self.experiment_name,
            "url": self.url,
            "size": self.size,
        }

    @staticmethod
    def deserialize(workspace: Workspace, model_payload: Mapping[str, Any]) -> Model:
        if not isinstance(model_payload, Mapping) or "id" not in model_payload:
            raise ValidationError("Model.deserialize needs a dict made by Model.serialize()")
        return Model(workspace, id=str(model_payload["id"]))

    # ------------------------------------------------------------------ deployment: cloud only

    @staticmethod
    def deploy(*args: Any, **kwargs: Any) -> Any:
        raise NotSupportedLocallyError("Model.deploy", "web services are Azure resources")

    @staticmethod
    def package(*args: Any, **kwargs: Any) -> Any:
        raise NotSupportedLocallyError("Model.package", "it builds an Azure container image")

    @staticmethod
    def profile(*args: Any, **kwargs: Any) -> Any:
        raise NotSupportedLocallyError("Model.profile", "it profiles an Azure deployment")

    @staticmethod
    def print_configuration(*args: Any, **kwargs: Any) -> None:
        raise NotSupportedLocallyError("Model.print_configuration", "it describes an Azure deployment")

    def get_sas_urls(self) -> dict[str, str]:
        raise NotSupportedLocallyError("Model.get_sas_urls", "the files are local: use model.path")

    def add_dataset_references(self, datasets: Any) -> None:
        raise NotSupportedLocallyError("Model.add_dataset_references", "there are no Azure datasets")


def _pair_query(value: Any, what: str) -> dict[str, str | None] | None:
    """Azure's model tag/property filters: 'key', ['key', ...], [['key', 'value'], ...], or a dict."""
    if value is None:
        return None
    if isinstance(value, str):
        return {value: None}
    if isinstance(value, Mapping):
        return {str(k): (None if v is None else str(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out: dict[str, str | None] = {}
        for item in value:
            if isinstance(item, str):
                out[item] = None
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                out[str(item[0])] = None if item[1] is None else str(item[1])
            else:
                raise ValidationError(f"{what}: each entry is a key or a [key, value] pair, not {item!r}")
        return out
    raise ValidationError(f"{what} must be a key, a list of keys or [key, value] pairs, or a dict")


def _place(src: Path, dest: Path, link: bool) -> int:
    """Put `src` (file or folder) at `dest`; returns the bytes placed."""
    if src.is_dir():
        total = 0
        dest.mkdir(parents=True, exist_ok=True)
        for p in sorted(src.rglob("*")):
            if p.is_file():
                total += _place(p, dest / p.relative_to(src), link)
        return total
    dest.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(src, dest)
            return dest.stat().st_size
        except OSError:  # another file system, or links not allowed: copy
            pass
    shutil.copyfile(src, dest)
    return dest.stat().st_size


def _register(
    workspace: Workspace,
    name: str,
    *,
    sources: list[tuple[Path, Path]],
    source_path: str,
    link: bool,
    run_id: str | None = None,
    experiment: str | None = None,
    tags: Mapping[str, Any] | None = None,
    properties: Mapping[str, Any] | None = None,
    description: str | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
) -> Model:
    """Check everything, copy the files into a folder of their own, then record the version; on any failure
    the copied files are removed, so a refused registration leaves nothing behind."""
    name = check_model_name(name)
    tag_map = _values.normalize_tags(tags or {})
    prop_map = _values.normalize_properties(properties or {})
    description = _optional_text(description, "model description")
    framework = _optional_text(framework, "model_framework")
    framework_version = _optional_text(framework_version, "model_framework_version")
    rel = f"{MODELS_DIR}/{name}/{uuid.uuid4().hex[:16]}"
    folder = workspace.path / rel
    try:
        size = sum(_place(src, folder / dest, link) for src, dest in sources)
        rec = workspace.store.register_model(
            name,
            path=rel,
            source_path=source_path,
            run_id=run_id,
            experiment=experiment,
            description=description,
            framework=framework,
            framework_version=framework_version,
            tags=tag_map,
            properties=prop_map,
            size=size,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Model._of(workspace, rec)


def register_from_run(
    run: Run,
    model_name: str,
    model_path: str | None,
    *,
    tags: Mapping[str, Any] | None,
    properties: Mapping[str, Any] | None,
    framework: str | None,
    framework_version: str | None,
    description: str | None,
) -> Model:
    """run.register_model: `model_path` names one of the run's files or a folder of them (e.g. 'outputs')."""
    check_model_name(model_name)
    wanted = _values.artifact_name(model_path if model_path is not None else model_name).rstrip("/")
    names = run.get_file_names()
    base = run.folder
    if wanted in names or (wanted not in names and (base / wanted).is_file()):
        sources = [(base / wanted, Path(PurePosixPath(wanted).name))]
    else:
        inside = [n for n in names if n.startswith(wanted + "/")]
        if not inside and (base / wanted).is_dir():
            inside = [p.relative_to(base).as_posix() for p in sorted((base / wanted).rglob("*")) if p.is_file()]
        if not inside:
            raise NotFoundError(
                f"run {run.id} has no file or folder {wanted!r} to register; its files: {', '.join(names) or 'none'}"
            )
        top = PurePosixPath(wanted).name
        sources = [(base / n, Path(top) / PurePosixPath(n).relative_to(wanted)) for n in inside]
    return _register(
        run.workspace,
        model_name,
        sources=sources,
        source_path=wanted,
        # A finished run's files never change: share them. A live run may still rewrite them in place: copy.
        link=run.record.status.is_terminal,
        run_id=run.id,
        experiment=run.experiment.name,
        tags=tags,
        properties=properties,
        description=description,
        framework=framework,
        framework_version=framework_version,
    )
