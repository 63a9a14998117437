"""The EKS control plane: private by default, secrets encrypted, every log kept, access by entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.policy import allow, document, service_trust
from components.options import child_options

CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Access policies EKS defines; the admin one is bound cluster-wide to the declared admins only.
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# The one managed policy EKS's own service role needs; AWS keeps it in step with the service.
CLUSTER_ROLE_POLICY = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of an EksCluster."""

    version: str
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets only: the control plane's network interfaces and, later, the nodes."""
    public_endpoint: bool
    public_cidrs: Sequence[str]
    """Networks allowed to reach a public endpoint; ignored when the endpoint is private."""
    secrets_kms_key_arn: pulumi.Input[str]
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int
    admin_principal_arns: Sequence[str]
    deletion_protection: bool


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster whose API is reached through access entries, never through aws-auth."""

    cluster: aws.eks.Cluster
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the cluster role, log group, cluster and admin access entries."""
        super().__init__("slipway:aws:EksCluster", name, None, opts)
        child = child_options(self, opts)
        # EKS writes to this group by name; made first so retention and encryption are ours.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/eks/{name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_kms_key_arn,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=service_trust("eks.amazonaws.com"),
            description=f"EKS control plane of {name}",
            opts=child,
        )
        managed = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-role-eks", role=role.name, policy_arn=CLUSTER_ROLE_POLICY, opts=child
        )
        key_use = aws.iam.RolePolicy(
            f"{name}-cluster-role-secrets-key",
            role=role.id,
            policy=pulumi.Output.from_input(args.secrets_kms_key_arn).apply(
                lambda key: document(
                    [
                        allow(
                            "EnvelopeEncryptSecrets",
                            [
                                "kms:CreateGrant",
                                "kms:Decrypt",
                                "kms:DescribeKey",
                                "kms:Encrypt",
                                "kms:ListGrants",
                            ],
                            [key],
                        )
                    ]
                )
            ),
            opts=child,
        )
        endpoint_cidrs = list(args.public_cidrs) if args.public_endpoint else None
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=name,
            version=args.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=args.public_endpoint,
                public_access_cidrs=endpoint_cidrs,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.secrets_kms_key_arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # Whoever runs `pulumi up` gets no lasting admin right; the declared admins do.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            # The network, DNS and proxy add-ons are managed EKS add-ons made by this program, so
            # EKS must not install unmanaged copies first.
            bootstrap_self_managed_addons=False,
            # Standard support only: a cluster left behind is upgraded, not billed for extended support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.deletion_protection,
            opts=child_options(self, opts, [log_group, managed, key_use]),
        )
        for index, principal in enumerate(args.admin_principal_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=principal,
                type="STANDARD",
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=CLUSTER_ADMIN_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=child,
            )
        self.cluster = cluster
        self.name = cluster.name
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.certificate_authority = cluster.certificate_authority.apply(
            lambda authority: str(authority.data)
        )
        self.security_group_id = cluster.vpc_config.apply(lambda vpc: str(vpc.cluster_security_group_id))
        # The issuer federates the cluster's service accounts with tools outside AWS's Pod
        # Identity (CI systems, other clouds); the platform's own roles do not use it.
        self.oidc_issuer = cluster.identities.apply(_oidc_issuer)
        self.register_outputs(
            {
                "name": self.name,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "securityGroupId": self.security_group_id,
                "oidcIssuer": self.oidc_issuer,
            }
        )


def _oidc_issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity] | None) -> str:
    for identity in identities or ():
        for oidc in identity.oidcs or ():
            if oidc.issuer:
                return str(oidc.issuer)
    raise ValueError("EKS returned no OIDC issuer for the cluster")
