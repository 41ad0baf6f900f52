"""Workspace: where runs are kept (a folder with the default SQLite store and the run folders) and its store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui import config as _config

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment
    from runtui.core.run import Run
    from runtui.store.store import Store


# Keys of an Azure ML config.json (`ws.write_config()`, or downloaded from the portal).
# What a workspace made without an Azure config file reports as its Azure identity: v1 code prints and
# concatenates these, so they are strings that say where the workspace is, never None.
LOCAL = "local"
_AZURE_KEYS = {"subscription_id", "resource_group", "workspace_name", "location", "id", "Scope", "friendly_name"}
# Azure Workspace members that need the cloud; each raises one clear error (see __getattr__).
_CLOUD_ONLY = {
    "create",
    "list",
    "delete",
    "update",
    "update_dependencies",
    "sync_keys",
    "list_keys",
    "diagnose_workspace",
    "get_mlflow_tracking_uri",
    "get_default_compute_target",
    "get_default_datastore",
    "set_default_datastore",
    "get_default_keyvault",
    "add_private_endpoint",
    "delete_private_endpoint_connection",
    "set_connection",
    "list_connections",
    "get_connection",
    "delete_connection",
    "setup",
    "compute_targets",
    "datastores",
    "datasets",
    "environments",
    "images",
    "webservices",
    "linked_services",
    "private_endpoints",
    "service_context",
    "discovery_url",
    "sku",
}


class Workspace:
    """A runtui workspace.

    `Workspace()` finds the workspace by discovery (see `runtui.config`); `Workspace(path=...)` uses that
    folder; `store_url` points at another store (e.g. a shared PostgreSQL database).
    `Workspace(subscription_id=, resource_group=, workspace_name=)` (Azure's form) and `Workspace.get(name)`
    give the discovered local workspace under that name.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        store_url: str | None = None,
        workspace_name: str | None = None,
        auth: Any = None,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        **kwargs: Any,
    ) -> None:
        if workspace_name is not None:
            # Azure's positional form Workspace(subscription_id, resource_group, workspace_name).
            if path is not None and subscription_id is None:
                subscription_id, path = str(path), None
            if store_url is not None and resource_group is None and "://" not in store_url:
                resource_group, store_url = store_url, None
            _check_name(workspace_name)
        self.config = _config.resolve(path, store_url)
        self._store: Store | None = None
        self._azure = {
            "workspace_name": workspace_name,
            "subscription_id": subscription_id,
            "resource_group": resource_group,
            "location": kwargs.get("_location"),
        }

    @classmethod
    def get(
        cls,
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str = "AzureCloud",
        id: str | None = None,
    ) -> Workspace:
        """Azure's Workspace.get: the discovered local workspace, named `name`."""
        _check_name(name)
        ws = cls()
        ws._azure = {
            "workspace_name": name,
            "subscription_id": subscription_id,
            "resource_group": resource_group,
            "location": location,
        }
        return ws

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        auth: Any = None,
        _logger: Any = None,
        _file_name: str | None = None,
    ) -> Workspace:
        """Find `.runtui/config.json` in `path` (a folder or the file itself), the current folder or a parent;
        otherwise the default workspace (`$RUNTUI_HOME` or `~/.runtui`).

        An Azure ML `config.json` (given as `path`, or found as `config.json`, `.azureml/config.json` or
        `aml_config/config.json` in the folder or a parent, as Azure looks) is accepted too: the workspace is the
        one runtui discovers, carrying the Azure file's name, subscription_id, resource_group and location."""
        from runtui.core.values import path_arg

        start = path_arg(path, "Workspace.from_config: path") if path not in (None, "") else None  # '': here
        if start is not None and start.is_file():
            if _is_azure_config(start):
                return cls._from_azure_file(start)
            return cls._from(_config.load_config_file(start))
        found = _config.find_config_file(start) if start is not None else None
        if found is None:
            azure = _find_azure_config(start or Path.cwd(), _file_name)
            if azure is not None:
                return cls._from_azure_file(azure)
            if start is not None:
                from runtui.errors import NotFoundError

                raise NotFoundError(
                    f"no {_config.CONFIG_DIR}/{_config.CONFIG_FILE} (nor an Azure ML config.json) in {start} or its "
                    "parents"
                )
            return cls()
        return cls._from(_config.load_config_file(found))

    @classmethod
    def _from_azure_file(cls, path: Path) -> Workspace:
        data = _read_azure_config(path)
        ws = cls()
        ws._azure = {
            "workspace_name": data.get("workspace_name"),
            "subscription_id": data.get("subscription_id"),
            "resource_group": data.get("resource_group"),
            "location": data.get("location"),
        }
        return ws

    @classmethod
    def _from(cls, cfg: _config.WorkspaceConfig) -> Workspace:
        ws = cls.__new__(cls)
        ws.config = cfg
        ws._store = None
        ws._azure = {"workspace_name": None, "subscription_id": None, "resource_group": None, "location": None}
        return ws

    # ------------------------------------------------------------------ Azure's identity of the workspace

    @property
    def name(self) -> str:
        """The Azure workspace name when one was given, else the workspace folder's name."""
        return self._azure.get("workspace_name") or self.config.home.name

    @property
    def subscription_id(self) -> str:
        return self._azure.get("subscription_id") or LOCAL

    @property
    def resource_group(self) -> str:
        return self._azure.get("resource_group") or LOCAL

    @property
    def location(self) -> str:
        return self._azure.get("location") or LOCAL

    @property
    def tags(self) -> dict[str, str]:
        return {}

    def get_details(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "location": self.location,
            "path": str(self.path),
        }

    def write_config(self, path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> None:
        """Write an Azure ML config.json (default ./.azureml/config.json) naming this workspace."""
        import json

        folder = Path(path).expanduser() if path is not None else Path.cwd()
        target = folder / ".azureml" / (file_name or "config.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "workspace_name": self.name,
        }
        target.write_text(json.dumps(data, indent=4), encoding="utf-8")

    @staticmethod
    def create(name: str, *args: Any, **kwargs: Any) -> Workspace:
        raise _not_local("Workspace.create", "a local workspace is a folder: use Workspace(path=...)")

    @staticmethod
    def list(subscription_id: str, auth: Any = None, resource_group: str | None = None) -> Any:
        raise _not_local("Workspace.list", "it lists Azure workspaces of a subscription")

    @staticmethod
    def setup() -> None:
        raise _not_local("Workspace.setup")

    def delete(self, delete_dependent_resources: bool = False, no_wait: bool = False) -> None:
        raise _not_local("Workspace.delete", "delete the workspace folder yourself")

    def __getattr__(self, name: str) -> Any:
        if name in _CLOUD_ONLY:
            raise _not_local(f"Workspace.{name}", "it manages Azure resources")
        raise AttributeError(f"'Workspace' object has no attribute {name!r}")

    @property
    def store(self) -> Store:
        """The store, opened on first use (this is when SQLAlchemy is imported)."""
        if self._store is None:
            from runtui.store.store import open_store

            self._store = open_store(self.config.store_url)
        return self._store

    @property
    def path(self) -> Path:
        return self.config.home

    @property
    def runs_dir(self) -> Path:
        return self.config.runs_dir

    @property
    def experiments(self) -> dict[str, Experiment]:
        from runtui.core.experiment import Experiment

        return {e.name: Experiment._existing(self, e.name) for e in self.store.list_experiments()}

    @property
    def models(self) -> dict[str, Any]:
        """Registered models, name -> latest version (a runtui.core.model.Model)."""
        from runtui.core.model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    def get_run(self, run_id: str) -> Run:
        """A run by id or unambiguous id prefix."""
        from runtui.core.run import Run

        return Run.get(self, run_id)

    def __repr__(self) -> str:
        from runtui.store.engine import redact

        return f"Workspace(path={str(self.config.home)!r}, store={redact(self.config.store_url)!r})"


def _check_name(name: object) -> str:
    from runtui.errors import ValidationError

    if not isinstance(name, str) or not name.strip() or len(name) > 255 or "\0" in name:
        raise ValidationError(f"a workspace name must be a non-empty string, not {name!r}")
    return name


def _is_azure_config(path: Path) -> bool:
    """An Azure ML config.json: a JSON object with Azure's keys and none of runtui's."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(set(data) & {"subscription_id", "workspace_name", "Scope"})


def _find_azure_config(start: Path, file_name: str | None) -> Path | None:
    names = [file_name] if file_name else ["config.json"]
    folder = start.resolve() if start.is_dir() else start.resolve().parent
    for candidate in (folder, *folder.parents):
        for sub in ("", ".azureml", "aml_config"):
            for n in names:
                p = candidate / sub / n if sub else candidate / n
                if p.is_file() and _is_azure_config(p):
                    return p
    return None


def _read_azure_config(path: Path) -> dict[str, str]:
    """Azure's config.json: subscription_id, resource_group, workspace_name (or an ARM "Scope" path)."""
    import json

    from runtui.errors import ValidationError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read Azure ML config {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ValidationError(f"Azure ML config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"Azure ML config {path} must hold a JSON object")
    out = {k: str(v) for k, v in data.items() if k in _AZURE_KEYS and v is not None}
    scope = out.pop("Scope", None)
    if scope:  # /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<ws>
        parts = scope.strip("/").split("/")
        pairs = {parts[i].lower(): parts[i + 1] for i in range(0, len(parts) - 1, 2)}
        out.setdefault("subscription_id", pairs.get("subscriptions", ""))
        out.setdefault("resource_group", pairs.get("resourcegroups", ""))
        out.setdefault("workspace_name", pairs.get("workspaces", ""))
    if not out.get("workspace_name"):
        raise ValidationError(f"Azure ML config {path} has no workspace_name")
    return out


def _not_local(member: str, why: str | None = None) -> Exception:
    from runtui.errors import NotSupportedLocallyError

    return NotSupportedLocallyError(member, why)
