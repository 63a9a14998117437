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
        cloud = layer.services
    else:
        assert declaration.kubernetes is not None  # guaranteed by the declaration's consistency rules
        pulumi.export("kubeContext", declaration.kubernetes.context)
    for name, value in build_cluster_layer(declaration, cloud).items():
        pulumi.export(name, value)
