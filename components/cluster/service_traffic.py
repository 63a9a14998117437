"""The traffic each platform namespace allows beyond its default deny, and why."""

from __future__ import annotations

from dataclasses import dataclass

from components.cluster.traffic import Allow, Direction, Peer
from components.services import (
    ARGO_CLIENT_LABEL,
    ARTIFACT_CLIENT_LABEL,
    DATA_NAMESPACE,
    GPU_NAMESPACE,
    MLFLOW_CLIENT_LABEL,
    NODE_METRICS_NAMESPACE,
    SERVICE_NAMESPACES,
    SYSTEM_NAMESPACE,
)

API_SERVER_PORTS = (443, 6443)
MLFLOW_PORT = 5000
ARGO_SERVER_PORT = 2746
ARGO_METRICS_PORT = 9090
ROLLOUTS_METRICS_PORT = 8090
PROMETHEUS_PORT = 9090
OPERATOR_WEBHOOK_PORT = 10250
NODE_EXPORTER_PORT = 9100
DCGM_PORT = 9400
POSTGRES_PORT = 5432
HTTPS_PORT = 443
INTERNET = "0.0.0.0/0"
TRUE = "true"


@dataclass(frozen=True)
class ClusterNetwork:
    """Where the things the platform's pods talk to live, which differs by cloud."""

    api_server: tuple[Peer, ...]
    database: Peer
    object_store: Peer
    object_store_port: int
    cloud_apis: bool
    """Whether pods call cloud APIs over HTTPS (STS, Secrets Manager, S3 on AWS)."""


def _in(namespace: str) -> Peer:
    return Peer(namespace=namespace)


def _egress(name: str, peers: tuple[Peer, ...], ports: tuple[int, ...], reason: str) -> Allow:
    return Allow(name=name, direction=Direction.EGRESS, peers=peers, ports=ports, reason=reason)


def _ingress(name: str, peers: tuple[Peer, ...], ports: tuple[int, ...], reason: str) -> Allow:
    return Allow(name=name, direction=Direction.INGRESS, peers=peers, ports=ports, reason=reason)


def service_allows(network: ClusterNetwork, byo: bool, gpu: bool) -> dict[str, list[Allow]]:
    """The allows of every platform namespace, by namespace."""
    mlflow, argo = SERVICE_NAMESPACES["mlflow"], SERVICE_NAMESPACES["argo"]
    rollouts, monitoring = SERVICE_NAMESPACES["rollouts"], SERVICE_NAMESPACES["monitoring"]
    to_api = _egress(
        "allow-api-server", network.api_server, API_SERVER_PORTS, "controllers watch the API server"
    )
    to_database = _egress(
        "allow-database", (network.database,), (POSTGRES_PORT,), "the service's own database role"
    )
    to_objects = _egress(
        "allow-object-store",
        (network.object_store,),
        (network.object_store_port,),
        "artifacts in the object store",
    )
    from_monitoring = (_in(monitoring),)
    allows: dict[str, list[Allow]] = {
        mlflow: [
            _ingress(
                "allow-mlflow-clients",
                (Peer(namespace_labels={MLFLOW_CLIENT_LABEL: TRUE}),),
                (MLFLOW_PORT,),
                "pipelines and model servers of namespaces labelled as MLflow clients",
            ),
            _ingress(
                "allow-mlflow-accounts", (Peer(),), (MLFLOW_PORT,), "the team-accounts Job beside the server"
            ),
            _egress(
                "allow-mlflow-itself", (Peer(),), (MLFLOW_PORT,), "the team-accounts Job calls the server"
            ),
            to_database,
            to_objects,
        ],
        argo: [
            _ingress(
                "allow-argo-clients",
                (Peer(namespace_labels={ARGO_CLIENT_LABEL: TRUE}),),
                (ARGO_SERVER_PORT,),
                "the Argo server's API for namespaces labelled as Argo clients",
            ),
            _ingress(
                "allow-metrics-scrape",
                from_monitoring,
                (ARGO_METRICS_PORT,),
                "Prometheus scrapes the controller",
            ),
            to_api,
            to_database,
            to_objects,
        ],
        rollouts: [
            _ingress(
                "allow-metrics-scrape",
                from_monitoring,
                (ROLLOUTS_METRICS_PORT,),
                "Prometheus scrapes the controller",
            ),
            _egress(
                "allow-prometheus",
                (Peer(namespace=monitoring),),
                (PROMETHEUS_PORT,),
                "canary analysis queries Prometheus",
            ),
            to_api,
        ],
        monitoring: [
            _ingress(
                "allow-prometheus-queries",
                (_in(rollouts), Peer()),
                (PROMETHEUS_PORT,),
                "Argo Rollouts' analysis and Grafana query Prometheus",
            ),
            _ingress(
                "allow-operator-webhook",
                (Peer(cidr=INTERNET),),
                (OPERATOR_WEBHOOK_PORT,),
                "the API server calls the operator's admission webhook from outside the pod network",
            ),
            Allow(
                name="allow-within-namespace",
                direction=Direction.INGRESS,
                peers=(Peer(),),
                ports=(),
                all_ports=True,
                reason="Prometheus, Alertmanager, Grafana and the operator talk among themselves",
            ),
            Allow(
                name="allow-scrape-everything",
                direction=Direction.EGRESS,
                peers=(Peer(namespace_labels={}), Peer(cidr=INTERNET)),
                ports=(),
                all_ports=True,
                reason="Prometheus scrapes targets in every namespace and on every node, on their own ports",
            ),
        ],
        SYSTEM_NAMESPACE: [to_database, *([to_objects] if byo else [])],
    }
    if network.cloud_apis:
        cloud = _egress(
            "allow-cloud-apis", (Peer(cidr=INTERNET),), (HTTPS_PORT,), "AWS APIs: STS, Secrets Manager, S3"
        )
        for namespace in (mlflow, argo, SYSTEM_NAMESPACE):
            allows[namespace].append(cloud)
    if byo:
        clients = (_in(mlflow), _in(argo), _in(SYSTEM_NAMESPACE))
        allows[DATA_NAMESPACE] = [
            Allow(
                name="allow-postgres-clients",
                direction=Direction.INGRESS,
                peers=clients,
                ports=(POSTGRES_PORT,),
                pods={"app.kubernetes.io/name": "postgres"},
                reason="MLflow, the Argo archive and the bootstrap Job",
            ),
            Allow(
                name="allow-object-store-clients",
                direction=Direction.INGRESS,
                peers=(*clients, Peer(namespace_labels={ARTIFACT_CLIENT_LABEL: TRUE})),
                ports=(network.object_store_port,),
                pods={"app.kubernetes.io/name": "object-store"},
                reason="artifacts of MLflow and of workflows in labelled namespaces",
            ),
            Allow(
                name="allow-registry-pulls",
                direction=Direction.INGRESS,
                peers=(Peer(cidr=INTERNET),),
                ports=(5000,),
                pods={"app.kubernetes.io/name": "registry"},
                reason="kubelets pull through the node port, from node addresses",
            ),
        ]
    allows[NODE_METRICS_NAMESPACE] = [
        _ingress(
            "allow-metrics-scrape", from_monitoring, (NODE_EXPORTER_PORT,), "Prometheus scrapes node-exporter"
        )
    ]
    if gpu:
        allows[GPU_NAMESPACE] = [
            _ingress(
                "allow-metrics-scrape", from_monitoring, (DCGM_PORT,), "Prometheus scrapes the DCGM exporter"
            )
        ]
    return allows
