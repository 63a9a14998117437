"""The platform's VPC: private subnets for nodes and databases, public ones for load balancers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_aws as aws

from components.aws.cidr import plan_subnets
from components.aws.policy import allow, document, service_trust
from components.options import child_options

# Flow logs go to CloudWatch in one-minute batches so an incident can be read while it happens.
FLOW_LOG_AGGREGATION_SECONDS = 60


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of a Network."""

    cluster_name: str
    """The EKS cluster that will use the subnets; their discovery tags name it."""
    vpc_cidr: str
    zone_count: int
    availability_zones: pulumi.Input[Sequence[str]]
    """The region's zone names; the first `zone_count` get a private and a public subnet each."""
    region: str
    """The VPC's region; the S3 gateway endpoint names it."""
    nat_per_zone: bool
    """One NAT gateway per zone (no cross-zone dependency) or one for the whole VPC (cheaper)."""
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int


class Network(pulumi.ComponentResource):
    """A VPC across the declared zones, with NAT egress, flow logs and no open default group."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the VPC and everything that routes traffic in and out of it."""
        super().__init__("slipway:aws:Network", name, None, opts)
        child = child_options(self, opts)
        cluster_tag = f"kubernetes.io/cluster/{args.cluster_name}"
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
            opts=child,
        )
        # The default security group admits all traffic between its members; owning it with no
        # rules means nothing that lands in it by accident can talk to anything.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-closed"},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": name}, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags={"Name": f"{name}-public"},
            opts=child,
        )

        layout = plan_subnets(args.vpc_cidr, args.zone_count)
        zone_names = pulumi.Output.from_input(args.availability_zones)
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        nat_gateways: list[aws.ec2.NatGateway] = []
        private_route_tables: list[aws.ec2.RouteTable] = []
        for zone_subnets in layout:
            # Logical names use the zone's position: zone names differ between accounts.
            zone = str(zone_subnets.zone_index)
            zone_name = zone_names.apply(partial(_nth, zone_subnets.zone_index))
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone_name,
                cidr_block=zone_subnets.public,
                # Nothing launched here gets a public address unless it asks for one (NAT, LBs).
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1", cluster_tag: "shared"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_routes.id, opts=child
            )
            public_subnets.append(public)
            if args.nat_per_zone or not nat_gateways:
                address = aws.ec2.Eip(
                    f"{name}-nat-{zone}", domain="vpc", tags={"Name": f"{name}-nat-{zone}"}, opts=child
                )
                nat_gateways.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{zone}",
                        allocation_id=address.allocation_id,
                        subnet_id=public.id,
                        connectivity_type="public",
                        tags={"Name": f"{name}-nat-{zone}"},
                        opts=child_options(self, opts, [gateway]),
                    )
                )
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone_name,
                cidr_block=zone_subnets.private,
                map_public_ip_on_launch=False,
                tags={
                    "Name": f"{name}-private-{zone}",
                    "kubernetes.io/role/internal-elb": "1",
                    cluster_tag: "shared",
                },
                opts=child,
            )
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-rt-{zone}",
                vpc_id=vpc.id,
                routes=[
                    aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_gateways[-1].id)
                ],
                tags={"Name": f"{name}-private-{zone}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=private_routes.id, opts=child
            )
            private_subnets.append(private)
            private_route_tables.append(private_routes)

        # Artifact and model traffic to S3 stays inside AWS's network and off the NAT bill.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )
        self._flow_logs(name, vpc, args, child)
        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[subnet.id for subnet in private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[subnet.id for subnet in public_subnets])
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    @staticmethod
    def _flow_logs(name: str, vpc: aws.ec2.Vpc, args: NetworkArgs, child: pulumi.ResourceOptions) -> None:
        """Record every accepted and rejected flow in a KMS-encrypted log group."""
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/slipway/{args.cluster_name}/vpc-flow-logs",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_kms_key_arn,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=service_trust("vpc-flow-logs.amazonaws.com"),
            description=f"VPC flow logs of {args.cluster_name} into their own log group",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: document(
                    [
                        allow(
                            "WriteFlowLogs",
                            [
                                "logs:CreateLogStream",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                            ],
                            [arn, f"{arn}:log-stream:*"],
                        )
                    ]
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            opts=child,
        )


def _nth(index: int, names: Sequence[str]) -> str:
    return str(names[index])
