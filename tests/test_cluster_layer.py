"""The cluster layer's controls on the recorded plans of EKS (dev, prod) and a cluster the user brings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.cluster.chart_values import GPU_NODE_SELECTOR, GPU_TOLERATION
from components.cluster.namespace import REASON_ANNOTATION, TRAFFIC_REASON_ANNOTATION
from components.offline.engine import Plan
from components.offline.mocks import _random_value
from components.offline.render import kubernetes_objects, plan_document
from components.offline.values import reveal
from components.services import NODE_METRICS_NAMESPACE, SERVICE_NAMESPACES
from tests.conftest import planned, registrations, resources_of

ALL = ["platform-dev", "platform-prod", "platform-local"]
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module", params=ALL)
def plan(request) -> Plan:
    return planned(request.param)


def objects(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [o for o in kubernetes_objects(plan) if o["kind"] == kind]


def named(plan: Plan, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
    (found,) = [
        o
        for o in objects(plan, kind)
        if o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
    ]
    return found


def releases(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in resources_of(plan, RELEASE)}


def images(value: Any) -> list[str]:
    """Every value of an 'image' key, however deep."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(images(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(images(item))
    return found


# The Kubernetes provider


def test_eks_provider_uses_the_clusters_own_kubeconfig():
    plan = planned("platform-prod")
    (provider,) = registrations(plan, "pulumi:providers:kubernetes")
    assert reveal(provider.inputs["kubeconfig"]) == reveal(plan.outputs["kubeconfig"])
    assert "context" not in provider.inputs
    assert provider.inputs["deleteUnreachable"] == "false"


def test_byo_provider_is_pinned_to_the_declared_context():
    plan = planned("platform-local")
    (provider,) = registrations(plan, "pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-slipway"
    assert "kubeconfig" not in provider.inputs


def test_every_kubernetes_resource_goes_through_the_declared_provider(plan):
    (provider,) = registrations(plan, "pulumi:providers:kubernetes")
    for registration in plan.registrations:
        if registration.custom and registration.type.startswith("kubernetes:"):
            assert registration.provider == provider.urn, registration.urn


def test_byo_platform_has_no_aws_resource():
    plan = planned("platform-local")
    assert not [r.type for r in plan.registrations if r.type.startswith(("aws:", "pulumi:providers:aws"))]


# Namespaces and traffic


def test_service_namespaces_are_restricted_and_deny_by_default(plan):
    namespaces = {o["metadata"]["name"]: o for o in objects(plan, "Namespace")}
    for name in (*SERVICE_NAMESPACES.values(), "slipway-system"):
        labels = namespaces[name]["metadata"]["labels"]
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", name
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.33"
    denies = {
        o["metadata"]["namespace"]: o["spec"]
        for o in objects(plan, "NetworkPolicy")
        if o["metadata"]["name"] == "default-deny"
    }
    assert set(denies) == set(namespaces)
    assert all(spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} for spec in denies.values())


def test_only_host_agents_run_below_restricted_and_each_says_why(plan):
    relaxed = {
        o["metadata"]["name"]: o["metadata"]
        for o in objects(plan, "Namespace")
        if o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] != "restricted"
    }
    expected = {NODE_METRICS_NAMESPACE} | ({"slipway-gpu"} if plan.declaration.has_gpu_pool else set())
    assert set(relaxed) == expected
    for metadata in relaxed.values():
        assert len(metadata["annotations"][REASON_ANNOTATION]) > 20


def test_every_allow_names_its_ports_or_says_why_not(plan):
    for policy in objects(plan, "NetworkPolicy"):
        if policy["metadata"]["name"] in ("default-deny", "allow-dns"):
            continue
        annotations = policy["metadata"].get("annotations") or {}
        assert annotations.get(TRAFFIC_REASON_ANNOTATION), policy["metadata"]
        for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
            if "ports" not in rule:
                assert policy["metadata"]["name"] in ("allow-within-namespace", "allow-scrape-everything")
                assert policy["metadata"]["namespace"] == SERVICE_NAMESPACES["monitoring"]


def test_mlflow_is_reachable_only_from_labelled_client_namespaces(plan):
    policy = named(plan, "NetworkPolicy", "slipway-mlflow", "allow-mlflow-clients")
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"slipway.dev/mlflow-client": "true"}}, "podSelector": {}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5000}]


def test_database_egress_follows_where_the_database_is():
    aws = named(planned("platform-prod"), "NetworkPolicy", "slipway-mlflow", "allow-database")
    assert aws["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.50.0.0/16"}}]
    byo = named(planned("platform-local"), "NetworkPolicy", "slipway-mlflow", "allow-database")
    assert byo["spec"]["egress"][0]["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "slipway-data"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
        }
    ]


# Helm releases


def test_every_release_is_a_pinned_chart_from_an_https_repository(plan):
    for name, release in releases(plan).items():
        assert release["version"].count(".") == 2, name
        assert release["repositoryOpts"]["repo"].startswith("https://"), name
        assert release["atomic"] is True
        assert release["name"] == name


def test_chart_versions_follow_the_declaration(replan):
    changed = replan(
        "platform-dev",
        argo=lambda argo: {**argo, "workflowsChartVersion": "2.0.4"},
        monitoring=lambda monitoring: {**monitoring, "chartVersion": "91.5.0"},
    )
    found = releases(changed)
    assert found["argo-workflows"]["version"] == "2.0.4"
    assert found["kube-prometheus-stack"]["version"] == "91.5.0"
    assert (
        found["argo-rollouts"]["version"] == planned("platform-dev").declaration.argo.rollouts_chart_version
    )


def test_no_image_is_latest_or_untagged(plan):
    document = plan_document(plan)
    found = images(document["resources"])
    assert found, "the plan names images"
    for image in found:
        tail = image.rsplit("/", 1)[-1]
        assert ":" in tail or "@sha256:" in image, image
        assert not image.endswith(":latest"), image


# Argo Workflows


def test_argo_server_never_runs_open_and_serves_tls(plan):
    values = releases(plan)["argo-workflows"]["values"]
    assert values["server"]["authModes"] == ["client"]
    assert values["server"]["secure"] is True
    assert "sso" not in values["server"]


def test_sso_mode_configures_the_declared_issuer(replan):
    sso = {"issuer": "https://login.example.com", "redirectUrl": "https://argo.example.com/oauth2/callback"}
    changed = replan("platform-dev", argo=lambda argo: {**argo, "serverAuthMode": "sso", "sso": sso})
    server = releases(changed)["argo-workflows"]["values"]["server"]
    assert server["authModes"] == ["sso"]
    assert server["sso"]["issuer"] == "https://login.example.com"
    assert server["sso"]["clientSecret"] == {"name": "argo-server-sso", "key": "client-secret"}
    assert server["sso"]["rbac"] == {"enabled": True}


def test_workflow_archive_lives_in_the_platform_database(plan):
    persistence = releases(plan)["argo-workflows"]["values"]["controller"]["persistence"]
    assert persistence["archive"] is True
    database = persistence["postgresql"]
    assert database["database"] == "argo"
    assert database["passwordSecret"] == {"name": "argo-postgres", "key": "password"}
    if plan.declaration.cloud.value == "aws":
        assert database["host"] == plan.outputs["databaseAddress"]
        assert database["sslMode"] == "require"
    else:
        assert database["host"] == "postgres.slipway-data.svc"
    secret = named(plan, "Secret", "slipway-argo", "argo-postgres")
    assert secret["stringData"] == {"username": "[secret]", "password": "[secret]"}


def test_artifact_repository_points_at_the_artifact_store(plan):
    values = releases(plan)["argo-workflows"]["values"]
    s3 = values["artifactRepository"]["s3"]
    assert s3["keyFormat"].startswith("argo/{{workflow.namespace}}/")
    if plan.declaration.cloud.value == "aws":
        assert s3["bucket"] == plan.outputs["artifactBucket"]
        assert s3["useSDKCreds"] is True
        assert s3["encryptionOptions"]["kmsKeyId"] == plan.outputs["artifactsKmsKeyArn"]
        assert values["useStaticCredentials"] is False
    else:
        assert s3["endpoint"] == "object-store.slipway-data.svc:8333"
        assert s3["accessKeySecret"] == {"name": "artifact-store-argo", "key": "accesskey"}
        assert values["useStaticCredentials"] is True
    assert plan.outputs["artifactRepository"]["s3"] == s3


def test_argo_controllers_run_restricted(plan):
    values = releases(plan)["argo-workflows"]["values"]
    for part in ("controller", "server"):
        assert values[part]["podSecurityContext"]["runAsNonRoot"] is True
        assert values[part]["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert values[part]["securityContext"]["allowPrivilegeEscalation"] is False
        assert values[part]["securityContext"]["capabilities"] == {"drop": ["ALL"]}


# Argo Rollouts and monitoring


def test_rollouts_has_no_dashboard_and_is_scraped(plan):
    values = releases(plan)["argo-rollouts"]["values"]
    assert values["dashboard"] == {"enabled": False}
    assert values["controller"]["metrics"]["serviceMonitor"] == {"enabled": True}
    egress = named(plan, "NetworkPolicy", "slipway-rollouts", "allow-prometheus")["spec"]["egress"][0]
    assert egress["ports"] == [{"protocol": "TCP", "port": 9090}]


def test_monitoring_retention_and_storage_follow_the_declaration(plan):
    spec = releases(plan)["kube-prometheus-stack"]["values"]["prometheus"]["prometheusSpec"]
    monitoring = plan.declaration.monitoring
    assert spec["retention"] == f"{monitoring.retention_days}d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == f"{monitoring.storage_gb}Gi"
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    if plan.declaration.cloud.value == "aws":
        assert claim["storageClassName"] == "slipway-encrypted"


def test_grafana_admin_password_exists_only_as_a_secret(plan):
    grafana = releases(plan)["kube-prometheus-stack"]["values"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in grafana
    assert (
        named(plan, "Secret", "slipway-monitoring", "grafana-admin")["stringData"]["admin-password"]
        == "[secret]"
    )
    assert grafana["initChownData"] == {"enabled": False}


def test_encrypted_storage_class_uses_the_node_volumes_key():
    plan = planned("platform-prod")
    storage = named(plan, "StorageClass", None, "slipway-encrypted")
    assert storage["provisioner"] == "ebs.csi.aws.com"
    assert storage["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "kmsKeyId": plan.outputs["kmsKeyArns"]["node-volumes"],
    }
    assert storage["volumeBindingMode"] == "WaitForFirstConsumer"


# MLflow


def _mlflow(plan: Plan) -> dict[str, Any]:
    return named(plan, "Deployment", "slipway-mlflow", "mlflow")


def test_mlflow_runs_non_root_read_only_with_probes_and_limits(plan):
    deployment = _mlflow(plan)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert set(container["resources"]) == {"requests", "limits"}
    assert deployment["spec"]["replicas"] == plan.declaration.mlflow.replicas


def test_mlflow_requires_authentication_and_takes_credentials_only_from_its_secret(plan):
    (container,) = _mlflow(plan)["spec"]["template"]["spec"]["containers"]
    assert "--app-name=basic-auth" in container["args"]
    env = {e["name"]: e for e in container["env"]}
    for name in ("MLFLOW_BACKEND_STORE_URI", "MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-server"
        assert "value" not in env[name]
    secret = named(plan, "Secret", "slipway-mlflow", "mlflow-server")
    assert set(secret["stringData"].values()) == {"[secret]"}


def test_mlflow_keeps_artifacts_in_the_artifact_store(plan):
    (container,) = _mlflow(plan)["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    if plan.declaration.cloud.value == "aws":
        assert env["MLFLOW_ARTIFACTS_DESTINATION"] == f"s3://{plan.outputs['artifactBucket']}/mlflow"
        assert "AWS_ACCESS_KEY_ID" not in env, "on AWS MLflow uses its Pod Identity role"
    else:
        assert env["MLFLOW_ARTIFACTS_DESTINATION"] == "s3://slipway-artifacts/mlflow"
        assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://object-store.slipway-data.svc:8333"


def test_mlflow_with_replicas_keeps_one_spare_through_disruptions(replan):
    changed = replan("platform-dev", mlflow=lambda mlflow: {**mlflow, "replicas": 3})
    budget = named(changed, "PodDisruptionBudget", "slipway-mlflow", "mlflow")
    assert budget["spec"]["minAvailable"] == 2
    assert len(_mlflow(changed)["spec"]["template"]["spec"]["topologySpreadConstraints"]) == 2
    single = named(planned("platform-dev"), "PodDisruptionBudget", "slipway-mlflow", "mlflow")
    assert single["spec"] == {
        "maxUnavailable": 1,
        "selector": {
            "matchLabels": {"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/part-of": "slipway"}
        },
    }


def test_mlflow_runs_the_platform_runtime_image_unless_declared(replan):
    prod = planned("platform-prod")
    assert prod.outputs["runtimeImage"] == f"{prod.outputs['runtimeImageRepository']}:0.1.0"
    (container,) = _mlflow(prod)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == prod.outputs["runtimeImage"]
    changed = replan(
        "platform-dev", mlflow=lambda mlflow: {**mlflow, "image": "registry.example.com/mlflow:3.18.0"}
    )
    (container,) = _mlflow(changed)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/mlflow:3.18.0"


# Bootstrap


def test_bootstrap_job_reads_the_admin_secret_only_where_it_lives(plan):
    job = named(plan, "Job", "slipway-system", "platform-bootstrap")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "pipelines.bootstrap"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SLIPWAY_DB_USERS"] == "mlflow=mlflow,mlflow_auth;argo=argo"
    if plan.declaration.cloud.value == "aws":
        assert env["SLIPWAY_DB_ADMIN_SECRET_ARN"] == plan.outputs["databaseSecretArn"]
        assert env["SLIPWAY_DB_SSLMODE"] == "require"
    else:
        assert env["SLIPWAY_DB_ADMIN_PASSWORD_FILE"] == "/var/run/slipway/db-admin/password"
    assert pod["serviceAccountName"] == "platform-bootstrap"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_services_start_after_the_bootstrap_job(plan):
    job = next(
        r for r in registrations(plan, "kubernetes:batch/v1:Job") if r.name == "platform-bootstrap-job"
    )
    mlflow = next(
        r for r in registrations(plan, "kubernetes:apps/v1:Deployment") if r.name == "mlflow-deployment"
    )
    workflows = next(r for r in registrations(plan, RELEASE) if r.name == "argo-workflows")
    assert job.urn in mlflow.dependencies
    assert job.urn in workflows.dependencies


# GPU


def test_gpu_components_only_with_a_gpu_pool_and_only_on_gpu_nodes():
    assert not {"nvidia-device-plugin", "dcgm-exporter"} & set(releases(planned("platform-dev")))
    prod = releases(planned("platform-prod"))
    for name in ("nvidia-device-plugin", "dcgm-exporter"):
        values = prod[name]["values"]
        assert prod[name]["namespace"] == "slipway-gpu"
        assert values["nodeSelector"] == GPU_NODE_SELECTOR
        assert values["tolerations"] == [GPU_TOLERATION]
    # The GPU pool's nodes carry the label the selector asks for.
    gpu_group = next(
        g for g in resources_of(planned("platform-prod"), "aws:eks/nodeGroup:NodeGroup") if g["taints"]
    )
    assert gpu_group["labels"].items() >= GPU_NODE_SELECTOR.items()


# BYO data services


def test_byo_data_services_keep_data_on_declared_volumes_and_run_restricted():
    plan = planned("platform-local")
    settings = plan.declaration.kubernetes
    sizes = {
        "postgres": settings.database_storage_gb,
        "object-store": settings.object_store_storage_gb,
        "registry": settings.registry_storage_gb,
    }
    for name, size in sizes.items():
        stateful = named(plan, "StatefulSet", "slipway-data", name)
        (claim,) = stateful["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["resources"]["requests"]["storage"] == f"{size}Gi"
        pod = stateful["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"] + pod.get("initContainers", []):
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_byo_registry_is_behind_a_generated_password_on_the_declared_node_port():
    plan = planned("platform-local")
    service = named(plan, "Service", "slipway-data", "registry")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["nodePort"] == plan.declaration.kubernetes.registry_node_port
    assert (
        named(plan, "Secret", "slipway-data", "registry-credentials")["stringData"]["password"] == "[secret]"
    )
    assert plan.outputs["registryPullAddress"] == "localhost:30500"


def test_no_generated_credential_appears_in_the_plan(plan):
    generated = registrations(plan, "random:index/randomPassword:RandomPassword")
    assert len(generated) >= 5
    text = json.dumps(plan_document(plan))
    for password in generated:
        # The value the offline stand-in gave this password; it must show nowhere in the plan.
        _, state = _random_value(password.type, password.name, password.inputs)
        assert state["result"] not in text, password.name


# Outputs


def test_cluster_outputs_model_stacks_need(plan):
    outputs = plan.outputs
    assert outputs["mlflowUrl"] == "http://mlflow.slipway-mlflow.svc:5000"
    assert outputs["argoServerUrl"] == "https://argo-server.slipway-argo.svc:2746"
    assert outputs["prometheusUrl"] == "http://slipway-prometheus.slipway-monitoring.svc:9090"
    assert outputs["namespaces"]["mlflow"] == "slipway-mlflow"
    assert "s3" in outputs["artifactRepository"]


def test_each_team_gets_an_mlflow_account_made_beside_the_server(plan):
    job = named(plan, "Job", "slipway-mlflow", "mlflow-accounts")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "pipelines.mlflow_accounts"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MLFLOW_TRACKING_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlflow-server",
        "key": "admin-password",
    }
    accounts = named(plan, "Secret", "slipway-mlflow", "mlflow-team-accounts")
    assert set(accounts["stringData"]) == {team.name for team in plan.declaration.teams}
    assert set(accounts["stringData"].values()) == {"[secret]"}
    assert "mlflowTeamPasswords" in plan.secret_output_names
