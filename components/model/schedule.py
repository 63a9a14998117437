"""The drift check on a schedule, retraining and redeploying through the pipeline when it finds drift."""

from __future__ import annotations

from typing import Any

from components.cluster.pod_security import restricted_container, restricted_pod
from components.declaration.model import ModelDeclaration
from components.model.manifests import (
    PIPELINE_ACCOUNT,
    RUNTIME_USER_ID,
    PlatformView,
    labels,
    mlflow_env,
)
from pipelines.workflow import template_name


def drift_schedule(
    declaration: ModelDeclaration, namespace: str, platform: PlatformView
) -> dict[str, Any] | None:
    """The CronWorkflow, or None when the model declares no drift check."""
    drift = declaration.drift
    if drift is None:
        return None
    name = declaration.model.name
    check = {
        "name": "check",
        "container": {
            "image": platform.runtime_image,
            "command": ["python", "-m", "pipelines.drift"],
            "args": [
                f"--reference=models:/{name}@champion",
                f"--current=http://{name}-stable.{namespace}.svc:{declaration.serving.port}/predictions",
                f"--threshold={drift.threshold}",
                f"--features={','.join(drift.features)}",
                f"--model={name}",
                "--verdict-out=/tmp/verdict",
                "--detected-out=/tmp/detected",
            ],
            "env": [
                *mlflow_env(platform),
                {"name": "HOME", "value": "/tmp"},
            ],
            "resources": {
                "requests": {"cpu": "500m", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "2Gi"},
            },
            "securityContext": restricted_container(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        },
        "outputs": {
            "parameters": [
                {"name": "verdict", "valueFrom": {"path": "/tmp/verdict"}},
                {"name": "detected", "valueFrom": {"path": "/tmp/detected"}},
            ]
        },
        # The controller publishes this gauge; the model's ModelInputDrift alert reads it.
        "metrics": {
            "prometheus": [
                {
                    "name": "slipway_drift_detected",
                    "help": "Whether the last drift check found drift (1) or not (0)",
                    "labels": [{"key": "model", "value": name}],
                    "gauge": {"realtime": False, "value": "{{outputs.parameters.detected}}"},
                }
            ]
        },
    }
    steps: list[list[dict[str, Any]]] = [[{"name": "check", "template": "check"}]]
    if drift.retrain_on_drift:
        steps.append(
            [
                {
                    "name": "retrain",
                    "templateRef": {"name": template_name(declaration), "template": "pipeline"},
                    "when": "{{steps.check.outputs.parameters.verdict}} == drift",
                }
            ]
        )
    record = [[{"name": "record", "templateRef": {"name": template_name(declaration), "template": "record"}}]]
    spec: dict[str, Any] = {
        "entrypoint": "drift",
        "serviceAccountName": PIPELINE_ACCOUNT,
        "securityContext": restricted_pod(RUNTIME_USER_ID, fs_group=RUNTIME_USER_ID),
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}],
        "arguments": {
            "parameters": [
                {"name": "model-uri", "value": ""},
                {"name": "training-arguments", "value": "{}"},
                {"name": "source-commit", "value": "drift-retrain"},
            ]
        },
        "templates": [{"name": "drift", "steps": steps}, check],
    }
    if drift.retrain_on_drift:
        # A retrain is a pipeline run like any other: its end is recorded in the audit trail.
        spec["onExit"] = "record-run"
        spec["templates"].append({"name": "record-run", "steps": record})
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": f"{name}-drift", "namespace": namespace, "labels": labels(declaration)},
        "spec": {
            "schedules": [drift.schedule],
            "timezone": "UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "workflowSpec": spec,
        },
    }
