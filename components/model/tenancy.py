"""The traffic a model's namespace allows beyond its default deny."""

from __future__ import annotations

from components.cluster.service_traffic import API_SERVER_PORTS, HTTPS_PORT, INTERNET, MLFLOW_PORT
from components.cluster.traffic import Allow, Direction, Peer
from components.services import DATA_NAMESPACE, SERVICE_NAMESPACES

MODEL_CLIENT_LABEL = "slipway.dev/model-client"
# EKS Pod Identity's agent answers on this link-local address on every node.
POD_IDENTITY_AGENT = "169.254.170.23/32"
POD_IDENTITY_PORT = 80
OBJECT_STORE_PORT = 8333


def model_allows(port: int, cloud: str, api_server_cidrs: list[str]) -> list[Allow]:
    """Serving from labelled callers and Prometheus; the pipeline to MLflow, the API server, the store."""
    monitoring = SERVICE_NAMESPACES["monitoring"]
    allows = [
        Allow(
            name="allow-model-clients",
            direction=Direction.INGRESS,
            peers=(Peer(namespace_labels={MODEL_CLIENT_LABEL: "true"}), Peer(namespace=monitoring), Peer()),
            ports=(port,),
            reason="callers in namespaces labelled as model clients, Prometheus, and the drift check here",
        ),
        Allow(
            name="allow-mlflow",
            direction=Direction.EGRESS,
            peers=(Peer(namespace=SERVICE_NAMESPACES["mlflow"]),),
            ports=(MLFLOW_PORT,),
            reason="models are read from, and versions registered in, MLflow",
        ),
        Allow(
            name="allow-api-server",
            direction=Direction.EGRESS,
            peers=tuple(Peer(cidr=cidr) for cidr in api_server_cidrs),
            ports=API_SERVER_PORTS,
            reason="the pipeline's deploy step patches this model's Rollout",
        ),
        Allow(
            name="allow-same-namespace",
            direction=Direction.EGRESS,
            peers=(Peer(),),
            ports=(port,),
            reason="the drift check reads the serving pods' recent inputs",
        ),
    ]
    if cloud == "aws":
        allows += [
            Allow(
                name="allow-cloud-apis",
                direction=Direction.EGRESS,
                peers=(Peer(cidr=INTERNET),),
                ports=(HTTPS_PORT,),
                reason="workflow artifacts and the audit trail in S3",
            ),
            Allow(
                name="allow-pod-identity",
                direction=Direction.EGRESS,
                peers=(Peer(cidr=POD_IDENTITY_AGENT),),
                ports=(POD_IDENTITY_PORT,),
                reason="the pipeline's AWS credentials come from the node's Pod Identity agent",
            ),
        ]
    else:
        allows.append(
            Allow(
                name="allow-object-store",
                direction=Direction.EGRESS,
                peers=(Peer(namespace=DATA_NAMESPACE, pods={"app.kubernetes.io/name": "object-store"}),),
                ports=(OBJECT_STORE_PORT,),
                reason="workflow artifacts and the audit trail in the in-cluster object store",
            )
        )
    return allows
