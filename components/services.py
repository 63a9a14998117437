"""The platform's own services: where each runs and which identity it runs as, in one place.

The cloud layer grants AWS access to these identities and the cluster layer runs the services
under them, so both read the names from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceIdentity:
    """A Kubernetes service account, named by its namespace and name."""

    namespace: str
    service_account: str


# The namespaces the platform's own services run in, by role.
SERVICE_NAMESPACES = {
    "mlflow": "slipway-mlflow",
    "argo": "slipway-argo",
    "rollouts": "slipway-rollouts",
    "monitoring": "slipway-monitoring",
}

# Platform set-up (database roles, buckets) and the in-cluster data services of BYO clusters.
SYSTEM_NAMESPACE = "slipway-system"
DATA_NAMESPACE = "slipway-data"
# Host-level agents that cannot run under Pod Security 'restricted' live apart from everything else.
NODE_METRICS_NAMESPACE = "slipway-node-metrics"
GPU_NAMESPACE = "slipway-gpu"

MLFLOW = ServiceIdentity(SERVICE_NAMESPACES["mlflow"], "mlflow")
BOOTSTRAP = ServiceIdentity(SYSTEM_NAMESPACE, "platform-bootstrap")
ARGO_SERVER = ServiceIdentity(SERVICE_NAMESPACES["argo"], "argo-server")
ARGO_CONTROLLER = ServiceIdentity(SERVICE_NAMESPACES["argo"], "argo-workflow-controller")
# Cluster add-ons that call AWS; their service accounts are fixed by the add-ons.
VPC_CNI = ServiceIdentity("kube-system", "aws-node")
EBS_CSI = ServiceIdentity("kube-system", "ebs-csi-controller-sa")

# Labels a namespace carries to reach a platform service (model namespaces set them).
MLFLOW_CLIENT_LABEL = "slipway.dev/mlflow-client"
ARGO_CLIENT_LABEL = "slipway.dev/argo-client"
ARTIFACT_CLIENT_LABEL = "slipway.dev/artifact-client"

# Where each service keeps its files in the artifact bucket; a role reaches only its prefix.
MLFLOW_ARTIFACT_PREFIX = "mlflow"
ARGO_ARTIFACT_PREFIX = "argo"


def model_namespace(team: str, model: str) -> str:
    """The namespace a team's model lives in, in the environment's cluster."""
    return f"{team}-{model}"
