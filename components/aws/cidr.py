"""Subnet arithmetic for the platform's VPC: one private and one public subnet per zone."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

# AWS refuses subnets smaller than /28.
SMALLEST_SUBNET_PREFIX = 28
# Public subnets only hold load balancers and NAT gateways, so each is a quarter the size of
# its private neighbour, where every pod takes an address of its own (VPC CNI).
PUBLIC_SHRINK_BITS = 2


@dataclass(frozen=True)
class ZoneSubnets:
    """The two subnets of one availability zone."""

    zone_index: int
    private: str
    public: str


def plan_subnets(vpc_cidr: str, zones: int) -> list[ZoneSubnets]:
    """Carve a VPC network into a private and a public subnet for each of `zones` zones.

    The first half of the network holds the private subnets, in equal blocks; the public subnets
    come from the start of the second half. The rest of the second half stays free for later
    uses (more zones, intra subnets) without renumbering what exists. The result depends only
    on the arguments, so a stack's subnets never move between runs.

    Raises:
        ValueError: when the network is not IPv4, `zones` is below 1, or the subnets would be
            smaller than AWS allows.
    """
    network = ipaddress.ip_network(vpc_cidr, strict=True)
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"{vpc_cidr!r} is not an IPv4 network")
    if zones < 1:
        raise ValueError(f"zones must be 1 or more, got {zones}")
    zone_bits = math.ceil(math.log2(zones)) if zones > 1 else 0
    private_prefix = network.prefixlen + 1 + zone_bits
    public_prefix = private_prefix + PUBLIC_SHRINK_BITS
    if public_prefix > SMALLEST_SUBNET_PREFIX:
        raise ValueError(
            f"{vpc_cidr} is too small for {zones} zones: public subnets would be /{public_prefix}, "
            f"AWS allows /{SMALLEST_SUBNET_PREFIX} at most"
        )
    private_half, public_half = network.subnets(prefixlen_diff=1)
    private = list(private_half.subnets(new_prefix=private_prefix))[:zones]
    public = public_half.subnets(new_prefix=public_prefix)
    return [
        ZoneSubnets(zone_index=index, private=str(private[index]), public=str(next(public)))
        for index in range(zones)
    ]
