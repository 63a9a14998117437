"""Alerts on the platform's own services, from kube-state-metrics: is each one there and working."""

from __future__ import annotations

from typing import Any

from components.services import ARGO_CONTROLLER, MLFLOW, SERVICE_NAMESPACES, SYSTEM_NAMESPACE

RULE_NAME = "slipway-platform"


def _unavailable(alert: str, namespace: str, deployment: str, what: str) -> dict[str, Any]:
    return {
        "alert": alert,
        "expr": f'kube_deployment_status_replicas_available{{namespace="{namespace}",'
        f'deployment="{deployment}"}} < 1',
        "for": "5m",
        "labels": {"severity": "critical", "slipway_component": deployment},
        "annotations": {
            "summary": f"{what} has no available replica",
            "description": f"Deployment {namespace}/{deployment} has had no ready pod for 5 minutes.",
        },
    }


def platform_rule_groups() -> list[dict[str, Any]]:
    """The rule groups: one alert per service the pipeline cannot run without."""
    argo = SERVICE_NAMESPACES["argo"]
    rollouts = SERVICE_NAMESPACES["rollouts"]
    return [
        {
            "name": "slipway-platform",
            "rules": [
                _unavailable("SlipwayMlflowUnavailable", MLFLOW.namespace, "mlflow", "The MLflow server"),
                _unavailable(
                    "SlipwayArgoControllerUnavailable",
                    argo,
                    ARGO_CONTROLLER.service_account,
                    "The Argo workflow controller",
                ),
                _unavailable(
                    "SlipwayArgoRolloutsUnavailable",
                    rollouts,
                    "argo-rollouts",
                    "The Argo Rollouts controller",
                ),
                {
                    "alert": "SlipwayPlatformBootstrapFailed",
                    "expr": f'kube_job_status_failed{{namespace="{SYSTEM_NAMESPACE}"}} > 0',
                    "for": "1m",
                    "labels": {"severity": "warning", "slipway_component": "platform-bootstrap"},
                    "annotations": {
                        "summary": "The platform bootstrap Job failed",
                        "description": "Job {{ $labels.job_name }} could not set up the service databases; "
                        "read its pod's log.",
                    },
                },
            ],
        }
    ]
