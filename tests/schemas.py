"""Validators for custom resources from ../shared/schemas: CRD schemas, closed like kubeconform -strict."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import SHARED_DIR

SCHEMAS_DIR = SHARED_DIR / "schemas"
ARGO_WORKFLOW_KINDS = {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"}


def close(schema: Any) -> Any:
    """A copy where every object schema listing properties refuses keys it does not list.

    The API server prunes unknown fields instead of refusing them, so an unclosed schema would
    let a misspelt key through unnoticed.
    """
    if isinstance(schema, list):
        return [close(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: close(value) for key, value in schema.items()}
    if (
        "properties" in closed
        and "additionalProperties" not in closed
        and not closed.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    return closed


@cache
def _crd_schemas(directory: Path) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec["versions"]:
                api_version = f"{spec['group']}/{version['name']}"
                found[(api_version, spec["names"]["kind"])] = close(version["schema"]["openAPIV3Schema"])
    return found


@cache
def _argo_schema(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (directory / "argo-workflows.schema.json").read_text(encoding="utf-8")
    )
    return document


def validator_for(obj: dict[str, Any]) -> jsonschema.protocols.Validator:
    """The validator for one custom resource; KeyError when no schema is known for its kind."""
    kind, api_version = obj["kind"], obj["apiVersion"]
    if api_version.startswith("argoproj.io/") and kind in ARGO_WORKFLOW_KINDS:
        root = copy.deepcopy(_argo_schema(SCHEMAS_DIR))
        root.pop("oneOf", None)
        root["$ref"] = f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}"
        return jsonschema.Draft202012Validator(root)
    schema = _crd_schemas(SCHEMAS_DIR)[(api_version, kind)]
    return jsonschema.Draft7Validator(schema)


def errors(obj: dict[str, Any]) -> list[str]:
    """Every schema error of a custom resource, each as 'path: message'."""
    found = []
    for error in validator_for(obj).iter_errors(obj):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        found.append(f"{where}: {error.message}")
    return sorted(found)
