"""The platform stack: one environment's cloud and cluster layers, built from its declaration."""

from __future__ import annotations

import pulumi

from components.aws.layer import build_aws_layer
from components.cluster.namespace import SecureNamespace, SecureNamespaceArgs
from components.cluster.provider import byo_cluster_provider
from components.declaration.links import link_outputs
from components.declaration.platform import Cloud, PlatformDeclaration
from components.services import SERVICE_NAMESPACES


def build_platform(stack: str, declaration: PlatformDeclaration) -> None:
    """Declare every resource of a platform stack and export what model stacks need."""
    for name, value in link_outputs(declaration).items():
        pulumi.export(name, value)
    pulumi.export("cloud", declaration.cloud.value)
    pulumi.export("clusterName", declaration.cluster.name)
    pulumi.export("kubernetesVersion", declaration.cluster.version)
    if declaration.cloud is Cloud.AWS:
        layer = build_aws_layer(stack, declaration)
        for name, value in layer.outputs.items():
            pulumi.export(name, value)
    else:
        _build_byo_cluster(declaration)


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
