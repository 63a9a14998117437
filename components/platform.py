"""The platform stack: one environment's cloud and cluster layers, built from its declaration."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.kms import EncryptionKey, EncryptionKeyArgs
from components.aws.registry import ContainerRegistry, ContainerRegistryArgs
from components.cluster.namespace import SecureNamespace, SecureNamespaceArgs
from components.cluster.provider import byo_cluster_provider
from components.declaration.links import link_outputs
from components.declaration.platform import Cloud, PlatformDeclaration

# The namespaces the platform's own services run in; the cluster layer fills them.
SERVICE_NAMESPACES = {
    "mlflow": "slipway-mlflow",
    "argo": "slipway-argo",
    "rollouts": "slipway-rollouts",
    "monitoring": "slipway-monitoring",
}


def aws_tags(stack: str, declaration: PlatformDeclaration) -> dict[str, str]:
    """Tags every AWS resource of the stack carries, for cost and ownership reports."""
    return {
        **declaration.tags,
        "slipway:stack": stack,
        "slipway:environment": declaration.environment.value,
    }


def build_platform(stack: str, declaration: PlatformDeclaration) -> None:
    """Declare every resource of a platform stack and export what model stacks need."""
    for name, value in link_outputs(declaration).items():
        pulumi.export(name, value)
    pulumi.export("cloud", declaration.cloud.value)
    pulumi.export("clusterName", declaration.cluster.name)
    pulumi.export("kubernetesVersion", declaration.cluster.version)
    if declaration.cloud is Cloud.AWS:
        _build_aws(stack, declaration)
    else:
        _build_byo_cluster(declaration)


def _build_aws(stack: str, declaration: PlatformDeclaration) -> None:
    assert declaration.aws is not None  # guaranteed by the declaration's consistency rules
    prefix = declaration.cluster.name
    # An explicit provider: the region and tags come from the declaration, never from ambient
    # AWS configuration on the machine that runs `pulumi up`.
    provider = aws.Provider(
        "aws",
        region=declaration.aws.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=aws_tags(stack, declaration)),
    )
    on_aws = pulumi.ResourceOptions(providers=[provider])
    keys = {
        purpose: EncryptionKey(
            f"{prefix}-{purpose}-kms",
            EncryptionKeyArgs(purpose=purpose, alias_prefix=f"slipway/{prefix}"),
            opts=on_aws,
        )
        for purpose in ("registry", "artifacts")
    }
    registry = ContainerRegistry(
        f"{prefix}-runtime",
        ContainerRegistryArgs(
            repository_name=f"{prefix}/runtime",
            kms_key_arn=keys["registry"].key_arn,
            untagged_image_expiry_days=declaration.registry.untagged_image_expiry_days,
        ),
        opts=on_aws,
    )
    artifacts = ArtifactStore(
        f"{prefix}-artifacts",
        ArtifactStoreArgs(
            kms_key_arn=keys["artifacts"].key_arn,
            noncurrent_version_expiry_days=declaration.artifact_store.noncurrent_version_expiry_days,
        ),
        opts=on_aws,
    )
    pulumi.export("region", declaration.aws.region)
    pulumi.export("registryNamespace", prefix)
    pulumi.export("runtimeImageRepository", registry.repository_url)
    pulumi.export("registryKmsKeyArn", keys["registry"].key_arn)
    pulumi.export("artifactBucket", artifacts.bucket_name)
    pulumi.export("artifactBucketArn", artifacts.bucket_arn)
    pulumi.export("artifactsKmsKeyArn", keys["artifacts"].key_arn)


def _build_byo_cluster(declaration: PlatformDeclaration) -> None:
    assert declaration.kubernetes is not None  # guaranteed by the declaration's consistency rules
    provider = byo_cluster_provider("cluster", declaration.kubernetes)
    on_cluster = pulumi.ResourceOptions(providers=[provider])
    namespaces = {
        role: SecureNamespace(
            namespace,
            SecureNamespaceArgs(
                namespace=namespace,
                kubernetes_version=declaration.cluster.version,
                labels={"slipway.dev/service": role},
            ),
            opts=on_cluster,
        )
        for role, namespace in SERVICE_NAMESPACES.items()
    }
    pulumi.export("kubeContext", declaration.kubernetes.context)
    pulumi.export("namespaces", {role: ns.namespace for role, ns in namespaces.items()})
