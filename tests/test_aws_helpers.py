"""The AWS layer's pure helpers: subnet arithmetic, node pool profiles, policies, kubeconfig."""

from __future__ import annotations

import ipaddress
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.aws.cidr import SMALLEST_SUBNET_PREFIX, plan_subnets
from components.aws.kms import KeyContext, KeyPurpose, key_policy
from components.aws.kubeconfig import eks_kubeconfig
from components.aws.node_pool import pool_profile
from components.aws.policy import pod_identity_trust
from components.declaration.instances import Architecture, architecture
from components.declaration.platform import NodePool

PRIVATE_RANGES = [
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
]


@st.composite
def vpc_networks(draw: st.DrawFn) -> str:
    """Any network the declaration accepts: private, /16 to /20."""
    base = draw(st.sampled_from(PRIVATE_RANGES))
    prefix = draw(st.integers(min_value=max(16, base.prefixlen), max_value=20))
    candidates = 2 ** (prefix - base.prefixlen)
    index = draw(st.integers(min_value=0, max_value=candidates - 1))
    size = 2 ** (32 - prefix)
    return str(ipaddress.IPv4Network((int(base.network_address) + index * size, prefix)))


@given(vpc=vpc_networks(), zones=st.integers(min_value=1, max_value=6))
def test_subnets_fit_the_vpc_and_never_overlap(vpc, zones):
    layout = plan_subnets(vpc, zones)
    network = ipaddress.IPv4Network(vpc)
    subnets = [ipaddress.IPv4Network(cidr) for zone in layout for cidr in (zone.private, zone.public)]
    assert [zone.zone_index for zone in layout] == list(range(zones))
    assert len(subnets) == 2 * zones
    for subnet in subnets:
        assert subnet.subnet_of(network)
        assert subnet.prefixlen <= SMALLEST_SUBNET_PREFIX
    for index, subnet in enumerate(subnets):
        for other in subnets[index + 1 :]:
            assert not subnet.overlaps(other), (subnet, other)


@given(vpc=vpc_networks(), zones=st.integers(min_value=1, max_value=6))
def test_private_subnets_are_larger_and_the_layout_is_stable(vpc, zones):
    layout = plan_subnets(vpc, zones)
    for zone in layout:
        private = ipaddress.IPv4Network(zone.private)
        public = ipaddress.IPv4Network(zone.public)
        assert private.num_addresses == 4 * public.num_addresses
    assert plan_subnets(vpc, zones) == layout


@given(vpc=vpc_networks(), zones=st.integers(min_value=1, max_value=5))
def test_adding_a_zone_keeps_existing_subnets_where_they_are(vpc, zones):
    # While the zone count stays within one power of two, a new zone must not renumber the
    # subnets already in use.
    before = plan_subnets(vpc, zones)
    after = plan_subnets(vpc, zones + 1)
    if zones > 1 and math.ceil(math.log2(zones)) == math.ceil(math.log2(zones + 1)):
        assert after[:zones] == before
    else:
        assert len(after) == zones + 1


@pytest.mark.parametrize(
    ("vpc", "zones", "private", "public"),
    [
        pytest.param(
            "10.40.0.0/16",
            2,
            ["10.40.0.0/18", "10.40.64.0/18"],
            ["10.40.128.0/20", "10.40.144.0/20"],
            id="dev-two-zones",
        ),
        pytest.param(
            "10.50.0.0/16",
            3,
            ["10.50.0.0/19", "10.50.32.0/19", "10.50.64.0/19"],
            ["10.50.128.0/21", "10.50.136.0/21", "10.50.144.0/21"],
            id="prod-three-zones",
        ),
        pytest.param(
            "192.168.16.0/20",
            6,
            [f"192.168.{16 + i}.0/24" for i in range(6)],
            [f"192.168.24.{64 * i}/26" for i in range(4)] + ["192.168.25.0/26", "192.168.25.64/26"],
            id="smallest-vpc-most-zones",
        ),
    ],
)
def test_subnet_layout_by_hand(vpc, zones, private, public):
    layout = plan_subnets(vpc, zones)
    assert [zone.private for zone in layout] == private
    assert [zone.public for zone in layout] == public


@pytest.mark.parametrize(
    ("vpc", "zones", "message"),
    [
        ("10.40.0.0/24", 6, "10.40.0.0/24 is too small for 6 zones: public subnets would be /30"),
        ("10.40.0.0/16", 0, "zones must be 1 or more, got 0"),
        ("fd00::/48", 2, "'fd00::/48' is not an IPv4 network"),
    ],
)
def test_impossible_layouts_are_refused(vpc, zones, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        plan_subnets(vpc, zones)


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        ("m7i.large", Architecture.X86_64),
        ("m7g.large", Architecture.ARM_64),
        ("c7gn.xlarge", Architecture.ARM_64),
        ("r8gd.2xlarge", Architecture.ARM_64),
        ("t4g.small", Architecture.ARM_64),
        ("g5g.xlarge", Architecture.ARM_64),
        ("g5.xlarge", Architecture.X86_64),
        ("g4dn.xlarge", Architecture.X86_64),
        ("gr6.4xlarge", Architecture.X86_64),
        ("p5en.48xlarge", Architecture.X86_64),
        ("m7i-flex.large", Architecture.X86_64),
    ],
)
def test_architecture_from_the_instance_family(instance_type, expected):
    assert architecture(instance_type) is expected


def _pool(**fields):
    document = {"name": "p", "instanceTypes": ["m7i.large"], "minSize": 0, "maxSize": 2, **fields}
    return NodePool.model_validate_json(json.dumps(document))


@pytest.mark.parametrize(
    ("fields", "ami_type", "capacity", "taints"),
    [
        pytest.param({}, "AL2023_x86_64_STANDARD", "ON_DEMAND", [], id="cpu"),
        pytest.param(
            {"instanceTypes": ["m7g.large"]}, "AL2023_ARM_64_STANDARD", "ON_DEMAND", [], id="graviton"
        ),
        pytest.param({"capacityType": "spot"}, "AL2023_x86_64_STANDARD", "SPOT", [], id="spot"),
        pytest.param(
            {"kind": "gpu", "instanceTypes": ["g5.xlarge"]},
            "AL2023_x86_64_NVIDIA",
            "ON_DEMAND",
            [("nvidia.com/gpu", "true", "NO_SCHEDULE")],
            id="gpu",
        ),
        pytest.param(
            {"kind": "gpu", "instanceTypes": ["g5g.xlarge"], "capacityType": "spot"},
            "AL2023_ARM_64_NVIDIA",
            "SPOT",
            [("nvidia.com/gpu", "true", "NO_SCHEDULE")],
            id="graviton-gpu-spot",
        ),
    ],
)
def test_pool_profile(fields, ami_type, capacity, taints):
    profile = pool_profile(_pool(**fields))
    assert profile.ami_type == ami_type
    assert profile.capacity_type == capacity
    assert [(t.key, t.value, t.effect) for t in profile.taints] == taints
    assert profile.labels["slipway.dev/pool"] == "p"
    assert ("nvidia.com/gpu.present" in profile.labels) == bool(taints)


def test_pool_profile_refuses_mixed_architectures():
    with pytest.raises(ValueError, match="^pool 'p' mixes architectures: arm64, x86_64$"):
        pool_profile(_pool(instanceTypes=["m7i.large", "m7g.large"]))


def test_pod_identity_trust_names_one_service_account_of_one_cluster():
    arn = "arn:aws:eks:eu-west-1:123456789012:cluster/slipway-dev"
    (statement,) = json.loads(pod_identity_trust(arn, "slipway-mlflow", "mlflow"))["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": arn,
            "aws:RequestTag/kubernetes-namespace": "slipway-mlflow",
            "aws:RequestTag/kubernetes-service-account": "mlflow",
        }
    }


@pytest.mark.parametrize("purpose", list(KeyPurpose))
def test_every_key_policy_keeps_the_key_manageable_and_names_services_narrowly(purpose):
    where = KeyContext(account_id="123456789012", region="eu-west-1")
    statements = json.loads(key_policy(purpose, where))["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    for statement in statements[1:]:
        # Every statement beyond administration is bound to this account by a condition.
        assert "123456789012" in json.dumps(statement["Condition"])
    extra = {s["Sid"] for s in statements[1:]}
    expected = {
        KeyPurpose.LOGS: {"CloudWatchLogsOfThisAccount"},
        KeyPurpose.NODE_VOLUMES: {"VolumesThroughEc2InThisAccount"},
    }.get(purpose, set())
    assert extra == expected


def test_kubeconfig_carries_no_credential_and_pins_its_cluster():
    config = json.loads(eks_kubeconfig("slipway-dev", "https://example.eks", "Q0E=", "eu-west-1"))
    assert config["current-context"] == "slipway-dev"
    (user,) = config["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "slipway-dev",
        "--region",
        "eu-west-1",
    ]
    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {"server": "https://example.eks", "certificate-authority-data": "Q0E="}
