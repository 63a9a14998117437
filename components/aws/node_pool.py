"""EKS managed node groups from the declared pools, each through a hardened launch template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.policy import service_trust
from components.declaration.instances import Architecture, architecture
from components.declaration.platform import CapacityType, PoolKind
from components.declaration.platform import NodePool as PoolDeclaration
from components.options import child_options

GPU_RESOURCE = "nvidia.com/gpu"
POOL_LABEL = "slipway.dev/pool"
KIND_LABEL = "slipway.dev/pool-kind"
# Node permissions: join the cluster and pull images. Networking runs under its own Pod Identity
# role, so the nodes do not carry the CNI policy that every pod on them would inherit.
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
)
# The root device of the EKS-optimised Amazon Linux 2023 AMIs.
ROOT_DEVICE = "/dev/xvda"
# A rolling update replaces a third of a pool at a time.
MAX_UNAVAILABLE_PERCENT = 33


@dataclass(frozen=True)
class Taint:
    """A node taint as EKS managed node groups spell it."""

    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class PoolProfile:
    """What a pool's declaration means for its node group."""

    ami_type: str
    capacity_type: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]


def pool_profile(pool: PoolDeclaration) -> PoolProfile:
    """The AMI type, capacity type, labels and taints of a declared pool.

    GPU pools run the NVIDIA AMI (drivers and container toolkit installed) and are tainted so
    that only pods that tolerate the taint, and so asked for a GPU, land on those costly nodes.

    Raises:
        ValueError: when the pool mixes CPU architectures, which one AMI cannot serve.
    """
    architectures = {architecture(instance_type) for instance_type in pool.instance_types}
    if len(architectures) != 1:
        raise ValueError(f"pool {pool.name!r} mixes architectures: {', '.join(sorted(architectures))}")
    (arch,) = architectures
    variant = "NVIDIA" if pool.kind is PoolKind.GPU else "STANDARD"
    # EKS spells the x86 AMI types with a lower-case 'x'.
    ami_type = f"AL2023_{'x86_64' if arch is Architecture.X86_64 else 'ARM_64'}_{variant}"
    labels = {**pool.labels, POOL_LABEL: pool.name, KIND_LABEL: pool.kind.value}
    taints: tuple[Taint, ...] = ()
    if pool.kind is PoolKind.GPU:
        labels["nvidia.com/gpu.present"] = "true"
        taints = (Taint(key=GPU_RESOURCE, value="true", effect="NO_SCHEDULE"),)
    capacity = "SPOT" if pool.capacity_type is CapacityType.SPOT else "ON_DEMAND"
    return PoolProfile(ami_type=ami_type, capacity_type=capacity, labels=labels, taints=taints)


class NodeRole(pulumi.ComponentResource):
    """The instance role every node of one cluster runs as."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the role and attach the node policies."""
        super().__init__("slipway:aws:NodeRole", name, None, opts)
        child = child_options(self, opts)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust("ec2.amazonaws.com"),
            description="EKS worker nodes: join the cluster and pull images",
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-{index}", role=role.name, policy_arn=arn, opts=child)
            for index, arn in enumerate(NODE_POLICIES)
        ]
        # Node groups wait for the attachments, or their nodes could not join.
        self.role_arn = pulumi.Output.all(role.arn, *[a.id for a in attachments]).apply(
            lambda values: str(values[0])
        )
        self.register_outputs({"roleArn": self.role_arn})


@dataclass(frozen=True)
class NodePoolArgs:
    """Inputs of a NodePool."""

    cluster_name: pulumi.Input[str]
    pool: PoolDeclaration
    node_role_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets only; nodes never get a public address."""
    volume_kms_key_arn: pulumi.Input[str]


class NodePool(pulumi.ComponentResource):
    """One managed node group: IMDSv2 only, encrypted root volume, private subnets."""

    node_group_arn: pulumi.Output[str]

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the launch template and the node group."""
        super().__init__("slipway:aws:NodePool", name, None, opts)
        child = child_options(self, opts)
        pool = args.pool
        profile = pool_profile(pool)
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description=f"Nodes of pool {pool.name}",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # One hop: the node reaches the metadata service, its pods do not, so no pod can
                # borrow the node's credentials.
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=pool.disk_size_gb,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.volume_kms_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags={"Name": name})
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            opts=child,
        )
        node_group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=args.cluster_name,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type=profile.ami_type,
            capacity_type=profile.capacity_type,
            instance_types=list(pool.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=pool.min_size,
                max_size=pool.max_size,
                desired_size=pool.min_size if pool.desired_size is None else pool.desired_size,
            ),
            labels=profile.labels,
            taints=[
                aws.eks.NodeGroupTaintArgs(key=taint.key, value=taint.value, effect=taint.effect)
                for taint in profile.taints
            ],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(
                max_unavailable_percentage=MAX_UNAVAILABLE_PERCENT
            ),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            # The cluster autoscaler owns the node count once the pool exists.
            opts=child_options(self, opts, ignore_changes=["scalingConfig.desiredSize"]),
        )
        self.node_group_arn = node_group.arn
        self.register_outputs({"nodeGroupArn": self.node_group_arn})
