"""The AWS layer's controls, asserted on recorded plans: each from the stack as declared, and
where a declaration key changes a control, from the same stack with only that key changed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.aws.cidr import plan_subnets
from components.aws.eks import CLUSTER_ADMIN_POLICY, CONTROL_PLANE_LOGS
from components.aws.node_pool import NODE_POLICIES
from components.offline.engine import Plan
from components.offline.values import SECRET, plain, reveal
from components.services import ARGO_SERVER, BOOTSTRAP, EBS_CSI, MLFLOW, VPC_CNI
from tests.conftest import only, planned, registrations, resources_of

AWS_STACKS = ["platform-dev", "platform-prod"]


@pytest.fixture(scope="module", params=AWS_STACKS)
def aws_plan(request) -> Plan:
    return planned(request.param)


def urn_of(plan: Plan, typ: str, name: str) -> str:
    (registration,) = [r for r in registrations(plan, typ) if r.name == name]
    return registration.urn


def key_arn(plan: Plan, purpose: str) -> str:
    return str(plan.outputs["kmsKeyArns"][purpose])


def policy_documents(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every inline role policy, by the name of the role it belongs to."""
    roles = {r.inputs.get("name") or r.name: r for r in registrations(plan, "aws:iam/role:Role")}
    assert roles
    return {r["role"]: json.loads(r["policy"]) for r in resources_of(plan, "aws:iam/rolePolicy:RolePolicy")}


# Network


def test_subnets_follow_the_cidr_plan_and_stay_private(aws_plan):
    settings = aws_plan.declaration.aws
    layout = plan_subnets(settings.vpc_cidr, settings.availability_zones)
    subnets = resources_of(aws_plan, "aws:ec2/subnet:Subnet")
    private = sorted(s["cidrBlock"] for s in subnets if "kubernetes.io/role/internal-elb" in s["tags"])
    public = sorted(s["cidrBlock"] for s in subnets if "kubernetes.io/role/elb" in s["tags"])
    assert private == sorted(zone.private for zone in layout)
    assert public == sorted(zone.public for zone in layout)
    zones = {s["availabilityZone"] for s in subnets}
    assert len(zones) == settings.availability_zones
    cluster_tag = f"kubernetes.io/cluster/{aws_plan.declaration.cluster.name}"
    for subnet in subnets:
        assert subnet["mapPublicIpOnLaunch"] is False
        assert subnet["tags"][cluster_tag] == "shared"
    assert only(aws_plan, "aws:ec2/vpc:Vpc")["cidrBlock"] == settings.vpc_cidr


def test_nat_gateways_one_per_zone_in_prod_and_one_in_dev():
    assert len(resources_of(planned("platform-prod"), "aws:ec2/natGateway:NatGateway")) == 3
    assert len(resources_of(planned("platform-dev"), "aws:ec2/natGateway:NatGateway")) == 1


def test_declared_nat_layout_overrides_the_environment_default(replan):
    plan = replan("platform-dev", aws=lambda aws: {**aws, "natGateways": "perAz"})
    assert len(resources_of(plan, "aws:ec2/natGateway:NatGateway")) == 2


def test_every_private_route_table_leaves_through_a_nat_gateway(aws_plan):
    nats = {r.urn for r in registrations(aws_plan, "aws:ec2/natGateway:NatGateway")}
    tables = [r for r in registrations(aws_plan, "aws:ec2/routeTable:RouteTable") if "-private-" in r.name]
    assert len(tables) == aws_plan.declaration.aws.availability_zones
    for table in tables:
        (route,) = table.inputs["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0"
        assert route["natGatewayId"].startswith("nat-")
        assert "gatewayId" not in route
        assert len(nats.intersection(table.dependencies)) == 1, table.name


def test_nat_gateways_sit_in_public_subnets(aws_plan):
    public_ids = {r.urn: r for r in registrations(aws_plan, "aws:ec2/subnet:Subnet") if "-public-" in r.name}
    for nat in registrations(aws_plan, "aws:ec2/natGateway:NatGateway"):
        assert any(urn in nat.dependencies for urn in public_ids), nat.name


def test_default_security_group_admits_nothing(aws_plan):
    group = only(aws_plan, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group["ingress"] == []
    assert group["egress"] == []


def test_flow_logs_record_all_traffic_into_an_encrypted_group(aws_plan):
    flow_log = only(aws_plan, "aws:ec2/flowLog:FlowLog")
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["logDestinationType"] == "cloud-watch-logs"
    groups = {g["name"]: g for g in resources_of(aws_plan, "aws:cloudwatch/logGroup:LogGroup")}
    name = f"/slipway/{aws_plan.declaration.cluster.name}/vpc-flow-logs"
    assert flow_log["logDestination"].endswith(f":log-group:{name}")
    assert groups[name]["kmsKeyId"] == key_arn(aws_plan, "logs")
    assert groups[name]["retentionInDays"] == aws_plan.declaration.cluster.log_retention_days


def test_s3_traffic_stays_on_a_gateway_endpoint(aws_plan):
    endpoint = only(aws_plan, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint["serviceName"] == f"com.amazonaws.{aws_plan.declaration.aws.region}.s3"
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert len(endpoint["routeTableIds"]) == aws_plan.declaration.aws.availability_zones


# EKS control plane


def test_cluster_endpoint_is_private_by_default(aws_plan):
    cluster = only(aws_plan, "aws:eks/cluster:Cluster")
    vpc = cluster["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert vpc["subnetIds"] == aws_plan.outputs["privateSubnetIds"]


def test_public_endpoint_only_for_the_declared_networks(replan):
    plan = replan(
        "platform-dev",
        cluster=lambda cluster: {**cluster, "endpoint": {"public": True, "publicCidrs": ["203.0.113.0/24"]}},
    )
    vpc = only(plan, "aws:eks/cluster:Cluster")["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_cluster_secrets_are_envelope_encrypted_with_their_own_key(aws_plan):
    encryption = only(aws_plan, "aws:eks/cluster:Cluster")["encryptionConfig"]
    assert encryption == {
        "provider": {"keyArn": key_arn(aws_plan, "cluster-secrets")},
        "resources": ["secrets"],
    }
    policies = policy_documents(aws_plan)
    cluster_role = next(name for name in policies if "cluster-role" in name)
    (statement,) = policies[cluster_role]["Statement"]
    assert statement["Resource"] == [key_arn(aws_plan, "cluster-secrets")]


def test_every_control_plane_log_is_kept_encrypted(aws_plan):
    cluster = only(aws_plan, "aws:eks/cluster:Cluster")
    assert cluster["enabledClusterLogTypes"] == CONTROL_PLANE_LOGS
    assert "audit" in cluster["enabledClusterLogTypes"]
    name = aws_plan.declaration.cluster.name
    groups = {g["name"]: g for g in resources_of(aws_plan, "aws:cloudwatch/logGroup:LogGroup")}
    group = groups[f"/aws/eks/{name}/cluster"]
    assert group["kmsKeyId"] == key_arn(aws_plan, "logs")
    assert group["retentionInDays"] == aws_plan.declaration.cluster.log_retention_days
    # EKS would create the group itself (unencrypted, kept forever) if the cluster came first.
    cluster_registration = registrations(aws_plan, "aws:eks/cluster:Cluster")[0]
    log_group_urn = urn_of(aws_plan, "aws:cloudwatch/logGroup:LogGroup", f"{name}-logs")
    assert log_group_urn in cluster_registration.dependencies


def test_access_is_by_entry_and_the_creator_gets_no_admin(aws_plan):
    cluster = only(aws_plan, "aws:eks/cluster:Cluster")
    assert cluster["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    admins = aws_plan.declaration.cluster.admins
    entries = resources_of(aws_plan, "aws:eks/accessEntry:AccessEntry")
    assert sorted(e["principalArn"] for e in entries) == sorted(admins)
    associations = resources_of(aws_plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert [(a["principalArn"], a["policyArn"], a["accessScope"]) for a in associations] == [
        (admin, CLUSTER_ADMIN_POLICY, {"type": "cluster"}) for admin in admins
    ]


def test_declared_admins_become_access_entries(replan):
    admins = [
        "arn:aws:iam::111122223333:role/slipway-platform-admin",
        "arn:aws:iam::111122223333:role/on-call",
    ]
    plan = replan("platform-dev", cluster=lambda cluster: {**cluster, "admins": admins})
    entries = resources_of(plan, "aws:eks/accessEntry:AccessEntry")
    assert sorted(e["principalArn"] for e in entries) == sorted(admins)


def test_deletion_protection_in_prod_only():
    assert only(planned("platform-prod"), "aws:eks/cluster:Cluster")["deletionProtection"] is True
    assert only(planned("platform-dev"), "aws:eks/cluster:Cluster")["deletionProtection"] is False


def test_cluster_runs_the_declared_version_on_standard_support(aws_plan):
    cluster = only(aws_plan, "aws:eks/cluster:Cluster")
    assert cluster["version"] == aws_plan.declaration.cluster.version
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}
    assert cluster["bootstrapSelfManagedAddons"] is False


def test_cluster_version_follows_the_declaration(replan):
    plan = replan("platform-dev", cluster=lambda cluster: {**cluster, "version": "1.34"})
    assert only(plan, "aws:eks/cluster:Cluster")["version"] == "1.34"


# Add-ons


def test_managed_add_ons_with_network_policy_enforcement(aws_plan):
    add_ons = {a["addonName"]: a for a in resources_of(aws_plan, "aws:eks/addon:Addon")}
    assert set(add_ons) == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
    }
    assert json.loads(add_ons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    (cni_identity,) = add_ons["vpc-cni"]["podIdentityAssociations"]
    assert cni_identity["serviceAccount"] == VPC_CNI.service_account
    (csi_identity,) = add_ons["aws-ebs-csi-driver"]["podIdentityAssociations"]
    assert csi_identity["serviceAccount"] == EBS_CSI.service_account


def test_node_pools_wait_for_networking_and_dns_waits_for_nodes(aws_plan):
    by_name = {r.inputs["addonName"]: r for r in registrations(aws_plan, "aws:eks/addon:Addon")}
    pools = {r.name: r for r in registrations(aws_plan, "slipway:aws:NodePool")}
    for pool in pools.values():
        assert by_name["vpc-cni"].urn in pool.dependencies
    # The node groups themselves, not only their components, wait for networking.
    for group in registrations(aws_plan, "aws:eks/nodeGroup:NodeGroup"):
        assert by_name["vpc-cni"].urn in group.dependencies, group.name
    # A dependency on a component reaches the engine as dependencies on its children.
    system_nodes = urn_of(
        aws_plan, "aws:eks/nodeGroup:NodeGroup", f"{aws_plan.declaration.cluster.name}-system-nodes"
    )
    assert system_nodes in by_name["coredns"].dependencies
    assert system_nodes in by_name["aws-ebs-csi-driver"].dependencies
    assert system_nodes not in by_name["vpc-cni"].dependencies
    assert pools


# Node pools


def test_every_node_pool_uses_imdsv2_one_hop_and_encrypted_volumes(aws_plan):
    templates = resources_of(aws_plan, "aws:ec2/launchTemplate:LaunchTemplate")
    assert len(templates) == len(aws_plan.declaration.node_pools)
    for template in templates:
        assert template["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "instanceMetadataTags": "disabled",
        }
        (device,) = template["blockDeviceMappings"]
        assert device["ebs"]["encrypted"] == "true"
        assert device["ebs"]["kmsKeyId"] == key_arn(aws_plan, "node-volumes")
        assert "keyName" not in template
        assert "userData" not in template


def test_node_groups_run_in_private_subnets_through_their_template(aws_plan):
    groups = resources_of(aws_plan, "aws:eks/nodeGroup:NodeGroup")
    assert len(groups) == len(aws_plan.declaration.node_pools)
    for group in groups:
        assert group["subnetIds"] == aws_plan.outputs["privateSubnetIds"]
        assert group["launchTemplate"]["id"].startswith("lt-")
        assert "remoteAccess" not in group


def test_pool_sizes_and_types_follow_the_declaration(aws_plan):
    groups = {
        g["labels"]["slipway.dev/pool"]: g for g in resources_of(aws_plan, "aws:eks/nodeGroup:NodeGroup")
    }
    for pool in aws_plan.declaration.node_pools:
        group = groups[pool.name]
        assert group["instanceTypes"] == pool.instance_types
        assert group["scalingConfig"]["minSize"] == pool.min_size
        assert group["scalingConfig"]["maxSize"] == pool.max_size


def test_gpu_pool_runs_the_nvidia_ami_tainted_and_scales_to_zero():
    groups = {
        g["labels"]["slipway.dev/pool"]: g
        for g in resources_of(planned("platform-prod"), "aws:eks/nodeGroup:NodeGroup")
    }
    gpu = groups["gpu"]
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["labels"]["nvidia.com/gpu.present"] == "true"
    assert gpu["labels"]["accelerator"] == "nvidia-a10g"
    assert gpu["scalingConfig"]["minSize"] == 0
    assert gpu["scalingConfig"]["desiredSize"] == 0
    for name in ("system", "cpu"):
        assert groups[name]["amiType"] == "AL2023_x86_64_STANDARD"
        assert groups[name]["taints"] == []


def test_a_spot_graviton_gpu_pool_gets_the_arm_nvidia_ami(replan):
    gpu_pool = {
        "name": "gpu-arm",
        "kind": "gpu",
        "instanceTypes": ["g5g.xlarge"],
        "capacityType": "spot",
        "minSize": 0,
        "maxSize": 2,
    }
    plan = replan("platform-dev", nodePools=lambda pools: [*pools, gpu_pool])
    groups = {g["labels"]["slipway.dev/pool"]: g for g in resources_of(plan, "aws:eks/nodeGroup:NodeGroup")}
    assert groups["gpu-arm"]["amiType"] == "AL2023_ARM_64_NVIDIA"
    assert groups["gpu-arm"]["capacityType"] == "SPOT"
    assert groups["gpu-arm"]["taints"][0]["key"] == "nvidia.com/gpu"


def test_autoscaler_owns_the_node_count_after_creation(aws_plan):
    groups = registrations(aws_plan, "aws:eks/nodeGroup:NodeGroup")
    assert groups
    for group in groups:
        assert group.options == {"ignoreChanges": ["scalingConfig.desiredSize"]}


def test_nodes_hold_only_join_and_pull_permissions(aws_plan):
    node_role = next(r for r in registrations(aws_plan, "aws:iam/role:Role") if r.name.endswith("-node-role"))
    attached = [
        a.inputs["policyArn"]
        for a in registrations(aws_plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.parent == node_role.parent
    ]
    assert sorted(attached) == sorted(NODE_POLICIES)
    assert "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" not in attached


# Database


def test_database_is_private_encrypted_and_its_password_never_in_state(aws_plan):
    database = only(aws_plan, "aws:rds/instance:Instance")
    assert database["engine"] == "postgres"
    assert database["publiclyAccessible"] is False
    assert database["storageEncrypted"] is True
    assert database["kmsKeyId"] == key_arn(aws_plan, "database")
    assert database["manageMasterUserPassword"] is True
    assert database["masterUserSecretKmsKeyId"] == key_arn(aws_plan, "database")
    assert "password" not in database
    assert database["backupRetentionPeriod"] >= 7
    assert database["skipFinalSnapshot"] is False
    assert database["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    subnets = only(aws_plan, "aws:rds/subnetGroup:SubnetGroup")
    assert subnets["subnetIds"] == aws_plan.outputs["privateSubnetIds"]
    parameters = only(aws_plan, "aws:rds/parameterGroup:ParameterGroup")
    assert {(p["name"], p["value"]) for p in parameters["parameters"]} >= {("rds.force_ssl", "1")}


def test_database_admits_only_the_cluster_on_its_port(aws_plan):
    group = only(aws_plan, "aws:ec2/securityGroup:SecurityGroup")
    (rule,) = group["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (5432, 5432, "tcp")
    assert rule["securityGroups"] == [aws_plan.outputs["clusterSecurityGroupId"]]
    assert "cidrBlocks" not in rule
    assert group["egress"] == []


def test_prod_database_is_multi_az_and_protected_dev_is_neither():
    prod = only(planned("platform-prod"), "aws:rds/instance:Instance")
    dev = only(planned("platform-dev"), "aws:rds/instance:Instance")
    assert (prod["multiAz"], prod["deletionProtection"]) == (True, True)
    assert (dev["multiAz"], dev["deletionProtection"]) == (False, False)
    assert prod["backupRetentionPeriod"] == 14
    assert prod["instanceClass"] == "db.m7g.large"


def test_declared_multi_az_overrides_the_environment_default(replan):
    plan = replan(
        "platform-dev",
        mlflow=lambda mlflow: {**mlflow, "database": {"multiAz": True, "backupRetentionDays": 10}},
    )
    database = only(plan, "aws:rds/instance:Instance")
    assert database["multiAz"] is True
    assert database["backupRetentionPeriod"] == 10
    assert database["deletionProtection"] is False


def test_dev_is_cheaper_than_prod_but_exactly_as_locked_down():
    dev, prod = planned("platform-dev"), planned("platform-prod")

    def controls(plan: Plan) -> dict[str, Any]:
        cluster = only(plan, "aws:eks/cluster:Cluster")
        database = only(plan, "aws:rds/instance:Instance")
        templates = resources_of(plan, "aws:ec2/launchTemplate:LaunchTemplate")
        return {
            "endpoint": {k: v for k, v in cluster["vpcConfig"].items() if k != "subnetIds"},
            "access": cluster["accessConfig"],
            "logs": cluster["enabledClusterLogTypes"],
            "secrets": cluster["encryptionConfig"]["resources"],
            "metadata": [t["metadataOptions"] for t in templates][0],
            "volumes": {t["blockDeviceMappings"][0]["ebs"]["encrypted"] for t in templates},
            "database": {
                k: database[k]
                for k in (
                    "publiclyAccessible",
                    "storageEncrypted",
                    "manageMasterUserPassword",
                    "caCertIdentifier",
                )
            },
            "flow": only(plan, "aws:ec2/flowLog:FlowLog")["trafficType"],
        }

    assert controls(dev) == controls(prod)
    cheaper = ("aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip")
    for typ in cheaper:
        assert len(resources_of(dev, typ)) < len(resources_of(prod, typ))


# Identity


def test_no_inline_policy_grants_a_wildcard_action_or_resource(aws_plan):
    documents = policy_documents(aws_plan)
    assert len(documents) == 6
    for role, document in documents.items():
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", role
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(action != "*" and not action.endswith(":*") for action in actions), (role, actions)
            assert "*" not in statement["Resource"], (role, statement)
            for resource in statement["Resource"]:
                assert resource.startswith("arn:aws:"), (role, resource)


def test_service_roles_trust_only_their_service_account(aws_plan):
    cluster_arn = aws_plan.outputs["clusterArn"]
    roles = {r.parent: r.inputs for r in registrations(aws_plan, "aws:iam/role:Role")}
    expected = {MLFLOW, ARGO_SERVER, BOOTSTRAP, VPC_CNI, EBS_CSI}
    seen = set()
    for component in registrations(aws_plan, "slipway:aws:WorkloadRole"):
        (statement,) = json.loads(roles[component.urn]["assumeRolePolicy"])["Statement"]
        conditions = statement["Condition"]["StringEquals"]
        assert conditions["aws:RequestTag/eks-cluster-arn"] == cluster_arn
        seen.add(
            (
                conditions["aws:RequestTag/kubernetes-namespace"],
                conditions["aws:RequestTag/kubernetes-service-account"],
            )
        )
    assert seen == {(i.namespace, i.service_account) for i in expected}


def test_pod_identity_associations_match_the_trust_policies(aws_plan):
    associations = resources_of(aws_plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert sorted((a["namespace"], a["serviceAccount"]) for a in associations) == sorted(
        (i.namespace, i.service_account) for i in (MLFLOW, ARGO_SERVER, BOOTSTRAP)
    )
    role_arns = set(aws_plan.outputs["serviceRoleArns"].values())
    assert {a["roleArn"] for a in associations} == role_arns
    assert {a["clusterName"] for a in associations} == {aws_plan.declaration.cluster.name}


def _role_policy(plan: Plan, label: str) -> list[dict[str, Any]]:
    role_arn = plan.outputs["serviceRoleArns"][label]
    role_name = role_arn.rsplit("/", 1)[-1]
    return policy_documents(plan)[role_name]["Statement"]


def test_mlflow_reaches_only_its_artifact_prefix(aws_plan):
    bucket = aws_plan.outputs["artifactBucketArn"]
    statements = {s["Sid"]: s for s in _role_policy(aws_plan, "mlflow")}
    assert statements["ReadWriteMlflowArtifacts"]["Resource"] == [f"{bucket}/mlflow/*"]
    assert statements["ListMlflowArtifacts"]["Condition"] == {
        "StringLike": {"s3:prefix": ["mlflow/", "mlflow/*"]}
    }
    assert statements["UseArtifactsKey"]["Resource"] == [aws_plan.outputs["artifactsKmsKeyArn"]]
    region = aws_plan.declaration.aws.region
    assert statements["UseArtifactsKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}
    }


def test_argo_server_only_reads_workflow_artifacts(aws_plan):
    bucket = aws_plan.outputs["artifactBucketArn"]
    statements = _role_policy(aws_plan, "argoServer")
    actions = sorted(action for s in statements for action in s["Action"])
    assert actions == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
    objects = next(s for s in statements if s["Action"] == ["s3:GetObject"])
    assert objects["Resource"] == [f"{bucket}/argo/*"]


def test_only_the_bootstrap_job_reads_the_database_admin_secret(aws_plan):
    secret = aws_plan.outputs["databaseSecretArn"]
    readers = [
        role
        for role, document in policy_documents(aws_plan).items()
        if any(secret in statement["Resource"] for statement in document["Statement"])
    ]
    assert len(readers) == 1
    assert readers[0] == aws_plan.outputs["serviceRoleArns"]["bootstrap"].rsplit("/", 1)[-1]
    statements = _role_policy(aws_plan, "bootstrap")
    resources = sorted(r for s in statements for r in s["Resource"])
    assert resources == sorted([aws_plan.outputs["databaseSecretArn"], key_arn(aws_plan, "database")])


# Keys


def test_every_key_rotates_and_has_an_explicit_policy(aws_plan):
    keys = resources_of(aws_plan, "aws:kms/key:Key")
    aliases = sorted(a["name"] for a in resources_of(aws_plan, "aws:kms/alias:Alias"))
    name = aws_plan.declaration.cluster.name
    assert aliases == sorted(f"alias/slipway/{name}/{purpose}" for purpose in aws_plan.outputs["kmsKeyArns"])
    for key in keys:
        assert key["enableKeyRotation"] is True
        statements = json.loads(key["policy"])["Statement"]
        assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_each_purpose_has_its_own_key(aws_plan):
    arns = list(aws_plan.outputs["kmsKeyArns"].values())
    assert len(arns) == len(set(arns)) == 6


# Outputs


def test_outputs_model_stacks_and_the_cluster_layer_need(aws_plan):
    outputs = aws_plan.outputs
    for name in (
        "clusterName",
        "clusterEndpoint",
        "clusterCertificateAuthority",
        "oidcIssuerUrl",
        "kubeconfig",
        "registryUrl",
        "runtimeImageRepository",
        "artifactBucket",
        "databaseAddress",
        "databasePort",
        "databaseSecretArn",
        "kmsKeyArns",
        "serviceRoleArns",
    ):
        assert name in outputs, name
    assert outputs["clusterEndpoint"].startswith("https://")
    assert outputs["runtimeImageRepository"].startswith(outputs["registryUrl"] + "/")
    assert outputs["databasePort"] == 5432
    assert outputs["databaseAddress"].endswith(".rds.amazonaws.com")


def test_kubeconfig_is_exported_only_as_a_secret(aws_plan):
    assert "kubeconfig" in aws_plan.secret_output_names
    assert plain(aws_plan.outputs)["kubeconfig"] == SECRET
    config = json.loads(reveal(aws_plan.outputs["kubeconfig"]))
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == aws_plan.outputs["clusterEndpoint"]
    plan_json = json.dumps(plain(aws_plan.outputs))
    assert "get-token" not in plan_json
