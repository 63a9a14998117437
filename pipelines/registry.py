"""The MLflow model registry as the pipeline uses it: versions with provenance, the champion alias."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from pipelines.state import CHAMPION_ALIAS

TAG_PREFIX = "slipway."


def client() -> MlflowClient:
    """A client of the tracking server in MLFLOW_TRACKING_URI."""
    return MlflowClient()


def champion(registry: MlflowClient, name: str) -> str | None:
    """The version the champion alias points at, or None when there is none yet."""
    try:
        return str(registry.get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def version_uri(name: str, version: str) -> str:
    """The URI that loads one registered version."""
    return f"models:/{name}/{version}"


def register(
    registry: MlflowClient, name: str, model_uri: str, provenance: dict[str, str], profile: dict[str, Any]
) -> str:
    """Register a version with its provenance as tags and its data profile as an artifact."""
    try:
        registry.get_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        registry.create_registered_model(name, description="Registered by the Slipway pipeline")
    with mlflow.start_run(run_name=f"register-{name}") as run:
        mlflow.log_dict(profile, "reference_profile.json")
        profile_uri = f"runs:/{run.info.run_id}/reference_profile.json"
    tags = {f"{TAG_PREFIX}{key}": value for key, value in provenance.items()}
    tags[f"{TAG_PREFIX}reference_profile"] = profile_uri
    # MLflow narrates registration on stderr; the pipeline reports the version itself.
    with contextlib.redirect_stderr(io.StringIO()):
        version = mlflow.register_model(model_uri, name, tags=tags)
    return str(version.version)


def set_champion(registry: MlflowClient, name: str, version: str) -> None:
    """Point the champion alias at a version."""
    registry.set_registered_model_alias(name, CHAMPION_ALIAS, version)


def mark(registry: MlflowClient, name: str, version: str, outcome: str) -> None:
    """Record on the version what became of it."""
    registry.set_model_version_tag(name, version, f"{TAG_PREFIX}outcome", outcome)


def reference_profile(registry: MlflowClient, name: str, version: str) -> dict[str, Any] | None:
    """The data profile a version was registered with, if any."""
    tags = registry.get_model_version(name, version).tags
    uri = tags.get(f"{TAG_PREFIX}reference_profile")
    if not uri:
        return None
    loaded: dict[str, Any] = mlflow.artifacts.load_dict(uri)
    return loaded


def input_schema(model_uri: str) -> dict[str, str] | None:
    """The model's declared input columns and their types, when it has a signature."""
    try:
        signature = mlflow.models.get_model_info(model_uri).signature
    except MlflowException:
        return None
    if signature is None or signature.inputs is None:
        return None
    columns = getattr(signature.inputs, "inputs", [])
    return {
        str(column.name): str(getattr(column.type, "name", column.type)) for column in columns if column.name
    }
