"""The EKS managed add-ons: networking before any node exists, the rest once nodes can run them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.services import EBS_CSI, VPC_CNI

# Without policy enforcement in the CNI, NetworkPolicy objects would be accepted and ignored,
# and every default-deny policy of the platform would be decoration.
VPC_CNI_CONFIGURATION = json.dumps({"enableNetworkPolicy": "true"}, sort_keys=True)


@dataclass(frozen=True)
class AddOnRoles:
    """The Pod Identity roles of the add-ons that call AWS."""

    vpc_cni: pulumi.Input[str]
    ebs_csi: pulumi.Input[str]


def _add_on(
    name: str,
    cluster_name: pulumi.Input[str],
    addon_name: str,
    opts: pulumi.ResourceOptions,
    *,
    role_arn: pulumi.Input[str] | None = None,
    service_account: str | None = None,
    configuration: str | None = None,
) -> aws.eks.Addon:
    associations = None
    if role_arn is not None and service_account is not None:
        associations = [
            aws.eks.AddonPodIdentityAssociationArgs(role_arn=role_arn, service_account=service_account)
        ]
    # Versions are left to EKS: it picks the default for the cluster's Kubernetes version, which
    # is the only combination it supports; upgrades are a deliberate `pulumi up` with a version.
    return aws.eks.Addon(
        name,
        cluster_name=cluster_name,
        addon_name=addon_name,
        configuration_values=configuration,
        pod_identity_associations=associations,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        opts=opts,
    )


def network_add_ons(
    prefix: str, cluster_name: pulumi.Input[str], roles: AddOnRoles, opts: pulumi.ResourceOptions
) -> list[aws.eks.Addon]:
    """Pod Identity agent, VPC CNI and kube-proxy: nodes cannot become ready without them."""
    agent = _add_on(f"{prefix}-pod-identity-agent", cluster_name, "eks-pod-identity-agent", opts)
    cni = _add_on(
        f"{prefix}-vpc-cni",
        cluster_name,
        "vpc-cni",
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[agent])),
        role_arn=roles.vpc_cni,
        service_account=VPC_CNI.service_account,
        configuration=VPC_CNI_CONFIGURATION,
    )
    proxy = _add_on(f"{prefix}-kube-proxy", cluster_name, "kube-proxy", opts)
    return [agent, cni, proxy]


def workload_add_ons(
    prefix: str,
    cluster_name: pulumi.Input[str],
    roles: AddOnRoles,
    nodes: Sequence[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> list[aws.eks.Addon]:
    """CoreDNS and the EBS CSI driver: Deployments, so they wait for nodes to run on."""
    after_nodes = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(nodes)))
    return [
        _add_on(f"{prefix}-coredns", cluster_name, "coredns", after_nodes),
        _add_on(
            f"{prefix}-ebs-csi",
            cluster_name,
            "aws-ebs-csi-driver",
            after_nodes,
            role_arn=roles.ebs_csi,
            service_account=EBS_CSI.service_account,
        ),
    ]
