"""The MLflow backend database: PostgreSQL on RDS, private, encrypted, its password in Secrets Manager."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.options import child_options

POSTGRES_PORT = 5432
# The major version is pinned; RDS applies minor versions in the maintenance window.
ENGINE_VERSION = "17"
PARAMETER_FAMILY = "postgres17"
DATABASE_NAME = "mlflow"
MASTER_USERNAME = "slipway"
# The current RDS certificate authority (RSA 2048, valid until 2061).
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
# Storage may grow on its own up to this many times the declared size before anyone is paged.
STORAGE_GROWTH_FACTOR = 4
BACKUP_WINDOW = "02:00-03:00"
MAINTENANCE_WINDOW = "sun:03:30-sun:04:30"


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of a Database."""

    identifier: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets only."""
    client_security_group_id: pulumi.Input[str]
    """The only security group whose members may connect: the cluster's."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the storage, the snapshots and the master password's secret."""
    instance_class: str
    allocated_storage_gb: int
    backup_retention_days: int
    multi_az: bool
    deletion_protection: bool


class Database(pulumi.ComponentResource):
    """A PostgreSQL instance reachable only from the cluster, with TLS enforced."""

    address: pulumi.Output[str]
    port: pulumi.Output[int]
    name: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the subnet group, security group, parameter group and instance."""
        super().__init__("slipway:aws:Database", name, None, opts)
        child = child_options(self, opts)
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description=f"Private subnets of {args.identifier}",
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"PostgreSQL from the cluster only ({args.identifier})",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="PostgreSQL from cluster nodes and pods",
                    protocol="tcp",
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    security_groups=[args.client_security_group_id],
                )
            ],
            # The database opens no connections of its own.
            egress=[],
            opts=child,
        )
        parameters = aws.rds.ParameterGroup(
            f"{name}-params",
            family=PARAMETER_FAMILY,
            description=f"TLS-only PostgreSQL for {args.identifier}",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="log_disconnections", value="1"),
            ],
            opts=child,
        )
        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=args.identifier,
            engine="postgres",
            engine_version=ENGINE_VERSION,
            auto_minor_version_upgrade=True,
            instance_class=args.instance_class,
            db_name=DATABASE_NAME,
            username=MASTER_USERNAME,
            # RDS creates the password and keeps it in Secrets Manager, encrypted with our key and
            # rotated; it never passes through this program, its config or its state.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            iam_database_authentication_enabled=True,
            storage_type="gp3",
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.allocated_storage_gb * STORAGE_GROWTH_FACTOR,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            network_type="IPV4",
            port=POSTGRES_PORT,
            ca_cert_identifier=CA_CERTIFICATE,
            multi_az=args.multi_az,
            deletion_protection=args.deletion_protection,
            backup_retention_period=args.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{args.identifier}-final",
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            apply_immediately=False,
            opts=child,
        )
        self.address = instance.address
        self.port = instance.port
        self.name = instance.db_name
        self.arn = instance.arn
        self.secret_arn = instance.master_user_secrets.apply(lambda secrets: str(secrets[0].secret_arn))
        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "name": self.name,
                "arn": self.arn,
                "secretArn": self.secret_arn,
            }
        )
