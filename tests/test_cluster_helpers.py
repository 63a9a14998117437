"""The cluster layer's pure helpers: policies, identities, MLflow's auth settings, chart values."""

from __future__ import annotations

import configparser
import fnmatch
import json

import pytest

from components.cluster.chart_values import ArtifactRepository, monitoring_values
from components.cluster.data_services import seaweed_identities
from components.cluster.mlflow_server import allowed_hosts, auth_config
from components.cluster.namespace import PodSecurityLevel, SecureNamespace, SecureNamespaceArgs
from components.cluster.platform_bootstrap import ServiceDatabase, users_spec
from components.cluster.traffic import Allow, Direction, Peer, policy_spec


def test_an_ingress_allow_becomes_one_rule_with_its_ports():
    allow = Allow(
        name="allow-x",
        direction=Direction.INGRESS,
        peers=(
            Peer(namespace="a"),
            Peer(namespace_labels={"team": "b"}, pods={"app": "c"}),
            Peer(cidr="10.0.0.0/8"),
        ),
        ports=(5000, 5001),
        pods={"app": "server"},
    )
    assert policy_spec(allow) == {
        "podSelector": {"matchLabels": {"app": "server"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}},
                        "podSelector": {},
                    },
                    {
                        "namespaceSelector": {"matchLabels": {"team": "b"}},
                        "podSelector": {"matchLabels": {"app": "c"}},
                    },
                    {"ipBlock": {"cidr": "10.0.0.0/8"}},
                ],
                "ports": [{"protocol": "TCP", "port": 5000}, {"protocol": "TCP", "port": 5001}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("allow", "message"),
    [
        (Allow("open", Direction.EGRESS, (Peer(),), ()), "allow 'open' names no port"),
        (Allow("nobody", Direction.EGRESS, (), (80,)), "allow 'nobody' names no peer"),
        (
            Allow("wide", Direction.EGRESS, (Peer(),), (), all_ports=True),
            "allow 'wide' opens every port without a reason",
        ),
    ],
)
def test_allows_that_open_too_much_are_refused(allow, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        policy_spec(allow)


def test_a_namespace_below_restricted_needs_a_reason():
    with pytest.raises(
        ValueError, match="^namespace 'host-agents' asks for Pod Security 'privileged' without a reason$"
    ):
        SecureNamespace(
            "host-agents",
            SecureNamespaceArgs(
                namespace="host-agents", kubernetes_version="1.33", level=PodSecurityLevel.PRIVILEGED
            ),
        )


def test_object_store_identities_confine_services_to_the_bucket():
    document = json.loads(
        seaweed_identities({"admin": ("AK1", "SK1"), "mlflow": ("AK2", "SK2")}, "slipway-artifacts")
    )
    by_name = {identity["name"]: identity for identity in document["identities"]}
    assert by_name["admin"]["actions"] == ["Admin", "Read", "Write", "List"]
    assert by_name["mlflow"]["actions"] == [
        "Read:slipway-artifacts",
        "Write:slipway-artifacts",
        "List:slipway-artifacts",
        "Tagging:slipway-artifacts",
    ]
    assert by_name["mlflow"]["credentials"] == [{"accessKey": "AK2", "secretKey": "SK2"}]


def test_mlflow_auth_config_denies_by_default_and_keeps_no_password():
    parser = configparser.ConfigParser()
    parser.read_string(auth_config("postgresql+psycopg://mlflow:pw@db:5432/mlflow_auth?sslmode=require"))
    section = parser["mlflow"]
    assert section["default_permission"] == "NO_PERMISSIONS"
    assert section["database_uri"].endswith("/mlflow_auth?sslmode=require")
    assert "admin_password" not in section


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("mlflow.slipway-mlflow.svc:5000", True),
        ("mlflow.slipway-mlflow.svc.cluster.local:5000", True),
        ("mlflow:5000", True),
        ("localhost:5000", True),
        ("evil.example.com", False),
        ("mlflow.other-namespace.svc:5000", False),
    ],
)
def test_mlflow_answers_only_its_own_service_names(host, allowed):
    patterns = allowed_hosts("slipway-mlflow").split(",")
    assert any(fnmatch.fnmatch(host, pattern) for pattern in patterns) is allowed


def test_users_spec_lists_each_role_with_its_databases():
    spec = users_spec(
        [ServiceDatabase("mlflow", "x", ("mlflow", "mlflow_auth")), ServiceDatabase("argo", "y", ("argo",))]
    )
    assert spec == "mlflow=mlflow,mlflow_auth;argo=argo"


def test_static_keys_replace_sdk_credentials_in_the_artifact_repository():
    aws = ArtifactRepository(
        bucket="b", endpoint="s3.eu-west-1.amazonaws.com", region="eu-west-1", kms_key_arn="k"
    )
    assert aws.s3()["useSDKCreds"] is True
    assert "accessKeySecret" not in aws.s3()
    byo = ArtifactRepository(bucket="b", endpoint="store:8333", insecure=True, credentials_secret="keys")
    assert "useSDKCreds" not in byo.s3()
    assert byo.s3()["secretKeySecret"] == {"name": "keys", "key": "secretkey"}


def test_monitoring_uses_the_cluster_default_storage_class_unless_one_is_named():
    claim = monitoring_values(7, 20, None, "grafana-admin", "node-metrics")["prometheus"]["prometheusSpec"]
    assert "storageClassName" not in claim["storageSpec"]["volumeClaimTemplate"]["spec"]
    named = monitoring_values(7, 20, "fast", "grafana-admin", "node-metrics")["prometheus"]["prometheusSpec"]
    assert named["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "fast"
