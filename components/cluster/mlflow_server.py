"""The MLflow tracking server and model registry: authenticated, non-root, read-only root.

Its availability is watched through kube-state-metrics (see platform_alerts.py): MLflow's own
/metrics sits behind its authentication, and Prometheus holds no MLflow credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.containers import (
    api_spec,
    http_probe,
    object_meta,
    resources,
    scratch_volume,
    secret_env,
    selector_labels,
)
from components.cluster.pod_security import restricted_container, restricted_pod
from components.options import child_options
from components.services import MLFLOW

PORT = 5000
NAME = "mlflow"
SECRET = "mlflow-server"
AUTH_CONFIG_DIR = "/etc/mlflow-auth"
RUNTIME_USER_ID = 1000
ADMIN_USER = "admin"


def auth_config(database_uri: str) -> str:
    """MLflow's basic-auth configuration: nobody sees anything they were not granted.

    The admin password is not in it: MLflow reads it from MLFLOW_AUTH_ADMIN_PASSWORD, which comes
    from the same Secret.
    """
    return "\n".join(
        [
            "[mlflow]",
            "default_permission = NO_PERMISSIONS",
            f"database_uri = {database_uri}",
            f"admin_username = {ADMIN_USER}",
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth",
            "",
        ]
    )


def allowed_hosts(namespace: str) -> str:
    """The Host headers MLflow answers: its Service's names, with any port."""
    names = [NAME, f"{NAME}.{namespace}", f"{NAME}.{namespace}.svc", f"{NAME}.{namespace}.svc.cluster.local"]
    return ",".join([*names, *(f"{name}:*" for name in names), "localhost:*"])


@dataclass(frozen=True)
class MlflowServerArgs:
    """Inputs of an MlflowServer."""

    image: pulumi.Input[str]
    replicas: int
    backend_store_uri: pulumi.Input[str]
    """PostgreSQL URI with the mlflow role's password: a secret."""
    auth_database_uri: pulumi.Input[str]
    admin_password: pulumi.Input[str]
    flask_secret_key: pulumi.Input[str]
    artifacts_destination: pulumi.Input[str]
    """Where MLflow keeps artifacts; it serves them itself, so clients need no bucket access."""
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain settings, such as the AWS region or the S3 endpoint."""
    secret_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret settings, such as static S3 keys where there is no workload identity."""


class MlflowServer(pulumi.ComponentResource):
    """Service account, Secret, Deployment, Service and PodDisruptionBudget."""

    url: str

    def __init__(self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the server's objects in its namespace."""
        # Checked before registering, so a refused component leaves nothing half-declared.
        if args.replicas < 1:
            raise ValueError(f"MLflow needs at least one replica, got {args.replicas}")
        super().__init__("slipway:cluster:MlflowServer", name, None, opts)
        child = child_options(self, opts)
        namespace = MLFLOW.namespace
        labels = selector_labels(NAME)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=object_meta(MLFLOW.service_account, namespace, labels),
            automount_service_account_token=False,
            opts=child,
        )
        secret_values: dict[str, pulumi.Input[str]] = {
            "backend-store-uri": args.backend_store_uri,
            "admin-password": args.admin_password,
            "flask-secret-key": args.flask_secret_key,
            "basic_auth.ini": pulumi.Output.from_input(args.auth_database_uri).apply(auth_config),
            **{key.lower().replace("_", "-"): value for key, value in args.secret_env.items()},
        }
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=object_meta(SECRET, namespace, labels),
            string_data=secret_values,
            opts=child,
        )
        env: list[dict[str, Any]] = [
            _from_secret("MLFLOW_BACKEND_STORE_URI", "backend-store-uri"),
            _from_secret("MLFLOW_AUTH_ADMIN_PASSWORD", "admin-password"),
            _from_secret("MLFLOW_FLASK_SERVER_SECRET_KEY", "flask-secret-key"),
            {"name": "MLFLOW_AUTH_CONFIG_PATH", "value": f"{AUTH_CONFIG_DIR}/basic_auth.ini"},
            {"name": "MLFLOW_ARTIFACTS_DESTINATION", "value": args.artifacts_destination},
            {"name": "MLFLOW_SERVER_ALLOWED_HOSTS", "value": allowed_hosts(namespace)},
            # Background job execution starts extra worker processes the server does not need.
            {"name": "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "value": "false"},
            {"name": "HOME", "value": "/tmp"},
            *({"name": key, "value": value} for key, value in sorted(args.env.items())),
            *(_from_secret(key, key.lower().replace("_", "-")) for key in sorted(args.secret_env)),
        ]
        container = {
            "name": "mlflow",
            "image": args.image,
            "command": ["mlflow", "server"],
            "args": [
                "--host=0.0.0.0",
                f"--port={PORT}",
                "--app-name=basic-auth",
                "--serve-artifacts",
            ],
            "env": env,
            "ports": [{"name": "http", "containerPort": PORT}],
            # MLflow runs its database migrations at start; allow it two minutes before liveness.
            "startupProbe": http_probe("/health", "http", period=5, failures=24),
            "readinessProbe": http_probe("/health", "http"),
            "livenessProbe": http_probe("/health", "http", period=20),
            "resources": resources("250m", "768Mi", "2", "2Gi"),
            "securityContext": restricted_container(),
            "volumeMounts": [
                {"name": "auth", "mountPath": AUTH_CONFIG_DIR, "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        spec: dict[str, Any] = {
            "serviceAccountName": MLFLOW.service_account,
            "automountServiceAccountToken": False,
            "securityContext": restricted_pod(RUNTIME_USER_ID, fs_group=RUNTIME_USER_ID),
            "containers": [container],
            "volumes": [
                {
                    "name": "auth",
                    "secret": {
                        "secretName": SECRET,
                        "items": [{"key": "basic_auth.ini", "path": "basic_auth.ini"}],
                    },
                },
                scratch_volume("tmp", "1Gi"),
            ],
        }
        if args.replicas > 1:
            # Spread over zones and nodes so one failure never takes the registry down.
            spec["topologySpreadConstraints"] = [
                {
                    "maxSkew": 1,
                    "topologyKey": key,
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": labels},
                }
                for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
            ]
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_meta(NAME, namespace, labels),
            spec=api_spec(
                {
                    "replicas": args.replicas,
                    "selector": {"matchLabels": labels},
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                    },
                    "template": {"metadata": {"labels": labels}, "spec": spec},
                }
            ),
            opts=child_options(self, opts, [account, secret]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=object_meta(NAME, namespace, labels),
            spec=api_spec(
                {
                    "type": "ClusterIP",
                    "selector": labels,
                    "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
                }
            ),
            opts=child,
        )
        # One replica cannot be protected without blocking every node drain; more keep one spare.
        budget = {"minAvailable": args.replicas - 1} if args.replicas > 1 else {"maxUnavailable": 1}
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-budget",
            metadata=object_meta(NAME, namespace, labels),
            spec=api_spec({**budget, "selector": {"matchLabels": labels}}),
            opts=child,
        )
        self.url = f"http://{NAME}.{namespace}.svc:{PORT}"
        self.register_outputs({"url": self.url})


def _from_secret(name: str, key: str) -> dict[str, Any]:
    return secret_env(name, SECRET, key)
