"""A model's Kubernetes objects as plain manifests, built from its declaration and its platform."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.cluster.containers import secret_env
from components.cluster.pod_security import restricted_container, restricted_pod
from components.declaration.model import ModelDeclaration, RolloutStrategy
from components.model import quantities
from components.model.alerts import error_rate, latency_p99_seconds, rule_groups
from pipelines.targets.kubernetes import MODEL_URI_ANNOTATION, MODEL_VERSION_ANNOTATION

SERVING_ACCOUNT = "serving"
PIPELINE_ACCOUNT = "pipeline"
MLFLOW_CREDENTIALS = "mlflow-credentials"
RUNTIME_USER_ID = 1000
GPU_RESOURCE = "nvidia.com/gpu"
# Headroom for the pipeline's own pods (training, evaluation), over the serving pods.
PIPELINE_CPU, PIPELINE_MEMORY = 4.0, 8 * 1024**3


@dataclass(frozen=True)
class PlatformView:
    """What a model stack learns about its platform, from the platform stack's outputs."""

    runtime_image: str
    mlflow_url: str
    prometheus_url: str


def labels(declaration: ModelDeclaration) -> dict[str, str]:
    """The labels every object of the model carries and its pods are selected by."""
    return {
        "app.kubernetes.io/name": declaration.model.name,
        "app.kubernetes.io/part-of": "slipway",
        "slipway.dev/team": declaration.team,
    }


def _meta(name: str, namespace: str, declaration: ModelDeclaration, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels(declaration), **extra}


def quota(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """The namespace's ResourceQuota: serving at full scale during a rollout, plus the pipeline."""
    serving = declaration.serving
    # During a rollout the stable and the new pods run side by side: twice the replicas at most.
    pods = serving.max_replicas * 2
    hard = {
        "requests.cpu": quantities.cpu(quantities.parse(serving.cpu) * pods + PIPELINE_CPU),
        "requests.memory": quantities.memory(quantities.parse(serving.memory) * pods + PIPELINE_MEMORY),
        "limits.cpu": quantities.cpu(quantities.parse(serving.cpu) * pods * 2 + PIPELINE_CPU * 2),
        "limits.memory": quantities.memory(quantities.parse(serving.memory) * pods + PIPELINE_MEMORY),
        f"requests.{GPU_RESOURCE}": str(serving.gpus * pods),
        "pods": str(pods + 20),
        "services": "5",
        "configmaps": "20",
        "secrets": "20",
        "persistentvolumeclaims": "0",
    }
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta(f"{declaration.model.name}-quota", namespace, declaration),
        "spec": {"hard": hard},
    }


def limit_range(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """Defaults for containers that declare no resources (the quota refuses such pods otherwise)."""
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta(f"{declaration.model.name}-limits", namespace, declaration),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "1", "memory": "1Gi"},
                    "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
                }
            ]
        },
    }


def pipeline_role(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """What the pipeline's pods may do: change this model's Rollout and nothing else."""
    name = declaration.model.name
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(PIPELINE_ACCOUNT, namespace, declaration),
        "rules": [
            {
                "apiGroups": ["argoproj.io"],
                "resources": ["rollouts"],
                "resourceNames": [name],
                "verbs": ["get", "patch"],
            },
            {
                "apiGroups": ["argoproj.io"],
                "resources": ["rollouts/status"],
                "resourceNames": [name],
                "verbs": ["patch"],
            },
            {"apiGroups": ["argoproj.io"], "resources": ["analysisruns"], "verbs": ["get", "list", "watch"]},
            # Argo's executor reports each step's result through these.
            {
                "apiGroups": ["argoproj.io"],
                "resources": ["workflowtaskresults"],
                "verbs": ["create", "patch"],
            },
        ],
    }


def role_binding(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """The pipeline's Role, bound to its service account only."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(PIPELINE_ACCOUNT, namespace, declaration),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": PIPELINE_ACCOUNT},
        "subjects": [{"kind": "ServiceAccount", "name": PIPELINE_ACCOUNT, "namespace": namespace}],
    }


METRICS_LABEL = "slipway.dev/metrics"


def service(declaration: ModelDeclaration, namespace: str, role: str) -> dict[str, Any]:
    """One of the model's Services: stable, canary (Rollouts points each at its pods) or metrics.

    The metrics Service selects every serving pod and alone carries the label Prometheus looks
    for, so each pod is scraped once whatever Rollouts does with the other two.
    """
    extra = {METRICS_LABEL: "true"} if role == "metrics" else {}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(f"{declaration.model.name}-{role}", namespace, declaration)
        | {"labels": {**labels(declaration), **extra}},
        "spec": {
            "type": "ClusterIP",
            "selector": labels(declaration),
            "ports": [
                {"name": "http", "port": declaration.serving.port, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def mlflow_env(platform: PlatformView) -> list[dict[str, Any]]:
    """How the model's pods reach MLflow: its address and the team's account."""
    return [
        {"name": "MLFLOW_TRACKING_URI", "value": platform.mlflow_url},
        secret_env("MLFLOW_TRACKING_USERNAME", MLFLOW_CREDENTIALS, "username"),
        secret_env("MLFLOW_TRACKING_PASSWORD", MLFLOW_CREDENTIALS, "password"),
    ]


def _container(declaration: ModelDeclaration, platform: PlatformView) -> dict[str, Any]:
    serving = declaration.serving
    requests: dict[str, Any] = {"cpu": serving.cpu, "memory": serving.memory}
    limits: dict[str, Any] = {
        "cpu": quantities.cpu(quantities.parse(serving.cpu) * 2),
        "memory": serving.memory,
    }
    if serving.gpus:
        requests[GPU_RESOURCE] = str(serving.gpus)
        limits[GPU_RESOURCE] = str(serving.gpus)
    annotation = f"metadata.annotations['{MODEL_URI_ANNOTATION}']"
    return {
        "name": "model",
        "image": platform.runtime_image,
        "command": ["python", "-m", "pipelines.serving"],
        "env": [
            # The pipeline's deploy step changes this annotation; the pod reads it at start.
            {"name": "SLIPWAY_MODEL_URI", "valueFrom": {"fieldRef": {"fieldPath": annotation}}},
            {"name": "SLIPWAY_PORT", "value": str(serving.port)},
            {"name": "SLIPWAY_PREDICTION_LOG", "value": "/tmp/predictions.jsonl"},
            *mlflow_env(platform),
            {"name": "HOME", "value": "/tmp"},
        ],
        "ports": [{"name": "http", "containerPort": serving.port}],
        "startupProbe": {
            "httpGet": {"path": "/ping", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 60,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ping", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 15,
            "failureThreshold": 3,
        },
        "resources": {"requests": requests, "limits": limits},
        "securityContext": restricted_container(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _strategy(declaration: ModelDeclaration) -> dict[str, Any]:
    name = declaration.model.name
    analysis = {
        "templates": [{"templateName": f"{name}-health"}],
        # The new pods' template hash: the analysis looks at their metrics only.
        "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
    }
    rollout = declaration.rollout
    if rollout.strategy is RolloutStrategy.CANARY:
        steps: list[dict[str, Any]] = []
        for step in rollout.steps:
            steps += [{"setWeight": step.weight}, {"pause": {"duration": step.pause}}]
        return {
            "canary": {
                "stableService": f"{name}-stable",
                "canaryService": f"{name}-canary",
                "steps": steps,
                # The analysis runs beside the steps and aborts the rollout when it fails.
                "analysis": {**analysis, "startingStep": 1},
            }
        }
    # Blue-green and shadow both hold the new version on the preview Service, judged before it
    # takes any live traffic; Rollouts has no traffic mirroring without a service mesh.
    return {
        "blueGreen": {
            "activeService": f"{name}-stable",
            "previewService": f"{name}-canary",
            "autoPromotionEnabled": True,
            "prePromotionAnalysis": analysis,
        }
    }


def rollout(declaration: ModelDeclaration, namespace: str, platform: PlatformView) -> dict[str, Any]:
    """The Argo Rollout that serves the model and moves it between versions."""
    name = declaration.model.name
    pod: dict[str, Any] = {
        "serviceAccountName": SERVING_ACCOUNT,
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod(RUNTIME_USER_ID, fs_group=RUNTIME_USER_ID),
        "containers": [_container(declaration, platform)],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels(declaration)},
            }
        ],
    }
    if declaration.serving.gpus:
        pod["nodeSelector"] = {"nvidia.com/gpu.present": "true"}
        pod["tolerations"] = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": _meta(name, namespace, declaration),
        "spec": {
            "replicas": declaration.serving.min_replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels(declaration)},
            "template": {
                "metadata": {
                    "labels": labels(declaration),
                    # Until the first pipeline run promotes a version, the pods serve the champion.
                    "annotations": {
                        MODEL_URI_ANNOTATION: f"models:/{name}@champion",
                        MODEL_VERSION_ANNOTATION: "champion",
                    },
                },
                "spec": pod,
            },
            "strategy": _strategy(declaration),
        },
    }


def analysis_template(
    declaration: ModelDeclaration, namespace: str, platform: PlatformView
) -> dict[str, Any]:
    """The live checks of a new version: its error rate and p99 latency from Prometheus."""
    name = declaration.model.name
    analysis = declaration.rollout.analysis
    pods = f'namespace="{namespace}",rollouts_pod_template_hash="{{{{args.canary-hash}}}}"'
    common = {"interval": analysis.interval, "failureLimit": analysis.failure_limit}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": _meta(f"{name}-health", namespace, declaration),
        "spec": {
            "args": [{"name": "canary-hash"}],
            "metrics": [
                {
                    "name": "error-rate",
                    **common,
                    "successCondition": f"isNaN(result[0]) || result[0] <= {analysis.max_error_rate}",
                    "provider": {
                        "prometheus": {
                            "address": platform.prometheus_url,
                            "query": error_rate(pods, analysis.interval),
                        }
                    },
                },
                {
                    "name": "latency-p99",
                    **common,
                    "successCondition": f"isNaN(result[0]) || result[0] <= {analysis.max_latency_p99_ms}",
                    "provider": {
                        "prometheus": {
                            "address": platform.prometheus_url,
                            "query": f"{latency_p99_seconds(pods, analysis.interval)} * 1000",
                        }
                    },
                },
            ],
        },
    }


def autoscaler(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """Scales the Rollout on CPU between the declared replicas."""
    name = declaration.model.name
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name, namespace, declaration),
        "spec": {
            "scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name},
            "minReplicas": declaration.serving.min_replicas,
            "maxReplicas": declaration.serving.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def disruption_budget(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """Never more than one serving pod evicted at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(declaration.model.name, namespace, declaration),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(declaration)}},
    }


def service_monitor(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """Prometheus scrapes every serving pod through the metrics Service."""
    name = declaration.model.name
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _meta(name, namespace, declaration),
        "spec": {
            "selector": {"matchLabels": {**labels(declaration), METRICS_LABEL: "true"}},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}],
            "podTargetLabels": ["rollouts-pod-template-hash"],
        },
    }


def prometheus_rule(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """The model's alerts as a PrometheusRule."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": _meta(declaration.model.name, namespace, declaration),
        "spec": {"groups": rule_groups(declaration, namespace)},
    }


def dashboard(declaration: ModelDeclaration, namespace: str) -> dict[str, Any]:
    """A Grafana dashboard in a ConfigMap the platform's Grafana picks up by its label."""
    name = declaration.model.name
    selector = f'namespace="{namespace}",service="{name}-metrics"'

    def panel(index: int, title: str, expression: str, unit: str) -> dict[str, Any]:
        return {
            "id": index,
            "type": "timeseries",
            "title": title,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
            "fieldConfig": {"defaults": {"unit": unit}},
            "targets": [{"expr": expression, "refId": "A"}],
        }

    board = {
        "title": f"{declaration.team} / {name}",
        "uid": f"slipway-{namespace}"[:40],
        "schemaVersion": 39,
        "tags": ["slipway", declaration.team],
        "panels": [
            panel(
                0,
                "Requests per second by code",
                f"sum by (code) (rate(model_requests_total{{{selector}}}[5m]))",
                "reqps",
            ),
            panel(
                1,
                "p99 latency",
                latency_p99_seconds(selector, "5m"),
                "s",
            ),
            panel(
                2,
                "Error rate",
                error_rate(selector, "5m"),
                "percentunit",
            ),
            panel(3, "Drift detected", f'max(slipway_drift_detected{{model="{name}"}})', "none"),
        ],
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(f"{name}-dashboard", namespace, declaration)
        | {"labels": {**labels(declaration), "grafana_dashboard": "1"}},
        "data": {f"{name}.json": json.dumps(board, sort_keys=True)},
    }
