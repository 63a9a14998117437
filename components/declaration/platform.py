"""The platform stack's declaration: one environment's cloud, cluster and shared services."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from components.declaration.fields import (
    AwsRegion,
    ChartVersion,
    ContainerImage,
    DnsLabel,
    Environment,
    HttpsUrl,
    IamPrincipalArn,
    InstanceType,
    KubernetesVersion,
    LabelValue,
    PrivateCidr,
    PrivateOrPublicCidr,
    PublicCidr,
    Quantity,
    Strict,
)


class Cloud(StrEnum):
    """Where the cluster comes from."""

    AWS = "aws"
    KUBERNETES = "kubernetes"


class NatGateways(StrEnum):
    """How many NAT gateways the network gets."""

    SINGLE = "single"
    PER_AZ = "perAz"


class PoolKind(StrEnum):
    """What a node pool is for."""

    SYSTEM = "system"
    CPU = "cpu"
    GPU = "gpu"


class CapacityType(StrEnum):
    """How a node pool's instances are bought."""

    ON_DEMAND = "onDemand"
    SPOT = "spot"


class ArgoAuthMode(StrEnum):
    """How the Argo server authenticates callers; there is no open mode."""

    CLIENT = "client"
    SSO = "sso"


class AwsSettings(Strict):
    """The AWS account side of an environment."""

    region: AwsRegion
    availability_zones: Annotated[int, Field(ge=2, le=6)] = 2
    vpc_cidr: PrivateCidr = "10.40.0.0/16"
    nat_gateways: NatGateways | None = None
    """Defaults to one per availability zone in prod and a single one elsewhere."""


class KubernetesSettings(Strict):
    """A cluster the user already has, reached through one named kubeconfig context."""

    context: Annotated[str, Field(min_length=1, max_length=253)]
    kubeconfig: Annotated[str, Field(min_length=1)] | None = None
    """Path of the kubeconfig file; the context is pinned either way."""
    storage_class: DnsLabel | None = None
    """The storage class of every volume; the cluster's default when absent."""
    api_server_cidrs: Annotated[list[PrivateOrPublicCidr], Field(min_length=1, max_length=10)] = ["0.0.0.0/0"]
    """Where the Kubernetes API server listens, for the egress policies of the controllers."""
    registry_node_port: Annotated[int, Field(ge=30000, le=32767)] = 30500
    """The node port of the in-cluster registry; nodes pull from localhost:<port>."""
    database_storage_gb: Annotated[int, Field(ge=1, le=10000)] = 10
    object_store_storage_gb: Annotated[int, Field(ge=1, le=100000)] = 50
    registry_storage_gb: Annotated[int, Field(ge=1, le=100000)] = 50


class EndpointAccess(Strict):
    """Who can reach the Kubernetes API server."""

    public: bool = False
    public_cidrs: list[PublicCidr] = []


class ClusterSettings(Strict):
    """The Kubernetes cluster itself."""

    name: DnsLabel
    version: KubernetesVersion
    endpoint: EndpointAccess = EndpointAccess()
    log_retention_days: Annotated[int, Field(ge=7, le=3653)] = 90
    admins: Annotated[list[IamPrincipalArn], Field(max_length=20)] = []
    """IAM principals given cluster admin through EKS access entries; the creator gets none."""


class NodePool(Strict):
    """One group of nodes: system services, CPU workloads or GPU workloads."""

    name: DnsLabel
    kind: PoolKind = PoolKind.CPU
    instance_types: Annotated[list[InstanceType], Field(min_length=1, max_length=20)]
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    min_size: Annotated[int, Field(ge=0, le=1000)]
    max_size: Annotated[int, Field(ge=1, le=1000)]
    desired_size: Annotated[int, Field(ge=0, le=1000)] | None = None
    disk_size_gb: Annotated[int, Field(ge=20, le=16384)] = 100
    labels: dict[DnsLabel, LabelValue] = {}


class RegistrySettings(Strict):
    """The platform's container registry; tags are always immutable and scanned on push."""

    untagged_image_expiry_days: Annotated[int, Field(ge=1, le=365)] = 14


class ArtifactStoreSettings(Strict):
    """The artifact store; always versioned, KMS-encrypted and private."""

    noncurrent_version_expiry_days: Annotated[int, Field(ge=1, le=3650)] = 90


class DatabaseSettings(Strict):
    """The MLflow backend database."""

    instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")] = "db.t4g.small"
    allocated_storage_gb: Annotated[int, Field(ge=20, le=65536)] = 20
    backup_retention_days: Annotated[int, Field(ge=7, le=35)] = 7
    multi_az: bool | None = None
    """Defaults to on in prod and off elsewhere."""


class MlflowSettings(Strict):
    """The MLflow tracking server and model registry."""

    image: ContainerImage | None = None
    """Defaults to the platform's runtime image (MLflow with the PostgreSQL and S3 clients)."""
    replicas: Annotated[int, Field(ge=1, le=10)] = 1
    database: DatabaseSettings = DatabaseSettings()


class ArgoSso(Strict):
    """Single sign-on for the Argo server through an OIDC provider."""

    issuer: HttpsUrl
    redirect_url: HttpsUrl
    client_secret_name: DnsLabel = "argo-server-sso"
    """A Secret in the Argo namespace with keys 'client-id' and 'client-secret', made by the operator."""


class ArgoSettings(Strict):
    """Argo Workflows and Argo Rollouts."""

    workflows_chart_version: ChartVersion = "2.0.1"
    rollouts_chart_version: ChartVersion = "2.40.9"
    server_auth_mode: ArgoAuthMode = ArgoAuthMode.CLIENT
    sso: ArgoSso | None = None


class MonitoringSettings(Strict):
    """The Prometheus stack."""

    chart_version: ChartVersion = "92.15.0"
    retention_days: Annotated[int, Field(ge=1, le=365)] = 15
    storage_gb: Annotated[int, Field(ge=10, le=10000)] = 50


class GpuSettings(Strict):
    """The NVIDIA components installed when a GPU pool is declared."""

    device_plugin_chart_version: ChartVersion = "0.19.2"
    dcgm_exporter_chart_version: ChartVersion = "4.8.3"


class TeamQuota(Strict):
    """What one team may request in total in this environment."""

    cpu: Quantity = "16"
    memory: Quantity = "64Gi"
    gpus: Annotated[int, Field(ge=0, le=512)] = 0


class Team(Strict):
    """A team that may deploy models to this environment."""

    name: DnsLabel
    quota: TeamQuota = TeamQuota()


class PlatformDeclaration(Strict):
    """Everything one environment's platform stack builds."""

    role: Literal["platform"]
    environment: Environment
    cloud: Cloud
    aws: AwsSettings | None = None
    kubernetes: KubernetesSettings | None = None
    cluster: ClusterSettings
    node_pools: Annotated[list[NodePool], Field(max_length=50)] = []
    registry: RegistrySettings = RegistrySettings()
    artifact_store: ArtifactStoreSettings = ArtifactStoreSettings()
    mlflow: MlflowSettings = MlflowSettings()
    argo: ArgoSettings = ArgoSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    gpu: GpuSettings = GpuSettings()
    teams: list[Team] = []
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], str] = {}

    @property
    def is_prod(self) -> bool:
        """Whether this environment carries production traffic."""
        return self.environment is Environment.PROD

    @property
    def nat_gateways(self) -> NatGateways:
        """The NAT layout in force, after the environment's default."""
        declared = self.aws.nat_gateways if self.aws else None
        if declared is not None:
            return declared
        return NatGateways.PER_AZ if self.is_prod else NatGateways.SINGLE

    @property
    def has_gpu_pool(self) -> bool:
        """Whether any node pool carries GPUs."""
        return any(pool.kind is PoolKind.GPU for pool in self.node_pools)

    @property
    def database_multi_az(self) -> bool:
        """Whether the database runs Multi-AZ, after the environment's default."""
        declared = self.mlflow.database.multi_az
        return self.is_prod if declared is None else declared
