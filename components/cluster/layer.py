"""The cluster layer: the platform's services on EKS or on a cluster the user brings, the same way."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster.chart_values import (
    ARGO_FULLNAME,
    GRAFANA_FULLNAME,
    MONITORING_FULLNAME,
    ArchiveDatabase,
    ArtifactRepository,
    argo_rollouts_values,
    argo_workflows_values,
    dcgm_exporter_values,
    device_plugin_values,
    monitoring_values,
)
from components.cluster.charts import (
    ARGO_REPOSITORY,
    NVIDIA_DCGM_REPOSITORY,
    NVIDIA_DEVICE_PLUGIN_REPOSITORY,
    PROMETHEUS_COMMUNITY_REPOSITORY,
    Chart,
    chart_release,
)
from components.cluster.containers import api_spec, object_meta, secret_env
from components.cluster.data_services import (
    InClusterObjectStore,
    InClusterPostgres,
    InClusterRegistry,
    Storage,
    seaweed_identities,
)
from components.cluster.mlflow_server import ADMIN_USER as MLFLOW_ADMIN
from components.cluster.mlflow_server import SECRET as MLFLOW_SECRET
from components.cluster.mlflow_server import MlflowServer, MlflowServerArgs
from components.cluster.namespace import PodSecurityLevel, SecureNamespace, SecureNamespaceArgs
from components.cluster.platform_alerts import RULE_NAME, platform_rule_groups
from components.cluster.platform_bootstrap import (
    ObjectStoreAccess,
    PlatformBootstrap,
    PlatformBootstrapArgs,
    ServiceDatabase,
)
from components.cluster.pod_security import restricted_container, restricted_pod
from components.cluster.provider import byo_cluster_provider, eks_cluster_provider
from components.cluster.service_traffic import ClusterNetwork, service_allows
from components.cluster.traffic import Peer
from components.declaration.platform import PlatformDeclaration
from components.services import (
    BOOTSTRAP,
    DATA_NAMESPACE,
    GPU_NAMESPACE,
    MLFLOW,
    MLFLOW_ARTIFACT_PREFIX,
    NODE_METRICS_NAMESPACE,
    SERVICE_NAMESPACES,
    SYSTEM_NAMESPACE,
)

RUNTIME_REPOSITORY = "slipway/runtime"
BYO_BUCKET = "slipway-artifacts"
ENCRYPTED_STORAGE_CLASS = "slipway-encrypted"
GRAFANA_ADMIN_SECRET = "grafana-admin"
ARGO_DATABASE_SECRET = "argo-postgres"
ARGO_ARTIFACTS_SECRET = "artifact-store-argo"
PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class CloudServices:
    """What the cloud layer built for the cluster layer to use (AWS only)."""

    kubeconfig: pulumi.Output[str]
    region: str
    vpc_cidr: str
    runtime_repository_url: pulumi.Output[str]
    artifact_bucket: pulumi.Output[str]
    artifacts_kms_key_arn: pulumi.Output[str]
    node_volumes_kms_key_arn: pulumi.Output[str]
    database_address: pulumi.Output[str]
    database_port: pulumi.Output[int]
    database_secret_arn: pulumi.Output[str]


def runtime_tag() -> str:
    """The runtime image's tag: this project's version, so code and image move together."""
    return metadata.version("slipway")


def _secret_text(
    name: str, opts: pulumi.ResourceOptions, length: int = PASSWORD_LENGTH
) -> pulumi.Output[str]:
    # Letters and digits only: the values go into URIs and INI files without escaping.
    generated = random.RandomPassword(name, length=length, special=False, opts=opts)
    return pulumi.Output.secret(generated.result)


def _postgres_uri(
    user: str,
    password: pulumi.Input[str],
    host: pulumi.Input[str],
    port: pulumi.Input[int],
    database: str,
    ssl_mode: str,
) -> pulumi.Output[str]:
    return pulumi.Output.secret(
        pulumi.Output.format(
            "postgresql+psycopg://{0}:{1}@{2}:{3}/{4}?sslmode={5}",
            user,
            password,
            host,
            port,
            database,
            ssl_mode,
        )
    )


ACCOUNTS_SECRET = "mlflow-team-accounts"


def _team_accounts(
    declaration: PlatformDeclaration,
    image: pulumi.Input[str],
    mlflow: MlflowServer,
    namespace: SecureNamespace,
    opts: pulumi.ResourceOptions,
) -> dict[str, pulumi.Output[str]]:
    """A generated MLflow password per team, and the Job that makes the accounts with them."""
    passwords = {
        team.name: _secret_text(f"mlflow-{team.name}-password", pulumi.ResourceOptions())
        for team in declaration.teams
    }
    if not passwords:
        return {}
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[namespace, mlflow]))
    secret = k8s.core.v1.Secret(
        "mlflow-team-accounts",
        metadata=object_meta(ACCOUNTS_SECRET, MLFLOW.namespace),
        string_data=passwords,
        opts=after,
    )
    k8s.batch.v1.Job(
        "mlflow-accounts",
        metadata=object_meta(
            "mlflow-accounts", MLFLOW.namespace, {"app.kubernetes.io/name": "mlflow-accounts"}
        ),
        spec=api_spec(
            {
                "backoffLimit": 6,
                "activeDeadlineSeconds": 900,
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "mlflow-accounts"}},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "automountServiceAccountToken": False,
                        "securityContext": restricted_pod(1000, fs_group=1000),
                        "containers": [
                            {
                                "name": "accounts",
                                "image": image,
                                "command": ["python", "-m", "pipelines.mlflow_accounts"],
                                "env": [
                                    {"name": "MLFLOW_TRACKING_URI", "value": mlflow.url},
                                    {"name": "MLFLOW_TRACKING_USERNAME", "value": MLFLOW_ADMIN},
                                    secret_env("MLFLOW_TRACKING_PASSWORD", MLFLOW_SECRET, "admin-password"),
                                    {"name": "SLIPWAY_ACCOUNTS_DIR", "value": "/var/run/slipway/accounts"},
                                ],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"cpu": "200m", "memory": "128Mi"},
                                },
                                "securityContext": restricted_container(),
                                "volumeMounts": [
                                    {
                                        "name": "accounts",
                                        "mountPath": "/var/run/slipway/accounts",
                                        "readOnly": True,
                                    }
                                ],
                            }
                        ],
                        "volumes": [{"name": "accounts", "secret": {"secretName": ACCOUNTS_SECRET}}],
                    },
                },
            }
        ),
        opts=pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=[secret])),
    )
    return passwords


def build_cluster_layer(declaration: PlatformDeclaration, cloud: CloudServices | None) -> dict[str, Any]:
    """Declare the platform's services in the cluster and return the stack outputs they add."""
    byo = cloud is None
    if cloud is not None:
        provider = eks_cluster_provider("cluster", cloud.kubeconfig)
    else:
        assert declaration.kubernetes is not None  # guaranteed by the declaration's consistency rules
        provider = byo_cluster_provider("cluster", declaration.kubernetes)
    on_cluster = pulumi.ResourceOptions(providers=[provider])
    plain = pulumi.ResourceOptions()
    version = declaration.cluster.version

    # Namespaces and their traffic.
    if cloud is not None:
        network = ClusterNetwork(
            api_server=(Peer(cidr=cloud.vpc_cidr),),
            database=Peer(cidr=cloud.vpc_cidr),
            object_store=Peer(cidr="0.0.0.0/0"),
            object_store_port=443,
            cloud_apis=True,
        )
    else:
        assert declaration.kubernetes is not None
        network = ClusterNetwork(
            api_server=tuple(Peer(cidr=cidr) for cidr in declaration.kubernetes.api_server_cidrs),
            database=Peer(namespace=DATA_NAMESPACE, pods={"app.kubernetes.io/name": "postgres"}),
            object_store=Peer(namespace=DATA_NAMESPACE, pods={"app.kubernetes.io/name": "object-store"}),
            object_store_port=8333,
            cloud_apis=False,
        )
    allows = service_allows(network, byo=byo, gpu=declaration.has_gpu_pool)
    roles = {**SERVICE_NAMESPACES, "system": SYSTEM_NAMESPACE}
    if byo:
        roles["data"] = DATA_NAMESPACE
    namespaces: dict[str, SecureNamespace] = {
        role: SecureNamespace(
            namespace,
            SecureNamespaceArgs(
                namespace=namespace,
                kubernetes_version=version,
                labels={"slipway.dev/service": role},
                allows=allows.get(namespace, ()),
            ),
            opts=on_cluster,
        )
        for role, namespace in roles.items()
    }
    node_metrics = SecureNamespace(
        NODE_METRICS_NAMESPACE,
        SecureNamespaceArgs(
            namespace=NODE_METRICS_NAMESPACE,
            kubernetes_version=version,
            level=PodSecurityLevel.PRIVILEGED,
            level_reason="node-exporter reads the host's /proc and /sys in its network and PID namespaces",
            labels={"slipway.dev/service": "node-metrics"},
            allows=allows[NODE_METRICS_NAMESPACE],
        ),
        opts=on_cluster,
    )

    def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers=[provider], depends_on=list(resources))

    # Generated credentials, each only ever a Pulumi secret.
    mlflow_db_password = _secret_text("mlflow-db-password", plain)
    argo_db_password = _secret_text("argo-db-password", plain)
    mlflow_admin_password = _secret_text("mlflow-admin-password", plain)
    mlflow_flask_key = _secret_text("mlflow-flask-secret-key", plain, length=48)
    grafana_password = _secret_text("grafana-admin-password", plain)

    # Storage and the data services.
    storage_class: str | None
    object_store: ObjectStoreAccess | None = None
    mlflow_env: dict[str, pulumi.Input[str]] = {}
    mlflow_secret_env: dict[str, pulumi.Input[str]] = {}
    outputs: dict[str, Any] = {}
    if cloud is not None:
        k8s.storage.v1.StorageClass(
            "encrypted-storage",
            metadata=object_meta(ENCRYPTED_STORAGE_CLASS),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": cloud.node_volumes_kms_key_arn},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Delete",
            opts=on_cluster,
        )
        storage_class = ENCRYPTED_STORAGE_CLASS
        database_host: pulumi.Input[str] = cloud.database_address
        database_port: pulumi.Input[int] = cloud.database_port
        ssl_mode = "require"
        image: pulumi.Input[str] = cloud.runtime_repository_url.apply(lambda url: f"{url}:{runtime_tag()}")
        bucket: pulumi.Input[str] = cloud.artifact_bucket
        repository: pulumi.Output[ArtifactRepository] = pulumi.Output.all(
            cloud.artifact_bucket, cloud.artifacts_kms_key_arn
        ).apply(
            lambda values: ArtifactRepository(
                bucket=str(values[0]),
                endpoint=f"s3.{cloud.region}.amazonaws.com",
                region=cloud.region,
                kms_key_arn=str(values[1]),
            )
        )
        mlflow_env = {"AWS_REGION": cloud.region, "AWS_DEFAULT_REGION": cloud.region}
        bootstrap_admin: dict[str, Any] = {"admin_secret_arn": cloud.database_secret_arn}
        bootstrap_env = {"AWS_REGION": cloud.region, "AWS_DEFAULT_REGION": cloud.region}
        data_ready: list[pulumi.Resource] = []
    else:
        settings = declaration.kubernetes
        assert settings is not None
        storage_class = settings.storage_class
        data = namespaces["data"]
        in_data = after(data)
        postgres_password = _secret_text("postgres-admin-password", plain)
        postgres = InClusterPostgres(
            "postgres",
            DATA_NAMESPACE,
            postgres_password,
            Storage(settings.database_storage_gb, storage_class),
            opts=in_data,
        )
        keys = {
            who: (
                _secret_text(f"object-store-{who}-access-key", plain, 20),
                _secret_text(f"object-store-{who}-secret-key", plain, 40),
            )
            for who in ("admin", "mlflow", "argo")
        }
        flat_keys = [value for pair in keys.values() for value in pair]
        identities_json: pulumi.Output[str] = pulumi.Output.all(*flat_keys).apply(
            lambda values: seaweed_identities(
                {who: (str(values[2 * i]), str(values[2 * i + 1])) for i, who in enumerate(keys)}, BYO_BUCKET
            )
        )
        identities: pulumi.Output[str] = pulumi.Output.secret(identities_json)
        store = InClusterObjectStore(
            "object-store",
            DATA_NAMESPACE,
            identities,
            Storage(settings.object_store_storage_gb, storage_class),
            opts=in_data,
        )
        registry = InClusterRegistry(
            "registry",
            DATA_NAMESPACE,
            _secret_text("registry-password", plain),
            settings.registry_node_port,
            Storage(settings.registry_storage_gb, storage_class),
            opts=in_data,
        )
        database_host = postgres.host
        database_port = 5432
        ssl_mode = "disable"
        image = f"{registry.pull_address}/{RUNTIME_REPOSITORY}:{runtime_tag()}"
        bucket = BYO_BUCKET
        repository = pulumi.Output.from_input(
            ArtifactRepository(
                bucket=BYO_BUCKET,
                endpoint=store.endpoint,
                insecure=True,
                credentials_secret=ARGO_ARTIFACTS_SECRET,
            )
        )
        object_store = ObjectStoreAccess(
            endpoint=store.endpoint,
            bucket=BYO_BUCKET,
            access_key=keys["admin"][0],
            secret_key=keys["admin"][1],
        )
        mlflow_env = {"MLFLOW_S3_ENDPOINT_URL": f"http://{store.endpoint}", "AWS_DEFAULT_REGION": "us-east-1"}
        mlflow_secret_env = {
            "AWS_ACCESS_KEY_ID": keys["mlflow"][0],
            "AWS_SECRET_ACCESS_KEY": keys["mlflow"][1],
        }
        k8s.core.v1.Secret(
            "argo-artifact-credentials",
            metadata=object_meta(ARGO_ARTIFACTS_SECRET, SERVICE_NAMESPACES["argo"]),
            string_data={"accesskey": keys["argo"][0], "secretkey": keys["argo"][1]},
            opts=after(namespaces["argo"]),
        )
        argo_keys: pulumi.Output[dict[str, Any]] = pulumi.Output.all(
            accesskey=keys["argo"][0], secretkey=keys["argo"][1]
        )
        store_credentials: pulumi.Output[dict[str, Any]] = pulumi.Output.secret(argo_keys)
        bootstrap_admin = {"admin_password": postgres_password}
        bootstrap_env = {}
        data_ready = [postgres, store]
        outputs.update(
            {
                "registryPullAddress": registry.pull_address,
                "registryCredentialsSecret": {
                    "namespace": DATA_NAMESPACE,
                    "name": registry.credentials_secret,
                },
                "objectStoreEndpoint": f"http://{store.endpoint}",
                # Workflows in model namespaces reach the store with the Argo identity's keys.
                "objectStoreCredentials": store_credentials,
            }
        )
    if declaration.mlflow.image is not None:
        image = declaration.mlflow.image

    bootstrap = PlatformBootstrap(
        "platform-bootstrap",
        PlatformBootstrapArgs(
            identity=BOOTSTRAP,
            image=image,
            database_host=database_host,
            database_port=database_port,
            ssl_mode=ssl_mode,
            services=[
                ServiceDatabase("mlflow", mlflow_db_password, ("mlflow", "mlflow_auth")),
                ServiceDatabase("argo", argo_db_password, ("argo",)),
            ],
            object_store=object_store,
            extra_env=bootstrap_env,
            **bootstrap_admin,
        ),
        opts=after(namespaces["system"], *data_ready),
    )

    # Monitoring first: the other charts' ServiceMonitors need its CRDs.
    monitoring_namespace = SERVICE_NAMESPACES["monitoring"]
    grafana_secret = k8s.core.v1.Secret(
        "grafana-admin",
        metadata=object_meta(GRAFANA_ADMIN_SECRET, monitoring_namespace),
        string_data={"admin-user": "admin", "admin-password": grafana_password},
        opts=after(namespaces["monitoring"]),
    )
    monitoring = chart_release(
        "kube-prometheus-stack",
        Chart(PROMETHEUS_COMMUNITY_REPOSITORY, "kube-prometheus-stack", declaration.monitoring.chart_version),
        monitoring_namespace,
        monitoring_values(
            declaration.monitoring.retention_days,
            declaration.monitoring.storage_gb,
            storage_class,
            GRAFANA_ADMIN_SECRET,
            NODE_METRICS_NAMESPACE,
        ),
        after(namespaces["monitoring"], node_metrics, grafana_secret),
    )
    k8s.apiextensions.CustomResource(
        "platform-alerts",
        api_version="monitoring.coreos.com/v1",
        kind="PrometheusRule",
        metadata={
            "name": RULE_NAME,
            "namespace": monitoring_namespace,
            "labels": {"app.kubernetes.io/part-of": "slipway"},
        },
        spec={"groups": platform_rule_groups()},
        opts=after(monitoring),
    )

    argo_namespace = SERVICE_NAMESPACES["argo"]
    archive_secret = k8s.core.v1.Secret(
        "argo-database-credentials",
        metadata=object_meta(ARGO_DATABASE_SECRET, argo_namespace),
        string_data={"username": "argo", "password": argo_db_password},
        opts=after(namespaces["argo"]),
    )
    workflows_values = pulumi.Output.all(repository, database_host, database_port).apply(
        lambda values: argo_workflows_values(
            declaration.argo.server_auth_mode,
            declaration.argo.sso,
            values[0],
            ArchiveDatabase(
                host=str(values[1]),
                port=int(values[2]),
                database="argo",
                credentials_secret=ARGO_DATABASE_SECRET,
                ssl_mode=ssl_mode,
            ),
        )
    )
    chart_release(
        "argo-workflows",
        Chart(ARGO_REPOSITORY, "argo-workflows", declaration.argo.workflows_chart_version),
        argo_namespace,
        workflows_values,
        after(namespaces["argo"], archive_secret, bootstrap, monitoring),
    )
    chart_release(
        "argo-rollouts",
        Chart(ARGO_REPOSITORY, "argo-rollouts", declaration.argo.rollouts_chart_version),
        SERVICE_NAMESPACES["rollouts"],
        argo_rollouts_values(),
        after(namespaces["rollouts"], monitoring),
    )

    mlflow = MlflowServer(
        "mlflow",
        MlflowServerArgs(
            image=image,
            replicas=declaration.mlflow.replicas,
            backend_store_uri=_postgres_uri(
                "mlflow", mlflow_db_password, database_host, database_port, "mlflow", ssl_mode
            ),
            auth_database_uri=_postgres_uri(
                "mlflow", mlflow_db_password, database_host, database_port, "mlflow_auth", ssl_mode
            ),
            admin_password=mlflow_admin_password,
            flask_secret_key=mlflow_flask_key,
            artifacts_destination=pulumi.Output.format("s3://{0}/{1}", bucket, MLFLOW_ARTIFACT_PREFIX),
            env=mlflow_env,
            secret_env=mlflow_secret_env,
        ),
        opts=after(namespaces["mlflow"], bootstrap),
    )

    accounts = _team_accounts(declaration, image, mlflow, namespaces["mlflow"], on_cluster)
    gathered: pulumi.Output[dict[str, Any]] = pulumi.Output.all(**accounts)
    team_passwords: pulumi.Output[dict[str, Any]] = pulumi.Output.secret(gathered)

    if declaration.has_gpu_pool:
        gpu = SecureNamespace(
            GPU_NAMESPACE,
            SecureNamespaceArgs(
                namespace=GPU_NAMESPACE,
                kubernetes_version=version,
                level=PodSecurityLevel.PRIVILEGED,
                level_reason="the device plugin mounts the kubelet's device-plugin socket from the host; "
                "the DCGM exporter needs SYS_ADMIN for GPU profiling counters",
                labels={"slipway.dev/service": "gpu"},
                allows=allows[GPU_NAMESPACE],
            ),
            opts=on_cluster,
        )
        chart_release(
            "nvidia-device-plugin",
            Chart(
                NVIDIA_DEVICE_PLUGIN_REPOSITORY,
                "nvidia-device-plugin",
                declaration.gpu.device_plugin_chart_version,
            ),
            GPU_NAMESPACE,
            device_plugin_values(),
            after(gpu),
        )
        chart_release(
            "dcgm-exporter",
            Chart(NVIDIA_DCGM_REPOSITORY, "dcgm-exporter", declaration.gpu.dcgm_exporter_chart_version),
            GPU_NAMESPACE,
            dcgm_exporter_values(),
            after(gpu, monitoring),
        )

    outputs.update(
        {
            "namespaces": {role: namespace.namespace for role, namespace in namespaces.items()},
            "runtimeImage": image,
            # Where the API server listens, for the egress policies of model namespaces.
            "apiServerCidrs": [peer.cidr for peer in network.api_server],
            # Each team's MLflow password, for its model stacks' pipelines and servers.
            "mlflowTeamPasswords": team_passwords,
            "mlflowUrl": mlflow.url,
            "argoServerUrl": f"https://{ARGO_FULLNAME}-server.{argo_namespace}.svc:2746",
            "prometheusUrl": f"http://{MONITORING_FULLNAME}-prometheus.{monitoring_namespace}.svc:9090",
            "grafanaUrl": f"http://{GRAFANA_FULLNAME}.{monitoring_namespace}.svc",
            "artifactRepository": repository.apply(
                lambda repo: {"s3": repo.s3(), "credentialsSecret": repo.credentials_secret}
            ),
        }
    )
    return outputs
