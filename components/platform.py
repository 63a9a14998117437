"""The platform stack: one environment's cloud and cluster layers, built from its declaration."""

from __future__ import annotations

import pulumi

from components.aws.layer import build_aws_layer
from components.cluster.layer import CloudServices, build_cluster_layer
from components.declaration.links import link_outputs
from components.declaration.platform import Cloud, PlatformDeclaration


def build_platform(stack: str, declaration: PlatformDeclaration) -> None:
    """Declare every resource of a platform stack and export what model stacks need."""
    for name, value in link_outputs(declaration).items():
        pulumi.export(name, value)
    pulumi.export("cloud", declaration.cloud.value)
    pulumi.export("clusterName", declaration.cluster.name)
    pulumi.export("kubernetesVersion", declaration.cluster.version)
    cloud: CloudServices | None = None
    if declaration.cloud is Cloud.AWS:
        layer = build_aws_layer(stack, declaration)
        for name, value in layer.outputs.items():
            pulumi.export(name, value)
        cloud = CloudServices(
            kubeconfig=layer.kubeconfig,
            region=layer.region,
            vpc_cidr=layer.vpc_cidr,
            runtime_repository_url=layer.runtime_repository_url,
            artifact_bucket=layer.artifact_bucket,
            artifacts_kms_key_arn=layer.artifacts_kms_key_arn,
            node_volumes_kms_key_arn=layer.node_volumes_kms_key_arn,
            database_address=layer.database_address,
            database_port=layer.database_port,
            database_secret_arn=layer.database_secret_arn,
        )
    else:
        assert declaration.kubernetes is not None  # guaranteed by the declaration's consistency rules
        pulumi.export("kubeContext", declaration.kubernetes.context)
    for name, value in build_cluster_layer(declaration, cloud).items():
        pulumi.export(name, value)
