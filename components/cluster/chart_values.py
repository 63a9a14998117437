"""The values each chart is installed with, as plain data built from the declaration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.cluster.pod_security import restricted_container, restricted_pod
from components.declaration.platform import ArgoAuthMode, ArgoSso
from components.services import ARGO_ARTIFACT_PREFIX, ARGO_CONTROLLER, ARGO_SERVER

ARGO_FULLNAME = "argo"
ROLLOUTS_FULLNAME = "argo-rollouts"
# kube-prometheus-stack cuts its full name at 26 characters; this one names its services.
MONITORING_FULLNAME = "slipway"
GRAFANA_FULLNAME = "slipway-grafana"
# Workflow artifacts sit under the namespace that made them, so a model's role can be given its own prefix.
ARGO_KEY_FORMAT = ARGO_ARTIFACT_PREFIX + "/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
# Chart images run as these users; the pod security contexts pin them.
ARGO_USER = 8737
ROLLOUTS_USER = 999
GRAFANA_USER = 472


@dataclass(frozen=True)
class ArtifactRepository:
    """Where workflow artifacts and logs go."""

    bucket: str
    endpoint: str
    region: str | None = None
    insecure: bool = False
    kms_key_arn: str | None = None
    """SSE-KMS key on AWS; objects are then encrypted with it whatever the bucket default."""
    credentials_secret: str | None = None
    """A Secret with keys 'accesskey' and 'secretkey' where no workload identity exists."""

    def s3(self) -> dict[str, Any]:
        """The `s3` block of an Argo artifact repository."""
        block: dict[str, Any] = {
            "bucket": self.bucket,
            "endpoint": self.endpoint,
            "insecure": self.insecure,
            "keyFormat": ARGO_KEY_FORMAT,
        }
        if self.region:
            block["region"] = self.region
        if self.kms_key_arn:
            block["encryptionOptions"] = {"enableEncryption": True, "kmsKeyId": self.kms_key_arn}
        if self.credentials_secret:
            block["accessKeySecret"] = {"name": self.credentials_secret, "key": "accesskey"}
            block["secretKeySecret"] = {"name": self.credentials_secret, "key": "secretkey"}
        else:
            block["useSDKCreds"] = True
        return block


@dataclass(frozen=True)
class ArchiveDatabase:
    """The PostgreSQL database the workflow archive lives in."""

    host: str
    port: int
    database: str
    credentials_secret: str
    """A Secret in the Argo namespace with keys 'username' and 'password'."""
    ssl_mode: str


def argo_workflows_values(
    auth_mode: ArgoAuthMode, sso: ArgoSso | None, repository: ArtifactRepository, archive: ArchiveDatabase
) -> dict[str, Any]:
    """Argo Workflows: the server never open, the archive in the platform database."""
    pod = restricted_pod(ARGO_USER)
    server: dict[str, Any] = {
        "serviceAccount": {"create": True, "name": ARGO_SERVER.service_account},
        # 'server' mode (every caller acts as the server's own account) is never offered.
        "authModes": [auth_mode.value],
        "secure": True,
        "podSecurityContext": pod,
        "securityContext": restricted_container(),
    }
    if sso is not None:
        server["sso"] = {
            "enabled": True,
            "issuer": sso.issuer,
            "redirectUrl": sso.redirect_url,
            "clientId": {"name": sso.client_secret_name, "key": "client-id"},
            "clientSecret": {"name": sso.client_secret_name, "key": "client-secret"},
            "rbac": {"enabled": True},
        }
    return {
        "fullnameOverride": ARGO_FULLNAME,
        "crds": {"install": True, "keep": True},
        "singleNamespace": False,
        # Model stacks bind their own workflow service accounts; none is made here.
        "workflow": {"serviceAccount": {"create": False}, "rbac": {"create": False}},
        "controller": {
            "serviceAccount": {"create": True, "name": ARGO_CONTROLLER.service_account},
            "workflowNamespaces": [],
            "persistence": {
                "archive": True,
                "archiveTTL": "90d",
                "postgresql": {
                    "host": archive.host,
                    "port": archive.port,
                    "database": archive.database,
                    "tableName": "argo_workflows",
                    "userNameSecret": {"name": archive.credentials_secret, "key": "username"},
                    "passwordSecret": {"name": archive.credentials_secret, "key": "password"},
                    "ssl": archive.ssl_mode != "disable",
                    "sslMode": archive.ssl_mode,
                },
            },
            "metricsConfig": {"enabled": True},
            "serviceMonitor": {"enabled": True},
            "podSecurityContext": pod,
            "securityContext": restricted_container(),
        },
        "server": server,
        "useStaticCredentials": repository.credentials_secret is not None,
        "artifactRepository": {"archiveLogs": True, "s3": repository.s3()},
    }


def argo_rollouts_values() -> dict[str, Any]:
    """Argo Rollouts: two controllers for failover, metrics scraped, no dashboard."""
    return {
        "fullnameOverride": ROLLOUTS_FULLNAME,
        "installCRDs": True,
        "keepCRDs": True,
        "serviceAccount": {"create": True, "name": ROLLOUTS_FULLNAME},
        "controller": {
            "replicas": 2,
            "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
        },
        "dashboard": {"enabled": False},
        "podSecurityContext": restricted_pod(ROLLOUTS_USER),
        "containerSecurityContext": restricted_container(),
    }


def monitoring_values(
    retention_days: int,
    storage_gb: int,
    storage_class: str | None,
    grafana_admin_secret: str,
    node_metrics_namespace: str,
) -> dict[str, Any]:
    """kube-prometheus-stack: retention and storage as declared, every team's monitors picked up."""
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{storage_gb}Gi"}},
    }
    if storage_class:
        claim["storageClassName"] = storage_class
    return {
        "fullnameOverride": MONITORING_FULLNAME,
        "crds": {"enabled": True},
        "prometheus": {
            "prometheusSpec": {
                "retention": f"{retention_days}d",
                "storageSpec": {"volumeClaimTemplate": {"spec": claim}},
                # Model stacks add their own monitors and rules; select them all, not only
                # those labelled with this release.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
            }
        },
        "grafana": {
            "fullnameOverride": GRAFANA_FULLNAME,
            # The admin password is generated and kept only in this Secret.
            "admin": {
                "existingSecret": grafana_admin_secret,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            # The chart's chown init container runs as root; without persistence it has nothing to do.
            "initChownData": {"enabled": False},
            "persistence": {"enabled": False},
            "securityContext": restricted_pod(GRAFANA_USER, fs_group=GRAFANA_USER),
            "containerSecurityContext": restricted_container(read_only_root=False),
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                },
                "securityContext": restricted_container(),
            },
        },
        # node-exporter reads the host's /proc and /sys with host networking: it cannot run
        # restricted, so it lives in a namespace of its own.
        "prometheus-node-exporter": {"namespaceOverride": node_metrics_namespace},
    }


def device_plugin_values() -> dict[str, Any]:
    """The NVIDIA device plugin, on GPU nodes only, without feature discovery."""
    return {
        "nodeSelector": dict(GPU_NODE_SELECTOR),
        "tolerations": [dict(GPU_TOLERATION)],
        "gfd": {"enabled": False},
    }


def dcgm_exporter_values() -> dict[str, Any]:
    """The DCGM exporter, on GPU nodes only, scraped by the platform's Prometheus."""
    return {
        "nodeSelector": dict(GPU_NODE_SELECTOR),
        "tolerations": [dict(GPU_TOLERATION)],
        "serviceMonitor": {"enabled": True},
    }
