"""The cloud layer of an AWS platform stack: every AWS resource, wired together from the declaration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.addons import AddOnRoles, network_add_ons, workload_add_ons
from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.database import Database, DatabaseArgs
from components.aws.eks import EksCluster, EksClusterArgs
from components.aws.kms import EncryptionKey, EncryptionKeyArgs, KeyContext, KeyPurpose
from components.aws.kubeconfig import eks_kubeconfig
from components.aws.network import Network, NetworkArgs
from components.aws.node_pool import NodePool, NodePoolArgs, NodeRole
from components.aws.registry import ContainerRegistry, ContainerRegistryArgs
from components.aws.service_grants import (
    PlatformArns,
    argo_server_statements,
    bootstrap_statements,
    ebs_csi_statements,
    mlflow_statements,
)
from components.aws.workload_role import WorkloadRole, WorkloadRoleArgs
from components.cluster.layer import CloudServices
from components.declaration.platform import PlatformDeclaration, PoolKind
from components.services import ARGO_SERVER, BOOTSTRAP, EBS_CSI, MLFLOW, VPC_CNI, ServiceIdentity

# AWS's own policies for its add-ons; they track what each add-on version calls.
VPC_CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


@dataclass(frozen=True)
class AwsLayer:
    """What the cloud layer hands to the cluster layer and to the stack's outputs."""

    cluster_name: pulumi.Output[str]
    services: CloudServices
    """What the cluster layer builds on: the kubeconfig (a secret), network, store, database, keys."""
    outputs: dict[str, Any]


def aws_tags(stack: str, declaration: PlatformDeclaration) -> dict[str, str]:
    """Tags every AWS resource of the stack carries, for cost and ownership reports."""
    return {
        **declaration.tags,
        "slipway:stack": stack,
        "slipway:environment": declaration.environment.value,
    }


def build_aws_layer(stack: str, declaration: PlatformDeclaration) -> AwsLayer:
    """Declare the network, cluster, node pools, registry, artifact store, database, keys and roles."""
    settings = declaration.aws
    assert settings is not None  # guaranteed by the declaration's consistency rules
    name = declaration.cluster.name
    # An explicit provider: the region and tags come from the declaration, never from ambient
    # AWS configuration on the machine that runs `pulumi up`.
    provider = aws.Provider(
        "aws",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=aws_tags(stack, declaration)),
    )
    on_aws = pulumi.ResourceOptions(providers=[provider])
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    identity = aws.get_caller_identity_output(opts=invoke)
    partition = aws.get_partition_output(opts=invoke)
    context = pulumi.Output.all(identity.account_id, partition.partition).apply(
        lambda values: KeyContext(account_id=str(values[0]), region=settings.region, partition=str(values[1]))
    )
    keys = {
        purpose: EncryptionKey(
            f"{name}-{purpose.value}-kms",
            EncryptionKeyArgs(purpose=purpose, alias_prefix=f"slipway/{name}", context=context),
            opts=on_aws,
        )
        for purpose in KeyPurpose
    }

    zones = aws.get_availability_zones_output(state="available", opts=invoke)
    network = Network(
        name,
        NetworkArgs(
            cluster_name=name,
            vpc_cidr=settings.vpc_cidr,
            zone_count=settings.availability_zones,
            availability_zones=zones.names,
            region=settings.region,
            nat_per_zone=declaration.nat_gateways.value == "perAz",
            logs_kms_key_arn=keys[KeyPurpose.LOGS].key_arn,
            log_retention_days=declaration.cluster.log_retention_days,
        ),
        opts=on_aws,
    )
    endpoint = declaration.cluster.endpoint
    cluster = EksCluster(
        name,
        EksClusterArgs(
            version=declaration.cluster.version,
            subnet_ids=network.private_subnet_ids,
            public_endpoint=endpoint.public,
            public_cidrs=endpoint.public_cidrs,
            secrets_kms_key_arn=keys[KeyPurpose.CLUSTER_SECRETS].key_arn,
            logs_kms_key_arn=keys[KeyPurpose.LOGS].key_arn,
            log_retention_days=declaration.cluster.log_retention_days,
            admin_principal_arns=declaration.cluster.admins,
            deletion_protection=declaration.is_prod,
        ),
        opts=on_aws,
    )

    registry = ContainerRegistry(
        f"{name}-runtime",
        ContainerRegistryArgs(
            repository_name=f"{name}/runtime",
            kms_key_arn=keys[KeyPurpose.REGISTRY].key_arn,
            untagged_image_expiry_days=declaration.registry.untagged_image_expiry_days,
        ),
        opts=on_aws,
    )
    artifacts = ArtifactStore(
        f"{name}-artifacts",
        ArtifactStoreArgs(
            kms_key_arn=keys[KeyPurpose.ARTIFACTS].key_arn,
            noncurrent_version_expiry_days=declaration.artifact_store.noncurrent_version_expiry_days,
        ),
        opts=on_aws,
    )
    database_settings = declaration.mlflow.database
    database = Database(
        f"{name}-mlflow-db",
        DatabaseArgs(
            identifier=f"{name}-mlflow",
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            client_security_group_id=cluster.security_group_id,
            kms_key_arn=keys[KeyPurpose.DATABASE].key_arn,
            instance_class=database_settings.instance_class,
            allocated_storage_gb=database_settings.allocated_storage_gb,
            backup_retention_days=database_settings.backup_retention_days,
            multi_az=declaration.database_multi_az,
            deletion_protection=declaration.is_prod,
        ),
        opts=on_aws,
    )

    arns = pulumi.Output.all(
        artifacts.bucket_arn,
        keys[KeyPurpose.ARTIFACTS].key_arn,
        database.secret_arn,
        keys[KeyPurpose.DATABASE].key_arn,
        keys[KeyPurpose.NODE_VOLUMES].key_arn,
    ).apply(
        lambda values: PlatformArns(
            region=settings.region,
            artifact_bucket=str(values[0]),
            artifacts_key=str(values[1]),
            database_secret=str(values[2]),
            database_key=str(values[3]),
            node_volumes_key=str(values[4]),
        )
    )

    def role(
        label: str,
        identity: ServiceIdentity,
        statements: Any = (),
        managed: tuple[str, ...] = (),
        associate: bool = True,
    ) -> WorkloadRole:
        return WorkloadRole(
            f"{name}-{label}",
            WorkloadRoleArgs(
                cluster_name=cluster.name,
                cluster_arn=cluster.arn,
                identity=identity,
                statements=statements,
                managed_policy_arns=managed,
                associate=associate,
            ),
            opts=on_aws,
        )

    add_on_roles = AddOnRoles(
        vpc_cni=role("vpc-cni", VPC_CNI, managed=(VPC_CNI_POLICY,), associate=False).role_arn,
        ebs_csi=role(
            "ebs-csi",
            EBS_CSI,
            arns.apply(ebs_csi_statements),
            managed=(EBS_CSI_POLICY,),
            associate=False,
        ).role_arn,
    )
    service_roles = {
        "mlflow": role("mlflow", MLFLOW, arns.apply(mlflow_statements)),
        "argoServer": role("argo-server", ARGO_SERVER, arns.apply(argo_server_statements)),
        "bootstrap": role("bootstrap", BOOTSTRAP, arns.apply(bootstrap_statements)),
    }

    networking = network_add_ons(name, cluster.name, add_on_roles, on_aws)
    node_role = NodeRole(f"{name}-node", opts=on_aws)
    pools_first = pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(depends_on=networking))
    pools = [
        NodePool(
            f"{name}-{pool.name}",
            NodePoolArgs(
                cluster_name=cluster.name,
                pool=pool,
                node_role_arn=node_role.role_arn,
                subnet_ids=network.private_subnet_ids,
                volume_kms_key_arn=keys[KeyPurpose.NODE_VOLUMES].key_arn,
            ),
            opts=pools_first,
        )
        for pool in declaration.node_pools
    ]
    system_pools = [
        pool for pool, spec in zip(pools, declaration.node_pools, strict=True) if spec.kind is PoolKind.SYSTEM
    ]
    workload_add_ons(name, cluster.name, add_on_roles, system_pools, on_aws)

    plain_kubeconfig: pulumi.Output[str] = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority
    ).apply(lambda values: eks_kubeconfig(str(values[0]), str(values[1]), str(values[2]), settings.region))
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(plain_kubeconfig)
    outputs: dict[str, Any] = {
        "region": settings.region,
        "vpcId": network.vpc_id,
        "privateSubnetIds": network.private_subnet_ids,
        "clusterEndpoint": cluster.endpoint,
        "clusterArn": cluster.arn,
        "clusterCertificateAuthority": cluster.certificate_authority,
        "clusterSecurityGroupId": cluster.security_group_id,
        "oidcIssuerUrl": cluster.oidc_issuer,
        "kubeconfig": kubeconfig,
        "registryNamespace": name,
        "registryUrl": registry.repository_url.apply(lambda url: url.split("/", 1)[0]),
        "runtimeImageRepository": registry.repository_url,
        "registryKmsKeyArn": keys[KeyPurpose.REGISTRY].key_arn,
        "artifactBucket": artifacts.bucket_name,
        "artifactBucketArn": artifacts.bucket_arn,
        "artifactsKmsKeyArn": keys[KeyPurpose.ARTIFACTS].key_arn,
        "databaseAddress": database.address,
        "databasePort": database.port,
        "databaseName": database.name,
        "databaseSecretArn": database.secret_arn,
        "kmsKeyArns": {purpose.value: key.key_arn for purpose, key in keys.items()},
        "serviceRoleArns": {label: service.role_arn for label, service in service_roles.items()},
    }
    services = CloudServices(
        kubeconfig=kubeconfig,
        region=settings.region,
        vpc_cidr=settings.vpc_cidr,
        runtime_repository_url=registry.repository_url,
        artifact_bucket=artifacts.bucket_name,
        artifacts_kms_key_arn=keys[KeyPurpose.ARTIFACTS].key_arn,
        node_volumes_kms_key_arn=keys[KeyPurpose.NODE_VOLUMES].key_arn,
        database_address=database.address,
        database_port=database.port,
        database_secret_arn=database.secret_arn,
    )
    return AwsLayer(cluster_name=cluster.name, services=services, outputs=outputs)
