"""Local stand-ins for the Azure ML v1 configuration objects that training code builds and hands to
ScriptRunConfig: Environment, CondaDependencies, DockerConfiguration, the distributed-job configurations and the
authentication classes. They accept Azure's arguments and keep what has a local meaning (an environment's
`environment_variables`); ScriptRunConfig warns once that the rest is ignored. Compute targets are cloud-only.
"""

from __future__ import annotations

import os
from typing import Any

from runtui.errors import NotSupportedLocallyError, ValidationError


class _Settings:
    """Attribute bag for Azure's nested sections (env.python, env.docker, env.spark): anything may be set."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


class CondaDependencies:
    """Azure's conda/pip package list. Recorded, never installed: scripts run with this machine's packages."""

    def __init__(self, conda_dependencies_file_path: str | None = None, _underlying_structure: Any = None) -> None:
        self.conda_packages: list[str] = []
        self.pip_packages: list[str] = []
        self.channels: list[str] = []
        self.python_version: str | None = None

    @staticmethod
    def create(
        pip_indexurl: Any = None,
        pip_packages: list[str] | None = None,
        conda_packages: list[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
    ) -> CondaDependencies:
        deps = CondaDependencies()
        deps.pip_packages = list(pip_packages or [])
        deps.conda_packages = list(conda_packages or [])
        deps.python_version = python_version
        return deps

    def add_conda_package(self, conda_package: str) -> None:
        self.conda_packages.append(conda_package)

    def add_pip_package(self, pip_package: str) -> None:
        self.pip_packages.append(pip_package)

    def add_channel(self, channel: str) -> None:
        self.channels.append(channel)

    def set_python_version(self, version: str) -> None:
        self.python_version = version

    def save(self, path: str | None = None) -> str:
        return str(path or "")


class Environment:
    """Azure's Environment: `environment_variables` are passed to the submitted script; packages, Docker
    images and conda files are recorded only (the script runs with this machine's interpreter)."""

    def __init__(self, name: str = "local", **kwargs: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"an environment name must be a non-empty string, not {name!r}")
        self.name = name
        self.version: str | None = None
        self.environment_variables: dict[str, str] = {}
        self.python = _Settings(
            user_managed_dependencies=False, interpreter_path="python", conda_dependencies=CondaDependencies()
        )
        self.docker = _Settings(enabled=False, base_image=None, base_dockerfile=None)
        self.spark = _Settings()
        self.r: Any = None
        self.inferencing_stack_version: str | None = None

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r})"

    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        return Environment(name)

    @staticmethod
    def from_pip_requirements(
        name: str, file_path: str | os.PathLike[str], pip_version: str | None = None
    ) -> Environment:
        return Environment(name)

    @staticmethod
    def from_existing_conda_environment(name: str, conda_environment_name: str) -> Environment:
        return Environment(name)

    @staticmethod
    def from_dockerfile(
        name: str, dockerfile: str, conda_specification: Any = None, pip_requirements: Any = None
    ) -> Environment:
        return Environment(name)

    @staticmethod
    def from_docker_image(
        name: str,
        image: str,
        container_registry: Any = None,
        conda_specification: Any = None,
        pip_requirements: Any = None,
    ) -> Environment:
        return Environment(name)

    @staticmethod
    def get(workspace: Any, name: str, version: str | None = None, label: str | None = None) -> Environment:
        """Curated and registered environments live in Azure; locally every name is this machine's Python."""
        return Environment(name)

    @staticmethod
    def list(workspace: Any) -> dict[str, Environment]:
        return {}

    def register(self, workspace: Any) -> Environment:
        return self

    def build(self, workspace: Any, image_build_compute: Any = None) -> Any:
        raise NotSupportedLocallyError("Environment.build", "no images are built; scripts use this machine's Python")

    def build_local(self, workspace: Any, platform: Any = None, **kwargs: Any) -> Any:
        raise NotSupportedLocallyError("Environment.build_local", "no images are built")

    def get_image_details(self, workspace: Any) -> Any:
        raise NotSupportedLocallyError("Environment.get_image_details", "no images are built")


class DockerConfiguration(_Settings):
    def __init__(
        self, use_docker: bool = False, arguments: Any = None, shared_volumes: bool = True, shm_size: Any = None
    ) -> None:
        super().__init__(use_docker=use_docker, arguments=arguments, shared_volumes=shared_volumes, shm_size=shm_size)


class MpiConfiguration(_Settings):
    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        super().__init__(process_count_per_node=process_count_per_node, node_count=node_count)


class PyTorchConfiguration(_Settings):
    def __init__(
        self, communication_backend: str = "Nccl", process_count: int | None = None, node_count: int = 1
    ) -> None:
        super().__init__(
            communication_backend=communication_backend, process_count=process_count, node_count=node_count
        )


class TensorflowConfiguration(_Settings):
    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        super().__init__(worker_count=worker_count, parameter_server_count=parameter_server_count)


class _CloudOnly:
    """A cloud-only class: importable (so `from azureml.core.compute import ...` lines still import), but any use
    raises one clear error."""

    _member = "this Azure ML class"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotSupportedLocallyError(self._member, "it is an Azure resource; runs execute on this machine")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._member = cls.__name__


class ComputeTarget(_CloudOnly):
    @staticmethod
    def create(*args: Any, **kwargs: Any) -> Any:
        raise NotSupportedLocallyError(
            "ComputeTarget.create", "runs execute on this machine; use compute_target='local'"
        )


class AmlCompute(ComputeTarget):
    @staticmethod
    def provisioning_configuration(*args: Any, **kwargs: Any) -> Any:
        raise NotSupportedLocallyError("AmlCompute.provisioning_configuration", "runs execute on this machine")


class ComputeInstance(ComputeTarget):
    pass


class Datastore(_CloudOnly):
    pass


class Dataset(_CloudOnly):
    pass


class InteractiveLoginAuthentication:
    """Accepted and ignored: a local workspace needs no login."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class ServicePrincipalAuthentication(InteractiveLoginAuthentication):
    pass


class AzureCliAuthentication(InteractiveLoginAuthentication):
    pass


class MsiAuthentication(InteractiveLoginAuthentication):
    pass
